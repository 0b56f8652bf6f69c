// `archc inspect`: parameter counts, FLOPs, activation memory and AttnRes source counts of one
// model at a given batch and sequence length, all read off the lowered graph so they describe what
// actually runs.

import type { Graph } from "../ir/ir.js";
import { numel } from "../ir/ir.js";
import { lowerModel } from "../ir/lower.js";
import { blockPartition, residualLabel, type ModelSpec } from "../../format/spec.js";
import type { FlopBreakdown } from "./cost.js";
import { graphFlops } from "./cost.js";
import type { ActivationMemory } from "./memory.js";
import { activationMemory } from "./memory.js";

/** backward ≈ 2× forward (gradients w.r.t. both operands of every product) */
export const TRAINING_FLOP_FACTOR = 3;

export interface SourceCount {
  sublayer: string;
  sources: number;
}

export interface InspectReport {
  model: string;
  batch: number;
  seq: number;
  residual: string;
  sublayers: number;
  parameters: { total: number; byGroup: Record<string, number> };
  flopsPerToken: { forward: number; training: number; forwardBreakdown: FlopBreakdown };
  activationMemory: ActivationMemory;
  attnres: null | { perSublayer: SourceCount[]; final: number; min: number; max: number; mean: number };
  notes: string[];
}

function countParameters(graph: Graph): InspectReport["parameters"] {
  const byGroup: Record<string, number> = {};
  let total = 0;
  for (const p of graph.params) {
    const n = numel(p.shape);
    byGroup[p.group] = (byGroup[p.group] ?? 0) + n;
    total += n;
  }
  return { total, byGroup };
}

function attnresSources(graph: Graph): InspectReport["attnres"] {
  const perSublayer: SourceCount[] = [];
  let final = 0;
  for (const node of graph.nodes) {
    if (node.op !== "attnres" && node.op !== "attnres_static") continue;
    const owner = node.scope.replace(/\.res$/, "");
    const sources = node.attrs.sources as number;
    if (owner === "final") final = sources;
    else perSublayer.push({ sublayer: owner, sources });
  }
  if (perSublayer.length === 0 && final === 0) return null;
  const counts = perSublayer.map((s) => s.sources);
  return {
    perSublayer,
    final,
    min: Math.min(...counts),
    max: Math.max(...counts),
    mean: counts.reduce((a, b) => a + b, 0) / counts.length,
  };
}

function describeResidual(model: ModelSpec): string {
  const r = model.residual;
  const label = residualLabel(r);
  if (r.kind === "hyper" || r.kind === "mhc")
    return `${label}: ${r.streams} residual streams, a state of ${r.streams} x dim per token`;
  if (r.kind !== "attn") return label;
  const partition = blockPartition(r, model.layers.length);
  const shape =
    partition === null ? "full" : `block, ${partition.length} blocks of ${partition.join("+")} layers`;
  return `${label}: ${shape} (score=${r.score}, weights=${r.weights}, query=${r.query}, key_norm=${r.keyNorm}, heads=${r.heads ?? 1})`;
}

export function inspectModel(model: ModelSpec, opts: { batch: number; seq: number }): InspectReport {
  const graph = lowerModel(model, opts);
  const tokens = opts.batch * opts.seq;
  const breakdown = graphFlops(graph);
  const forward = breakdown.matmul + breakdown.attention + breakdown.attnres;
  return {
    model: model.name,
    batch: opts.batch,
    seq: opts.seq,
    residual: describeResidual(model),
    sublayers: model.layers.reduce((n, l) => n + l.sublayers.length, 0),
    parameters: countParameters(graph),
    flopsPerToken: {
      forward: forward / tokens,
      training: (TRAINING_FLOP_FACTOR * forward) / tokens,
      forwardBreakdown: {
        matmul: breakdown.matmul / tokens,
        attention: breakdown.attention / tokens,
        attnres: breakdown.attnres / tokens,
      },
    },
    activationMemory: activationMemory(graph),
    attnres: attnresSources(graph),
    notes: [
      "FLOPs count matmuls (2mnk, LM head included), attention QK and PV over causal pairs, and depth mixing (AttnRes and DenseFormer aggregations, hyper-connection stream reads and writes); not elementwise ops, norms, softmax or Sinkhorn",
      `training FLOPs = ${TRAINING_FLOP_FACTOR} x forward (backward ~ 2 x forward)`,
      "activation memory = 4 bytes x each forward value (not a parameter) that a backward node reads, per the autodiff pass; attention probabilities are recomputed, not stored",
      "a tied head shares the embedding table, counted once",
    ],
  };
}
