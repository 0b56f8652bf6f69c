// Kernels that touch many values (an AttnRes aggregation over dozens of sources, and its backward)
// would need a storage binding per value, and WebGPU only guarantees 8 per shader stage. Such a
// kernel instead binds byte ranges of the pools its values live in, and reads value v at
// `range[offset_v + i]`, with the planned offsets (relative to the range) baked in as constants.
// Every access to a value (operands, epilogue operands and the output) goes through its range's
// binding, so no bytes are bound twice in one dispatch (WebGPU rejects a writable binding that
// overlaps another; disjoint ranges of one buffer are fine).
//
// A range runs from its lowest member's offset to its highest member's end. The values of one
// pool are split into as many ranges as the 8 bindings allow, cut so that the widest range is as
// narrow as possible: a pool (the scratch pool of a deep training step, say) may be far larger
// than the device's maxStorageBufferBindingSize, and the sources of a Full AttnRes aggregation
// are spread across all of it, between the activations saved for the backward pass.

import type { Graph } from "../ir/ir.js";
import type { BufferPlan, BufferSlot, KernelBinding } from "./kernel.js";
import { u32Literal } from "./wgsl.js";

/** the WebGPU default of maxStorageBuffersPerShaderStage: any device runs a kernel within it */
export const MAX_VALUE_BINDINGS = 8;

export class PooledBindingError extends Error {}

/** where a value's accesses go: a range binding's name and the value's element offset in it */
export interface Route {
  binding: string;
  offset: number;
}

/**
 * rewrites every `name[expr]` of a routed name to `binding[offset + (expr)]`, matching brackets
 * (accesses inside `expr` are rewritten too), and `&name` to `&binding`; one pass over the code
 */
