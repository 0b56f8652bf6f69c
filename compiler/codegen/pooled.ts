// Kernels that touch many values (an AttnRes aggregation over dozens of sources, and its backward)
// would need a storage binding per value, and WebGPU only guarantees 8 per shader stage. Such a
// kernel instead binds each pool it touches once, whole, and reads value v of that pool at
// `pool[offset_v + i]`, with the planned offsets baked in as constants. Every access to a value
// (operands, epilogue operands and the output) goes through its pool's binding, so a buffer is
// never bound twice in one dispatch (WebGPU rejects a writable binding that overlaps another).

import type { Graph } from "../ir/ir.js";
import type { BufferPlan, KernelBinding } from "./kernel.js";
import { u32Literal } from "./wgsl.js";

/** the WebGPU default of maxStorageBuffersPerShaderStage: any device runs a kernel within it */
export const MAX_VALUE_BINDINGS = 8;

export class PooledBindingError extends Error {}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

/** rewrites every `name[expr]` to `pool[offset + (expr)]`, matching brackets, and `&name` to `&pool` */
export function rerouteAccesses(code: string, name: string, pool: string, offset: number): string {
  const access = new RegExp(`\\b${escapeRegExp(name)}\\[`, "g");
  let out = "";
  let from = 0;
  for (let match = access.exec(code); match; match = access.exec(code)) {
    const open = match.index + match[0].length;
    let depth = 1;
    let close = open;
    for (; close < code.length && depth > 0; close++) {
      if (code[close] === "[") depth++;
      else if (code[close] === "]") depth--;
    }
    if (depth !== 0) throw new PooledBindingError(`internal: unbalanced brackets after ${name}[`);
    const index = code.slice(open, close - 1);
    out += `${code.slice(from, match.index)}${pool}[${u32Literal(offset)} + (${index})]`;
    from = close;
    access.lastIndex = close;
  }
  out += code.slice(from);
  return out.replace(new RegExp(`&${escapeRegExp(name)}\\b`, "g"), `&${pool}`);
}

export function bindPools(
  graph: Graph,
  plan: BufferPlan,
  values: { value: number; name: string }[],
  code: string,
): { bindings: KernelBinding[]; declarations: string[]; code: string } {
  const slotOf = new Map(plan.slots.map((s) => [s.value, s]));
  const pools: number[] = [];
  const members = new Map<number, string[]>();
  let rewritten = code;
  for (const { value, name } of values) {
    const slot = slotOf.get(value);
    if (!slot) throw new PooledBindingError(`internal: value %${value} has no buffer slot`);
    const dtype = graph.nodes[value].type.dtype;
    if (dtype !== "f32")
      throw new PooledBindingError(
        `internal: a pooled kernel reads %${value} of type ${dtype}; pools bind as f32`,
      );
    if (!pools.includes(slot.pool)) pools.push(slot.pool);
    const usage = plan.pools[slot.pool].usage;
    const poolName = `${usage}_pool`;
    rewritten = rerouteAccesses(rewritten, name, poolName, slot.offset / 4);
    members.set(slot.pool, [...(members.get(slot.pool) ?? []), `${name} %${value} at ${slot.offset / 4}`]);
  }
  pools.sort((a, b) => a - b);
  return {
    bindings: pools.map((pool) => ({ pool, access: "read_write" as const })),
    declarations: pools.map(
      (pool, i) =>
        `@group(0) @binding(${i}) var<storage, read_write> ${plan.pools[pool].usage}_pool: array<f32>; // ${members.get(pool)!.join(", ")}`,
    ),
    code: rewritten,
  };
}
