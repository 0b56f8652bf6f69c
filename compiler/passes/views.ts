// Views: a node whose result is a window of its operand's bytes needs no kernel. The Full AttnRes
// backward writes every source's gradient into one packed tensor and slices it apart (one slice
// per source per aggregation, so their number grows with the square of depth); attention's
// backward packs dK and dV the same way; autodiff reshapes gradients to their operands' shapes.
// When the window starts at an offset the device can bind (the storage-offset alignment), the
// result is given the window's bytes instead of a copy, and readers bind it directly.
//
// A view must not outlive its bytes: the buffer planner keeps the base value live until the last
// read of any view into it.

import type { Graph, Node } from "../ir/ir.js";
import type { FusedGroup } from "./fusion.js";
import { groupReads } from "./fusion.js";
import { numel } from "../ir/ir.js";

export interface View {
  /** the value that owns the bytes (never itself a view) */
  base: number;
  /** where the view starts inside the base, in bytes */
  byteOffset: number;
}

/** for each op that can be a view, the byte offset of its result inside its single operand */
const VIEW_RULES: Record<string, (node: Node) => number> = {
  // x[index] along the leading dim: contiguous, index * (elements of one entry) in
  slice: (node) => (node.attrs.index as number) * numel(node.type.shape) * 4,
  // row-major, same elements in the same order
  reshape: () => 0,
};

/**
 * the nodes that become views, by value id; graph outputs always get their own bytes, and so do
 * the nodes in `copied` (see viewConflicts)
 */
export function findViews(
  graph: Graph,
  alignment: number,
  copied: ReadonlySet<number> = new Set(),
): Map<number, View> {
  const outputs = new Set(Object.values(graph.outputs));
  const views = new Map<number, View>();
  for (const node of graph.nodes) {
    const rule = VIEW_RULES[node.op];
    if (!rule || outputs.has(node.id) || copied.has(node.id) || node.type.dtype !== "f32") continue;
    const operand = node.inputs[0];
    const inner = views.get(operand);
    const view = inner
      ? { base: inner.base, byteOffset: inner.byteOffset + rule(node) }
      : { base: operand, byteOffset: rule(node) };
    if (view.byteOffset % alignment !== 0) continue;
    views.set(node.id, view);
  }
  return views;
}

/**
 * Views that a kernel would bind together with bytes they share: a view and its base, or two
 * overlapping views of one base, read by the same fused group. WebGPU rejects a dispatch whose
 * writable bindings overlap (every binding is declared read_write), so these must be copies.
 */
export function viewConflicts(
  graph: Graph,
  groups: FusedGroup[],
  views: ReadonlyMap<number, View>,
): Set<number> {
  const conflicts = new Set<number>();
  const bytes = (value: number) => Math.max(1, numel(graph.nodes[value].type.shape)) * 4;
  for (const group of groups) {
    const touched = [...new Set([...groupReads(graph, group), group.output])].map((value) => {
      const view = views.get(value);
      const start = view?.byteOffset ?? 0;
      return { value, owner: view?.base ?? value, start, end: start + bytes(value) };
    });
    for (let i = 0; i < touched.length; i++)
      for (let j = i + 1; j < touched.length; j++) {
        const [a, b] = [touched[i], touched[j]];
        if (a.owner !== b.owner || a.end <= b.start || b.end <= a.start) continue;
        for (const value of [a.value, b.value]) if (views.has(value)) conflicts.add(value);
      }
  }
  return conflicts;
}
