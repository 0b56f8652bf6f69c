// Depth statistics of a trained model, for the ablation report: the AttnRes depth-attention weights
// of every aggregation averaged over tokens (the paper's sublayer x source heatmap), and the RMS of
// each sublayer's input h_l and branch output f_l(Norm(h_l)).
//
// It runs the forward graph in the float64 reference interpreter and reads the values off the
// nodes, so it sees exactly what lowering built. Cost: the interpreter is plain JS float64, about
// 2 x parameters x tokens flops at some 10^8 flop/s, and it holds every node's value in memory;
// pass a few sequences (e.g. 4 x 64 tokens of the tiny model take about a second), not a dataset.

import type { Graph, Node } from "../compiler/ir/ir.js";
import { lowerModel } from "../compiler/ir/lower.js";
import type { ModelSpec, ResidualSpec } from "../format/spec.js";
import { blockPartition, residualLabel } from "../format/spec.js";
import { rowsOf } from "../compiler/ir/ops.js";
import { interpret } from "../compiler/reference/interpreter.js";
import { depthWeightsAt } from "../compiler/ops/attnres/reference.js";
import { denseSources } from "../compiler/ir/lower/dense.js";
import { fromInts, type Tensor } from "../compiler/reference/tensor.js";

export interface DepthAggregation {
  /** the sublayer whose input it forms ("layers.0.attn"), or "final" (what the final norm reads);
   * for DenseFormer, the layer it follows ("after layers.2") */
  name: string;
  /** what each source is: "embedding", a sublayer's output ("layers.0.mlp"), or for Block
   * AttnRes "block 1", "block 2", ... and "partial" (the running sum of the current block) */
  sources: string[];
  /** alpha per source, averaged over every token (DenseFormer's are learned scalars, of any sign) */
  weights: number[];
}

export interface DepthProbe {
  /** "add", "attn", "attn(block=2)", "attn(block=2, key_norm=false)", ... */
  residual: string;
  /** tokens the statistics average over */
  tokens: number;
  /** in depth order, "final" last; empty for the standard residual */
  aggregations: DepthAggregation[];
  /** in depth order: RMS of the input h_l and of the branch output f_l(Norm(h_l)) */
  sublayers: { name: string; inputRms: number; outputRms: number }[];
  /** RMS of what the final norm reads */
  finalRms: number;
}

export function rms(data: ArrayLike<number>): number {
  let sum = 0;
  for (let i = 0; i < data.length; i++) sum += data[i] * data[i];
  return Math.sqrt(sum / data.length);
}

const AGGREGATION_OPS = new Set(["attnres", "attnres_static"]);
const NORM_OPS = new Set(["rmsnorm", "layernorm"]);

/** The nodes that make up one sublayer, found by the scopes lowering gives them. */
interface SublayerNodes {
  name: string;
  /** the PreNorm: its first operand is h_l */
  norm: Node;
  /** f_l(Norm(h_l)) */
  output: Node;
  /** the aggregation forming h_l (AttnRes only) */
  aggregation?: Node;
}

function inScope(node: Node, scope: string): boolean {
  return node.scope === scope || node.scope.startsWith(scope + ".");
}

/**
 * The branch output f_l(Norm(h_l)) is the output projection (wo or w2): the last matmul lowering
 * emits in the sublayer's scope outside the residual's own scopes (".res" for AttnRes, ".hyper"
 * for hyper-connections), which hold only depth mixing.
 */
function branchOutput(graph: Graph, scope: string): Node {
  const projections = graph.nodes.filter(
    (n) =>
      n.op === "matmul" && inScope(n, scope) && !inScope(n, scope + ".res") && !inScope(n, scope + ".hyper"),
  );
  const output = projections[projections.length - 1];
  if (!output) throw new Error(`probeDepth: sublayer ${scope} has no output projection`);
  return output;
}

function findSublayers(graph: Graph): SublayerNodes[] {
  // every sublayer has a PreNorm in scope "<sublayer>.norm"; the final norm is in "final.norm"
  const norms = graph.nodes.filter(
    (n) => NORM_OPS.has(n.op) && n.scope.endsWith(".norm") && n.scope !== "final.norm",
  );
  return norms.map((norm) => {
    const name = norm.scope.slice(0, -".norm".length);
    const aggregation = graph.nodes.find((n) => AGGREGATION_OPS.has(n.op) && n.scope === `${name}.res`);
    return { name, norm, output: branchOutput(graph, name), aggregation };
  });
}