export function rerouteAccesses(code: string, routes: ReadonlyMap<string, Route>): string {
  if (routes.size === 0) return code;
  // any identifier followed by `[`, looked up: faster than an alternation of a hundred names
  const access = /\b([A-Za-z_]\w*)\[/g;
  const rewrite = (text: string): string => {
    let out = "";
    let from = 0;
    access.lastIndex = 0;
    for (let match = access.exec(text); match; match = access.exec(text)) {
      const route = routes.get(match[1]);
      if (!route) continue;
      const open = match.index + match[0].length;
      let depth = 1;
      let close = open;
      for (; close < text.length && depth > 0; close++) {
        if (text[close] === "[") depth++;
        else if (text[close] === "]") depth--;
      }
      if (depth !== 0) throw new PooledBindingError(`internal: unbalanced brackets after ${match[1]}[`);
      const index = rewrite(text.slice(open, close - 1));
      out += `${text.slice(from, match.index)}${route.binding}[${u32Literal(route.offset)} + (${index})]`;
      from = close;
      access.lastIndex = close;
    }
    return out + text.slice(from);
  };
  // the recursion shares the regex: each level sets lastIndex before it resumes its own text
  const rewritten = rewrite(code);
  return rewritten.replace(/&([A-Za-z_]\w*)\b/g, (whole, name: string) => {
    const route = routes.get(name);
    return route ? `&${route.binding}` : whole;
  });
}

interface Member {
  value: number;
  name: string;
  offset: number;
  end: number;
}

/** the fewest contiguous groups of `sorted` (by offset) whose spans are each at most `width` bytes */
function groupsWithin(sorted: Member[], width: number): Member[][] {
  const groups: Member[][] = [];
  for (const member of sorted) {
    const group = groups[groups.length - 1];
    if (group && member.end - group[0].offset <= width) group.push(member);
    else groups.push([member]);
  }
  return groups;
}

const spanOf = (group: Member[]): number => Math.max(...group.map((m) => m.end)) - group[0].offset;

/** `sorted` cut into at most `count` contiguous groups whose widest span is as small as possible */
function narrowestGroups(sorted: Member[], count: number): Member[][] {
  let low = Math.max(...sorted.map((m) => m.end - m.offset));
  let high = spanOf(sorted);
  // the widest span is a whole number of 4-byte words; bisect on it
  while (low < high) {
    const middle = low + Math.floor((high - low) / 8) * 4;
    if (groupsWithin(sorted, middle).length <= count) high = middle;
    else low = middle + 4;
  }
  return groupsWithin(sorted, high);
}

const slotIndex = new WeakMap<BufferPlan, Map<number, BufferSlot>>();

/** a plan's slots by value, built once per plan (every pooled kernel of a program looks values up) */
function slotsByValue(plan: BufferPlan): Map<number, BufferSlot> {
  let index = slotIndex.get(plan);
  if (!index) {
    index = new Map(plan.slots.map((s) => [s.value, s]));
    slotIndex.set(plan, index);
  }
  return index;
}

export function bindPools(
  graph: Graph,
  plan: BufferPlan,
  values: { value: number; name: string }[],
  code: string,
): { bindings: KernelBinding[]; declarations: string[]; code: string } {
  const slotOf = slotsByValue(plan);
  const byPool = new Map<number, Member[]>();
  for (const { value, name } of values) {
    const slot = slotOf.get(value);
    if (!slot) throw new PooledBindingError(`internal: value %${value} has no buffer slot`);
    const dtype = graph.nodes[value].type.dtype;
    if (dtype !== "f32")
      throw new PooledBindingError(
        `internal: a pooled kernel reads %${value} of type ${dtype}; pools bind as f32`,
      );
    const member = { value, name, offset: slot.offset, end: slot.offset + slot.size };
    const members = byPool.get(slot.pool);
    if (members) members.push(member);
    else byPool.set(slot.pool, [member]);
  }
  const pools = [...byPool.keys()].sort((a, b) => a - b);
  if (pools.length > MAX_VALUE_BINDINGS)
    throw new PooledBindingError(`internal: a kernel touches ${pools.length} pools`);
  for (const members of byPool.values()) members.sort((a, b) => a.offset - b.offset);

  // one range per pool, then each spare binding to the pool whose widest range is widest (a pool
  // may use fewer ranges than it is allowed when fewer reach the same width)
  const allowed = new Map(pools.map((pool) => [pool, 1]));
  const split = new Map(pools.map((pool) => [pool, [byPool.get(pool)!]]));
  const widest = (pool: number) => Math.max(...split.get(pool)!.map(spanOf));
  for (let spare = MAX_VALUE_BINDINGS - pools.length; spare > 0; spare--) {
    const candidates = pools.filter((pool) => allowed.get(pool)! < byPool.get(pool)!.length);
    if (candidates.length === 0) break;
    const pool = candidates.reduce((a, b) => (widest(b) > widest(a) ? b : a));
    allowed.set(pool, allowed.get(pool)! + 1);
    split.set(pool, narrowestGroups(byPool.get(pool)!, allowed.get(pool)!));
  }

  const bindings: KernelBinding[] = [];
  const declarations: string[] = [];
  const routes = new Map<string, Route>();
  for (const pool of pools) {
    const groups = split.get(pool)!;
    groups.forEach((group, g) => {
      const usage = plan.pools[pool].usage;
      const rangeName = groups.length === 1 ? `${usage}_pool` : `${usage}${g}_pool`;
      const start = group[0].offset;
      const listed: string[] = [];
      for (const { value, name, offset } of group) {
        routes.set(name, { binding: rangeName, offset: (offset - start) / 4 });
        listed.push(`${name} %${value} at ${(offset - start) / 4}`);
      }
      declarations.push(
        `@group(0) @binding(${bindings.length}) var<storage, read_write> ${rangeName}: array<f32>; // ${listed.join(", ")}`,
      );
      const values = group.map((m) => m.value);
      bindings.push({ pool, access: "read_write", offset: start, size: spanOf(group), values });
    });
  }
  return { bindings, declarations, code: rerouteAccesses(code, routes) };
}
