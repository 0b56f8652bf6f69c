// Buffer planning: every value a kernel reads or writes gets a byte range in one of four pools.
// Parameters, inputs and graph outputs each have their own pool (they outlive a forward pass);
// everything else shares a scratch pool in which values whose lifetimes do not overlap reuse
// the same bytes. Offsets are aligned to the storage-binding offset alignment. The members of a
// source stack (passes/stacks.ts) are placed as one block, one after another at a fixed stride,
// live from the first member's write to the last read of any of them.

import { VALUE_ALIGNMENT } from "../../format/archx.js";
import type { Graph } from "../ir/ir.js";
import { numel } from "../ir/ir.js";
import type { BufferPlan, BufferSlot } from "../codegen/kernel.js";
import type { FusedGroup } from "./fusion.js";
import { groupReads } from "./fusion.js";
import type { View } from "./views.js";
import type { SourceStack } from "./stacks.js";

/** WebGPU's default (and largest allowed) minStorageBufferOffsetAlignment: the format requires it */
export const STORAGE_OFFSET_ALIGNMENT = VALUE_ALIGNMENT;

export const POOL = { param: 0, input: 1, output: 2, scratch: 3, grad: 4 } as const;

/** graph outputs named `grad.<param>` (from autodiff) go to the grad pool */
export { GRAD_PREFIX } from "../../format/training.js";
import { GRAD_PREFIX } from "../../format/training.js";

function alignUp(n: number, alignment: number): number {
  return Math.ceil(n / alignment) * alignment;
}

export function valueBytes(graph: Graph, value: number): number {
  // a scalar still occupies one element; every dtype here is 4 bytes wide
  return Math.max(1, numel(graph.nodes[value].type.shape)) * 4;
}

interface Lifetime {
  value: number;
  first: number; // step that writes it
  last: number; // last step that reads it (>= first)
}

function scratchLifetimes(
  graph: Graph,
  groups: FusedGroup[],
  pinned: Set<number>,
  views: ReadonlyMap<number, View>,
): Lifetime[] {
  const lifetimes = new Map<number, Lifetime>();
  groups.forEach((group, step) => {
    if (!pinned.has(group.output))
      lifetimes.set(group.output, { value: group.output, first: step, last: step });
    // reading a view reads its base's bytes, so the base stays live
    for (const v of groupReads(graph, group)) {
      const life = lifetimes.get(views.get(v)?.base ?? v);
      if (life) life.last = Math.max(life.last, step);
    }
  });
  return [...lifetimes.values()];
}

/** first-fit: the lowest aligned offset where `size` bytes overlap no live range (sorted by offset) */
function firstFit(live: { offset: number; size: number }[], size: number, alignment: number): number {
  let offset = 0;
  for (const range of live) {
    if (offset + size <= range.offset) break;
    offset = Math.max(offset, alignUp(range.offset + range.size, alignment));
  }
  return offset;
}

