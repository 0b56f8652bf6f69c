// Source stacks: AttnRes aggregations read growing lists of the same sources (Full AttnRes: the
// embedding and every earlier sublayer output; Block AttnRes: the finished blocks, plus the
// current block's partial sum). When those sources lie one after another at a fixed stride, one
// binding covers whichever prefix an aggregation reads, the kernel finds source i at i * stride,
// and the number of sources is the binding's length over the stride: every layer's aggregation
// is then the same module, one pipeline instead of one per layer.
//
// The stack is the final aggregation's source list (it reads all of them). An aggregation uses it
// when its sources are a prefix of the stack, then at most one value outside it.

import { VALUE_ALIGNMENT } from "../../format/archx.js";
import { numel, type Graph } from "../ir/ir.js";
import type { FusedGroup } from "./fusion.js";
import { groupNodes } from "./fusion.js";
import type { View } from "./views.js";

export interface SourceStack {
  /** the stacked values (bases, never views), in order */
  members: number[];
  /** bytes from one member's start to the next's: its size rounded up to the value alignment */
  stride: number;
}

/** how one aggregation reads its sources: a prefix of a stack, then maybe one value of its own */
export interface StackedRead {
  stack: number;
  /** how many of the stack's members it reads, from the first */
  count: number;
  /** its last source, when that is not a stack member (Block AttnRes's partial sum) */
  extra?: number;
}

export interface SourceStacks {
  stacks: SourceStack[];
  /** by the aggregation's node id */
  reads: Map<number, StackedRead>;
}

/** WebGPU's default maxStorageBufferBindingSize, which every device offers */
export const GUARANTEED_BINDING_BYTES = 2 ** 27;

/** the storage bindings a kernel may use (WebGPU's guaranteed maxStorageBuffersPerShaderStage) */
const MAX_BINDINGS = 8;

/** ops whose first `sources` operands are the aggregation's sources */
const STACKED_OPS = new Set(["attnres", "attnres_grad_sources"]);

/** a value's bytes: its own, or (for a view at offset 0 of the same size) its base's */
function baseOf(graph: Graph, value: number, views: ReadonlyMap<number, View>): number | undefined {
  const view = views.get(value);
  if (!view) return value;
  const size = (id: number) => numel(graph.nodes[id].type.shape);
  return view.byteOffset === 0 && size(view.base) === size(value) ? view.base : undefined;
}

export function findSourceStacks(
  graph: Graph,
  groups: FusedGroup[],
  views: ReadonlyMap<number, View>,
): SourceStacks {
  const none: SourceStacks = { stacks: [], reads: new Map() };
  const final = graph.nodes.find((n) => STACKED_OPS.has(n.op) && n.scope === "final.res");
  if (!final) return none;
  const sourcesOf = (id: number) => {
    const node = graph.nodes[id];
    return node.inputs.slice(0, node.attrs.sources as number).map((v) => baseOf(graph, v, views));
  };
  const members = sourcesOf(final.id);
  const written = new Set(groups.map((g) => g.output));
  const outputs = new Set(Object.values(graph.outputs));
  const elements = (id: number) => numel(graph.nodes[id].type.shape);
  // every member is a kernel's own scratch output, all of one size, none twice
  if (
    members.some((m) => m === undefined || !written.has(m) || outputs.has(m)) ||
    new Set(members).size !== members.length ||
    members.some((m) => elements(m!) !== elements(members[0]!))
  )
    return none;
  const stack = members as number[];
  // a stack is bound as one range: keep it within the binding size every WebGPU device allows, so
  // nothing that ran as separate pool ranges stops fitting (those ranges can split 8 ways)
  const stride = Math.ceil((elements(stack[0]) * 4) / VALUE_ALIGNMENT) * VALUE_ALIGNMENT;
  if (stride * stack.length > GUARANTEED_BINDING_BYTES) return none;
  const position = new Map(stack.map((m, i) => [m, i]));
  const reads = new Map<number, StackedRead>();
  const groupOf = new Map(groups.map((g) => [g.anchor, g]));
  for (const node of graph.nodes) {
    const group = groupOf.get(node.id);
    if (!STACKED_OPS.has(node.op) || !group) continue;
    const sources = sourcesOf(node.id);
    let count = 0;
    while (count < sources.length && position.get(sources[count]!) === count) count++;
    const rest = sources.slice(count);
    if (count === 0 || rest.length > 1 || rest.some((v) => v === undefined || position.has(v))) continue;
    // the kernel binds the prefix as one range, and reads its sources only through it: nothing
    // else it reads (the query, the gain, dy, an epilogue operand) or writes may be a member or
    // share a member's bytes, and everything else must fit the remaining bindings
    const sourceCount = node.attrs.sources as number;
    const inside = groupNodes(group);
    const otherReads = [
      ...node.inputs.slice(sourceCount),
      ...inside.filter((id) => id !== node.id).flatMap((id) => graph.nodes[id].inputs),
    ].filter((v) => !inside.includes(v));
    const others = [...otherReads, group.output];
    if (others.some((v) => position.has(views.get(v)?.base ?? v))) continue;
    const bound = new Set([...(rest.length === 1 ? [node.inputs[count]] : []), ...others]);
    if (1 + bound.size > MAX_BINDINGS) continue;
    reads.set(node.id, { stack: 0, count, ...(rest.length === 1 ? { extra: node.inputs[count] } : {}) });
  }
  return reads.size === 0 ? none : { stacks: [{ members: stack, stride }], reads };
}
