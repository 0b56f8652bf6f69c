// Sizes the kernels can run, checked before anything is lowered. The WGSL kernels index tensors
// with u32 and dispatch at most 65535 workgroups per grid dimension (WebGPU's guaranteed minimum),
// 64 rows or columns of a matmul to a workgroup; lowering, autodiff and `archc inspect` grow with
// the number of sublayers and of AttnRes sources. Each limit is far above any honest model.

import { blockPartition, type ModelSpec, type ResidualSpec } from "../../format/spec.js";

/** Elements of one tensor: a 4 GiB f32 buffer, the most a u32 byte offset reaches. */
export const MAX_TENSOR_ELEMENTS = 2 ** 30;
/** The head's matmul has vocab columns, 64 to a tile: 2^21 is 32768 tiles of the 65535 a grid allows. */
export const MAX_VOCAB = 2 ** 21;
/** Attention and MLP sublayers of a model, after expanding blocks (the largest models have ~250). */
export const MAX_SUBLAYERS = 512;
/** AttnRes sources summed over every aggregation: Full AttnRes reaches it at about 127 layers. */
export const MAX_ATTNRES_SOURCES = 2 ** 15;
/** Residual streams of hyper-connections and mHC: the papers use 2 to 8; each multiplies the state. */
export const MAX_STREAMS = 16;
/** Sinkhorn iterations of mHC: the paper uses 20; the backward recomputes them, quadratic in the count. */
export const MAX_SINKHORN_ITERATIONS = 100;
/** Block instances expanded while building a model's layers: bounds work on layers that fail. */
export const MAX_BLOCK_INSTANCES = 4096;

/** The widest row any activation has: vocab for the logits, else the widest MLP or dim. */
export function widestRow(model: Pick<ModelSpec, "vocab" | "dim" | "layers">): number {
  let widest = Math.max(model.vocab, model.dim);
  for (const layer of model.layers)
    for (const sublayer of layer.sublayers)
      if (sublayer.kind === "mlp") widest = Math.max(widest, sublayer.hidden);
  return widest;
}

/**
 * AttnRes sources over every aggregation, counted as an upper bound: with Full AttnRes sublayer l
 * (from 1) reads l sources and the output S + 1; with N blocks each reads at most N + 1.
 */
export function attnresSources(sublayers: number, blocks: number | null): number {
  if (blocks === null) return (sublayers * (sublayers + 1)) / 2 + sublayers + 1;
  return sublayers * (blocks + 1) + blocks + 1;
}

/**
 * Activation elements a batch × seq graph keeps in its scratch buffer at once, estimated from
 * above: every AttnRes source still to be read (all of them for Full AttnRes, one per block for
 * Block AttnRes), a few dim-wide temporaries and two of the widest. Pooled kernels index that
 * buffer with u32 offsets.
 */
export function liveActivations(
  model: Pick<ModelSpec, "vocab" | "dim" | "layers" | "residual">,
  rows: number,
): number {
  const sublayers = model.layers.reduce((n, layer) => n + layer.sublayers.length, 0);
  const { residual } = model;
  const sources = liveResidualValues(residual, model.layers.length, sublayers);
  return rows * (model.dim * (sources + 4) + 2 * widestRow(model));
}

/** dim-wide values the residual keeps alive at once: sources still to be read, or the streams */
function liveResidualValues(residual: ResidualSpec, layers: number, sublayers: number): number {
  switch (residual.kind) {
    case "add":
      return 1;
    case "attn": {
      const partition = blockPartition(residual, layers);
      return partition === null ? sublayers + 1 : partition.length + 2;
    }
    case "dense":
      return layers + 2;
    case "hyper":
    case "mhc":
      return 2 * residual.streams + 1;
  }
}

/** The most liveActivations may be: half the reach of a u32 offset, leaving room for the planner. */
export const MAX_LIVE_ACTIVATIONS = 2 ** 31;

/** Why a batch × seq graph of `model` cannot run, or undefined when it can. */
export function shapeProblem(
  model: Pick<ModelSpec, "vocab" | "dim" | "layers" | "residual">,
  batch: number,
  seq: number,
): string | undefined {
  if (batch > 65535) return `batch ${batch} is more than the 65535 sequences a dispatch can hold`;
  const rows = batch * seq;
  if (rows > 2 ** 21) return `batch × seq = ${rows} tokens is more than the ${2 ** 21} a graph can hold`;
  const elements = rows * widestRow(model);
  if (elements > MAX_TENSOR_ELEMENTS)
    return `batch × seq × ${widestRow(model)} (the widest activation) = ${elements} elements is more than the ${MAX_TENSOR_ELEMENTS} one tensor may hold`;
  const live = liveActivations(model, rows);
  if (live > MAX_LIVE_ACTIVATIONS)
    return `its activations (about ${live} elements kept at once) are more than the ${MAX_LIVE_ACTIVATIONS} one buffer may hold`;
  return undefined;
}

/**
 * Parameters of a model: they share one buffer that pooled kernels (AttnRes, AdamW) index with u32
 * element offsets, so the total must fit a u32 (16 GiB of f32; a 4-billion-parameter model).
 */
export const MAX_PARAMETERS = 2 ** 32 - 1;

/** The parameter count of `model`, counted as an upper bound (every norm with a bias). */
export function parameterUpperBound(
  model: Pick<ModelSpec, "vocab" | "dim" | "context" | "tied" | "position" | "layers" | "residual">,
): number {
  const d = model.dim;
  let total =
    model.vocab * d * (model.tied ? 1 : 2) + (model.position.kind === "learned" ? model.context * d : 0);
  let sublayers = 0;
  for (const layer of model.layers)
    for (const s of layer.sublayers) {
      sublayers++;
      total += 2 * d; // its norm
      if (s.kind === "attention") total += 2 * d * s.heads * s.headDim + 2 * d * s.kvHeads * s.headDim;
      else total += (s.mlp === "swiglu" ? 3 : 2) * d * s.hidden;
    }
  total += 2 * d; // the final norm
  const r = model.residual;
  const layers = model.layers.length;
  if (r.kind === "attn") {
    // query (or projection), key gain, static logits, gate
    const perAggregation = (r.query === "projected" ? d * d : d) + d + sublayers + 2;
    total += (sublayers + 1) * perAggregation;
  } else if (r.kind === "dense") {
    for (let i = r.period; i <= layers; i += r.period) total += Math.floor(i / r.dilation) + 1;
  } else if (r.kind === "hyper") {
    const n = r.streams;
    total += sublayers * (n * n + 2 * n + (r.dynamic ? d * (n + 3) + 2 : 0));
  } else if (r.kind === "mhc") {
    const n = r.streams;
    // gain over n d, the projections phi, the biases and three scales
    total += sublayers * (n * d * (n * n + 2 * n + 1) + n * n + 2 * n + 3);
  }
  return total;
}