export function planBuffers(
  graph: Graph,
  groups: FusedGroup[],
  alignment = STORAGE_OFFSET_ALIGNMENT,
  views: ReadonlyMap<number, View> = new Map(),
  stacks: readonly SourceStack[] = [],
): BufferPlan {
  const slots: BufferSlot[] = [];
  const placed = new Set<number>();
  const poolEnds = [0, 0, 0, 0, 0];
  const place = (value: number, pool: number) => {
    const size = valueBytes(graph, value);
    slots.push({ value, pool, offset: poolEnds[pool], size });
    placed.add(value);
    poolEnds[pool] = alignUp(poolEnds[pool] + size, alignment);
  };

  const outputs = new Set(Object.values(graph.outputs));
  for (const node of graph.nodes) if (node.op === "param") place(node.id, POOL.param);
  // gradients in parameter order, so the grad pool's layout is the param pool's, offset for offset
  const differentiated = Object.keys(graph.outputs).some((name) => name.startsWith(GRAD_PREFIX));
  for (const node of graph.nodes) {
    if (node.op !== "param" || !differentiated) continue;
    const grad = graph.outputs[GRAD_PREFIX + String(node.attrs.name)];
    if (grad === undefined) {
      poolEnds[POOL.grad] = alignUp(poolEnds[POOL.grad] + valueBytes(graph, node.id), alignment);
      continue; // no gradient flows to it: its range stays zero
    }
    if (placed.has(grad))
      throw new Error(
        `internal: gradient value %${grad} of ${String(node.attrs.name)} is already placed; give it its own node`,
      );
    place(grad, POOL.grad);
  }
  for (const node of graph.nodes) if (node.op === "input") place(node.id, POOL.input);
  for (const value of [...outputs].sort((a, b) => a - b)) if (!placed.has(value)) place(value, POOL.output);

  const pinned = new Set(slots.map((s) => s.value));
  const live: (BufferSlot & { last: number })[] = [];
  let scratchEnd = 0;
  // a stack is one block: its lifetime spans its members', and it is placed as one value would be
  const lifetimes = scratchLifetimes(graph, groups, pinned, views);
  const stackOf = new Map<number, number>();
  stacks.forEach((stack, k) => stack.members.forEach((m) => stackOf.set(m, k)));
  const blocks: (Lifetime & { stack?: number })[] = lifetimes.filter((l) => !stackOf.has(l.value));
  stacks.forEach((stack, k) => {
    const members = lifetimes.filter((l) => stackOf.get(l.value) === k);
    if (members.length !== stack.members.length)
      throw new Error(`internal: stack ${k} has members that no kernel writes into scratch`);
    const first = Math.min(...members.map((l) => l.first));
    blocks.push({ value: stack.members[0], first, last: Math.max(...members.map((l) => l.last)), stack: k });
  });
  for (const life of blocks.sort((a, b) => a.first - b.first)) {
    // a value read by the step that writes `life.value` is still live then, so only strictly earlier ends free
    for (let i = live.length - 1; i >= 0; i--) if (live[i].last < life.first) live.splice(i, 1);
    const stack = life.stack === undefined ? undefined : stacks[life.stack];
    const stride = stack?.stride ?? 0;
    if (stack && (stride % alignment !== 0 || stride < valueBytes(graph, stack.members[0])))
      throw new Error(`internal: stack stride ${stride} does not hold aligned members`);
    const size = stack ? stride * stack.members.length : valueBytes(graph, life.value);
    const block = { value: life.value, pool: POOL.scratch, offset: firstFit(live, size, alignment), size };
    // keep `live` sorted by offset, as firstFit walks it
    let at = live.length;
    while (at > 0 && live[at - 1].offset > block.offset) at--;
    live.splice(at, 0, { ...block, last: life.last });
    if (stack)
      stack.members.forEach((value, i) =>
        slots.push({
          value,
          pool: POOL.scratch,
          offset: block.offset + i * stride,
          size: valueBytes(graph, value),
        }),
      );
    else slots.push(block);
    scratchEnd = Math.max(scratchEnd, alignUp(block.offset + size, alignment));
  }
  poolEnds[POOL.scratch] = scratchEnd;

  // a view takes its window of its base's bytes, wherever the base was placed
  const slotOf = new Map(slots.map((s) => [s.value, s]));
  for (const [value, view] of views) {
    const base = slotOf.get(view.base);
    if (!base) throw new Error(`internal: view %${value} of %${view.base}, which has no buffer slot`);
    const offset = base.offset + view.byteOffset;
    slots.push({ value, pool: base.pool, offset, size: valueBytes(graph, value), viewOf: view.base });
  }

  const usages = ["param", "input", "output", "scratch", "grad"] as const;
  return {
    pools: usages.map((usage, i) => ({ size: Math.max(poolEnds[i], alignment), usage })),
    slots: slots.sort((a, b) => a.value - b.value),
  };
}

/** bytes the scratch pool would need without reuse, for reporting what planning saved */
export function unsharedScratchBytes(plan: BufferPlan): number {
  return plan.slots
    .filter((s) => s.pool === POOL.scratch && s.viewOf === undefined)
    .reduce((sum, s) => sum + alignUp(s.size, STORAGE_OFFSET_ALIGNMENT), 0);
}
