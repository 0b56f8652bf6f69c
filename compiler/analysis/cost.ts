// Forward FLOPs of a node and of a graph, from each op's FLOP rule in the op registry
// (compiler/ops/registry.ts; the rules are in flops.ts).

import type { Graph, Node } from "../ir/ir.js";
import { flopRule } from "../ops/registry.js";
import type { FlopBreakdown } from "./flops.js";

export type { FlopBreakdown } from "./flops.js";

export function nodeFlops(graph: Graph, node: Node): FlopBreakdown {
  return flopRule(node.op)(graph, node);
}

export function graphFlops(graph: Graph): FlopBreakdown {
  const total = { matmul: 0, attention: 0, attnres: 0 };
  for (const node of graph.nodes) {
    const f = nodeFlops(graph, node);
    total.matmul += f.matmul;
    total.attention += f.attention;
    total.attnres += f.attnres;
  }
  return total;
}
