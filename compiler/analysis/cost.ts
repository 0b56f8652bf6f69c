// Forward FLOPs of one graph node. Counted: matmuls (2·m·n·k), attention's QK and PV products over
// the causal pairs only, and the AttnRes aggregation (key RMSNorm, query·key logits, weighted sum).
// Not counted: elementwise ops, norms, softmaxes and the loss — a few FLOPs per element, small next
// to the products and the same for every residual variant.

import type { Graph, Node } from "../ir/ir.js";
import { numel } from "../ir/ir.js";
import { rowsOf } from "../ir/ops.js";

export interface FlopBreakdown {
  matmul: number;
  attention: number;
  attnres: number;
}

function operandShape(graph: Graph, node: Node, index: number): number[] {
  return graph.nodes[node.inputs[index]].type.shape;
}

function matmulFlops(graph: Graph, node: Node): number {
  const a = operandShape(graph, node, 0);
  // the contracted dimension is whichever side of a is not kept in the result
  const k = node.attrs.ta === true ? rowsOf(a) : a[a.length - 1];
  return 2 * numel(node.type.shape) * k;
}

function attentionFlops(node: Node): number {
  const [batch, seq] = node.type.shape;
  const heads = node.attrs.heads as number;
  const headDim = node.attrs.head_dim as number;
  const causalPairs = (seq * (seq + 1)) / 2;
  // one multiply-add per dimension for q·k, and again for weighting v
  return batch * heads * causalPairs * 2 * headDim * 2;
}

function attnresFlops(node: Node): number {
  const sources = node.attrs.sources as number;
  const d = node.type.shape[node.type.shape.length - 1];
  const positions = rowsOf(node.type.shape);
  const mix = 2 * d;
  if (node.op === "attnres_static") return positions * sources * mix;
  // key RMSNorm: square-and-sum, scale, gain (3 per element); logit: 2 per element
  const keyNorm = node.attrs.key_norm === true ? 3 * d : 0;
  return positions * sources * (keyNorm + 2 * d + mix);
}

export function nodeFlops(graph: Graph, node: Node): FlopBreakdown {
  const zero = { matmul: 0, attention: 0, attnres: 0 };
  switch (node.op) {
    case "matmul":
      return { ...zero, matmul: matmulFlops(graph, node) };
    case "attention":
      return { ...zero, attention: attentionFlops(node) };
    case "attnres":
    case "attnres_static":
      return { ...zero, attnres: attnresFlops(node) };
    default:
      return zero;
  }
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
