// Fusion: partitions a graph's computing nodes into kernel groups. A group is one anchor node
// (computed by its kernel template) followed by a chain of elementwise nodes applied to each
// element as it is written (an epilogue: matmul -> gelu, matmul -> add residual, ...). Whether a
// node may join its producer's group is decided by each op's fusion rule in the op registry
// (compiler/ops/registry.ts, rules in fusion-rules.ts), not by ad-hoc tests.

import type { Graph, Node } from "../ir/ir.js";
import { numel } from "../ir/ir.js";
import { fusionRule as ruleFor } from "../ops/registry.js";

export interface FusedGroup {
  /** the node whose kernel template drives the group */
  anchor: number;
  /** elementwise nodes applied, in order, to each element of the anchor's result */
  epilogue: number[];
  /** the only value the group writes to memory: the last epilogue node, or the anchor */
  output: number;
}

export interface FusionOptions {
  /** false: one kernel per op, for comparison and debugging */
  enabled: boolean;
  /** nodes that are views of another value's bytes (passes/views.ts): they get no kernel */
  views?: ReadonlyMap<number, unknown>;
}

function consumerCounts(graph: Graph): number[] {
  const counts = new Array<number>(graph.nodes.length).fill(0);
  for (const node of graph.nodes) for (const v of new Set(node.inputs)) counts[v]++;
  return counts;
}

function isComputed(node: Node): boolean {
  return node.op !== "input" && node.op !== "param";
}

/** groups in execution order (by the id of the value each writes, which is topological) */
export function fuseGraph(graph: Graph, options: FusionOptions): FusedGroup[] {
  const consumers = consumerCounts(graph);
  const graphOutputs = new Set(Object.values(graph.outputs));
  const groupWriting = new Map<number, FusedGroup>();
  const groups: FusedGroup[] = [];

  for (const node of graph.nodes) {
    if (!isComputed(node) || options.views?.has(node.id)) continue;
    const host = options.enabled ? findHost(graph, node, groupWriting, consumers, graphOutputs) : undefined;
    if (host) {
      groupWriting.delete(host.output);
      host.epilogue.push(node.id);
      host.output = node.id;
      groupWriting.set(node.id, host);
    } else {
      const group: FusedGroup = { anchor: node.id, epilogue: [], output: node.id };
      groups.push(group);
      groupWriting.set(node.id, group);
    }
  }
  return groups.sort((a, b) => a.output - b.output);
}

/** the producer group `node` may join as its next epilogue step, if any */
function findHost(
  graph: Graph,
  node: Node,
  groupWriting: Map<number, FusedGroup>,
  consumers: number[],
  graphOutputs: Set<number>,
): FusedGroup | undefined {
  if (!ruleFor(node.op).joinsProducer) return undefined;
  for (const operand of node.inputs) {
    const group = groupWriting.get(operand);
    if (!group) continue;
    const producer = graph.nodes[operand];
    // the intermediate must vanish: nobody else reads it and nobody asked for it
    if (consumers[operand] !== 1 || graphOutputs.has(operand)) continue;
    // the epilogue runs per element of the producer's result, so the shapes must agree
    if (producer.type.dtype !== "f32" || numel(producer.type.shape) !== numel(node.type.shape)) continue;
    if (!ruleFor(graph.nodes[group.anchor].op).takesEpilogue) continue;
    return group;
  }
  return undefined;
}

/** every node a group computes, anchor first */
export function groupNodes(group: FusedGroup): number[] {
  return [group.anchor, ...group.epilogue];
}

/** values a group reads from memory, each once, in first-use order */
export function groupReads(graph: Graph, group: FusedGroup): number[] {
  const inside = new Set(groupNodes(group));
  const reads: number[] = [];
  for (const id of groupNodes(group))
    for (const v of graph.nodes[id].inputs) if (!inside.has(v) && !reads.includes(v)) reads.push(v);
  return reads;
}
