// Small WGSL building blocks shared by every kernel template: literals, shape constants,
// dispatch-size helpers and the index arithmetic that lets a kernel outgrow one dispatch dimension.

// the dispatch-grid convention is the format's: the runtime sizes some dispatches by it too
export { MAX_WORKGROUPS_PER_DIMENSION, spreadWorkgroups } from "../../format/dispatch.js";

export function f32Literal(value: number): string {
  if (!Number.isFinite(value)) throw new Error(`internal: cannot write ${value} as a WGSL f32 constant`);
  const text = String(value);
  return /[.e]/.test(text) ? text : `${text}.0`;
}

export function u32Literal(value: number): string {
  if (!Number.isInteger(value) || value < 0 || value > 0xffffffff)
    throw new Error(`internal: ${value} is not a u32`);
  return `${value}u`;
}

/** `const NAME: u32 = ...u;` lines, in the given order so the output is stable */
export function u32Constants(constants: Record<string, number>): string {
  return Object.entries(constants)
    .map(([name, value]) => `const ${name}: u32 = ${u32Literal(value)};`)
    .join("\n");
}

export function nextPowerOfTwo(n: number): number {
  let p = 1;
  while (p < n) p *= 2;
  return p;
}

export function ceilDiv(a: number, b: number): number {
  return Math.ceil(a / b);
}

/** entry-point parameters every spread kernel takes */
export const SPREAD_BUILTINS =
  "@builtin(workgroup_id) workgroup: vec3u, @builtin(num_workgroups) workgroup_count: vec3u, @builtin(local_invocation_index) lane: u32";

/** WGSL expression: the linear workgroup number under spreadWorkgroups */
export const LINEAR_WORKGROUP = "(workgroup.y * workgroup_count.x + workgroup.x)";

/**
 * A tree sum over the workgroup, for kernels that give one row to one workgroup. `size` must be a
 * power of two; every invocation must call it (it holds barriers), and all receive the total.
 */
export function workgroupSumHelper(type: "f32" | "vec2f", size: number): string {
  return `var<workgroup> partial_sums: array<${type}, ${size}>;

fn workgroup_sum(value: ${type}, lane: u32) -> ${type} {
  partial_sums[lane] = value;
  workgroupBarrier();
  for (var stride = ${size / 2}u; stride > 0u; stride = stride / 2u) {
    if (lane < stride) {
      partial_sums[lane] = partial_sums[lane] + partial_sums[lane + stride];
    }
    workgroupBarrier();
  }
  let total = partial_sums[0];
  workgroupBarrier();
  return total;
}`;
}

/**
 * Tree sums over segments of `size` invocations, for kernels that give one row to each segment of
 * a workgroup: `lane` is the invocation's place in its segment. Like workgroupSumHelper, every
 * invocation must call it, and all of a segment receive its total.
 */
export function segmentSumHelper(type: "f32" | "vec2f", size: number, segments: number): string {
  return `var<workgroup> partial_sums: array<${type}, ${size * segments}>;

fn segment_sum(value: ${type}, lane: u32, segment: u32) -> ${type} {
  let first = segment * ${size}u;
  partial_sums[first + lane] = value;
  workgroupBarrier();
  for (var stride = ${size / 2}u; stride > 0u; stride = stride / 2u) {
    if (lane < stride) {
      partial_sums[first + lane] = partial_sums[first + lane] + partial_sums[first + lane + stride];
    }
    workgroupBarrier();
  }
  let total = partial_sums[first];
  workgroupBarrier();
  return total;
}`;
}

/**
 * WGSL expression for coordinate `axis` of a row-major tensor of `shape`, given the flat index
 * expression `flat`: (flat / stride) % extent, with the trivial divisions left out.
 */
export function coordinateOf(flat: string, shape: readonly number[], axis: number): string {
  let stride = 1;
  for (let d = axis + 1; d < shape.length; d++) stride *= shape[d];
  const quotient = stride === 1 ? flat : `(${flat} / ${u32Literal(stride)})`;
  return axis === 0 ? quotient : `(${quotient} % ${u32Literal(shape[axis])})`;
}
