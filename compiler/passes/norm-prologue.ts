// Norms folded into the products that read them: an rmsnorm whose every reader is a matmul taking
// it as a (not transposed) becomes part of each of those products (rmsnorm_matmul), which scale b
// by the gain and each row by its inverse RMS, gathered from the values they read anyway. The
// normed activation is then never written nor read back, and its kernel is gone.
//
// Only for programs without a backward: there the backward's weight gradient reads the normed
// activation, which must exist anyway. The forward-only programs (evaluation, inference, decoding)
// are where it pays: a decoding step's q, k and v projections read one norm.

import type { Graph, Node } from "../ir/ir.js";
import { GRAD_PREFIX } from "../../format/training.js";

/** the rmsnorm nodes every reader of which is a product taking the norm as its (untransposed) a */
function foldableNorms(graph: Graph): Set<number> {
  const readers = new Map<number, Node[]>();
  for (const node of graph.nodes)
    for (const input of new Set(node.inputs)) readers.set(input, [...(readers.get(input) ?? []), node]);
  const outputs = new Set(Object.values(graph.outputs));
  const foldable = new Set<number>();
  for (const node of graph.nodes) {
    if (node.op !== "rmsnorm" || outputs.has(node.id)) continue;
    const using = readers.get(node.id) ?? [];
    const products = using.every(
      (r) => r.op === "matmul" && r.inputs[0] === node.id && r.inputs[1] !== node.id && r.attrs.ta !== true,
    );
    if (using.length > 0 && products) foldable.add(node.id);
  }
  return foldable;
}

/** the graph with its foldable norms folded; the graph itself when there are none */
export function foldNormsIntoProducts(graph: Graph): Graph {
  const folded = foldableNorms(graph);
  if (folded.size === 0) return graph;
  const renumbered = new Map<number, number>();
  const nodes: Node[] = [];
  for (const node of graph.nodes) {
    if (folded.has(node.id)) continue;
    const norm = node.op === "matmul" && folded.has(node.inputs[0]) ? graph.nodes[node.inputs[0]] : undefined;
    const id = nodes.length;
    renumbered.set(node.id, id);
    const inputs = norm ? [norm.inputs[0], norm.inputs[1], node.inputs[1]] : node.inputs;
    nodes.push({
      ...node,
      id,
      op: norm ? "rmsnorm_matmul" : node.op,
      inputs: inputs.map((input) => renumbered.get(input)!),
      attrs: norm ? { eps: norm.attrs.eps, tb: node.attrs.tb === true } : node.attrs,
    });
  }
  const outputs = Object.fromEntries(
    Object.entries(graph.outputs).map(([name, id]) => [name, renumbered.get(id)!]),
  );
  return { ...graph, nodes, outputs };
}

/** whether `graph` has a backward (autodiff's gradients are its outputs "grad.<param>") */
export function hasBackward(graph: Graph): boolean {
  return Object.keys(graph.outputs).some((name) => name.startsWith(GRAD_PREFIX));
}