/**
 * Names of each aggregation's sources, from the graph: the final aggregation reads the embedding and
 * then one source per sublayer (Full AttnRes) or per completed block (Block AttnRes); a source of a
 * sublayer's aggregation that the final one does not read is the current block's partial sum.
 */
function sourceNames(
  residual: Extract<ResidualSpec, { kind: "attn" }>,
  layers: number,
  final: Node,
  sublayers: SublayerNodes[],
): (source: number) => string {
  const finalSources = final.inputs.slice(0, Number(final.attrs.sources));
  const blocked = blockPartition(residual, layers) !== null;
  const names = new Map<number, string>();
  finalSources.forEach((id, i) => {
    if (i === 0) names.set(id, "embedding");
    else if (!blocked) names.set(id, sublayers[i - 1].name);
    else names.set(id, `block ${i}`);
  });
  return (id) => names.get(id) ?? "partial";
}

/** the depth weights averaged over every row: each token's, and each head's with depth-attention heads */
function meanWeights(node: Node, values: Tensor[]): number[] {
  const inputs = node.inputs.map((i) => values[i]);
  const rows = rowsOf(node.type.shape);
  const total = new Array<number>(Number(node.attrs.sources)).fill(0);
  for (let p = 0; p < rows; p++) depthWeightsAt(node, inputs, p).forEach((a, i) => (total[i] += a));
  return total.map((t) => t / rows);
}

/**
 * Depth statistics of `model` with `params` on `tokens` ([batch, seq], row-major), in float64.
 * Keep batch x seq small: see the cost note at the top of this file.
 */
export function probeDepth(
  model: ModelSpec,
  params: ReadonlyMap<string, Float32Array>,
  tokens: Int32Array,
  shape: { batch: number; seq: number },
): DepthProbe {
  const positions = shape.batch * shape.seq;
  if (tokens.length !== positions)
    throw new Error(`probeDepth: ${tokens.length} tokens for shape ${shape.batch} x ${shape.seq}`);
  const graph = lowerModel(model, shape);
  // the loss is not needed, but the graph reads targets: any in-range ids do
  const feeds = {
    tokens: fromInts([shape.batch, shape.seq], tokens),
    targets: fromInts([shape.batch, shape.seq], new Int32Array(positions)),
  };
  const values = interpret(graph, feeds, new Map<string, Float32Array>(params));
  const sublayers = findSublayers(graph);
  const finalNorm = graph.nodes.find((n) => NORM_OPS.has(n.op) && n.scope === "final.norm");
  if (!finalNorm) throw new Error("probeDepth: the graph has no final norm");

  const aggregations: DepthAggregation[] = [];
  const residual = model.residual;
  if (residual.kind === "attn") {
    const final = graph.nodes.find((n) => AGGREGATION_OPS.has(n.op) && n.scope === "final.res");
    if (!final) throw new Error("probeDepth: an AttnRes graph without the final aggregation");
    const nameOf = sourceNames(residual, model.layers.length, final, sublayers);
    const described = [
      ...sublayers.map((s) => ({ name: s.name, node: s.aggregation })),
      { name: "final", node: final },
    ];
    for (const { name, node } of described) {
      if (!node) throw new Error(`probeDepth: sublayer ${name} has no aggregation`);
      const sources = node.inputs.slice(0, Number(node.attrs.sources)).map(nameOf);
      aggregations.push({ name, sources, weights: meanWeights(node, values) });
    }
  } else if (residual.kind === "dense") {
    // DenseFormer's averages: after layer i over X_0 (the embedding) and the layer outputs X_j
    const layerName = (j: number) => (j === 0 ? "embedding" : `layers.${j - 1}`);
    for (const node of graph.nodes) {
      const match = /^layers\.(\d+)\.dwa$/.exec(node.scope);
      if (!match || node.op !== "attnres_static") continue;
      const layer = Number(match[1]) + 1;
      const sources = denseSources(layer, residual.dilation).map(layerName);
      aggregations.push({ name: `after ${layerName(layer)}`, sources, weights: meanWeights(node, values) });
    }
  }
  return {
    residual: residualLabel(residual),
    tokens: positions,
    aggregations,
    sublayers: sublayers.map((s) => ({
      name: s.name,
      inputRms: rms(values[s.norm.inputs[0]].data),
      outputRms: rms(values[s.output.id].data),
    })),
    finalRms: rms(values[finalNorm.inputs[0]].data),
  };
}
