// The checked, fully evaluated description of a model: what the checker hands to lowering, and
// what a run's state.json records (so the runtime reads it without the compiler).
// Every number here is concrete; every name is resolved. Lowering never sees syntax.

export interface SourceSpan {
  file: string;
  line: number; // 1-based
  column: number; // 1-based
  offset: number; // 0-based character offset
  length: number;
}

export type NormSpec = { kind: "rmsnorm"; eps: number } | { kind: "layernorm"; eps: number };

export type PositionSpec = { kind: "rope"; theta: number } | { kind: "learned" } | { kind: "none" };

export type MlpKind = "gelu" | "swiglu";

/** One sublayer: a residual branch f(PreNorm(h)). Each one is a "layer" in the AttnRes paper's sense. */
export type SublayerSpec =
  | { kind: "attention"; heads: number; kvHeads: number; headDim: number }
  | { kind: "mlp"; mlp: MlpKind; hidden: number };

/** One transformer layer (the unit that block boundaries fall between): an ordered list of sublayers. */
export interface LayerSpec {
  block: string; // name of the `block` definition it was stacked from, for display
  sublayers: SublayerSpec[];
}

export type ResidualSpec =
  | { kind: "add" }
  | {
      kind: "attn";
      /** number of AttnRes blocks N (Block AttnRes), or null for Full AttnRes (or blocks by blockSize) */
      blocks: number | null;
      /**
       * layers per block, counted as the official code does (the last block shorter when it does not
       * divide the depth); exclusive with `blocks`. Absent or null: not used.
       */
      blockSize?: number | null;
      /** depth-attention heads: each reads its own slice of D with its own pseudo-query (absent: 1) */
      heads?: number;
      /** gated AttnRes, h = plain + a (attn - plain) with a learned scalar a from 0 (absent: false) */
      gate?: boolean;
      /** the key RMSNorm's epsilon (absent: 1e-6) */
      eps?: number;
      /** RMSNorm on the keys before the dot product with the query (paper default: on) */
      keyNorm: boolean;
      /** normaliser over the depth axis */
      score: "softmax" | "sigmoid";
      /** "query": w · key per source (input-dependent weights); "static": one learned scalar per source */
      weights: "query" | "static";
      /** "vector": a learned w in R^d; "projected": w = W v_last, W in R^{d x d} (input-dependent query) */
      query: "vector" | "projected";
    }
  /** DenseFormer: a learned weighted average of the embedding and earlier layer outputs after layers */
  | { kind: "dense"; dilation: number; period: number }
  /** hyper-connections: `streams` residual streams with static (or also input-dependent) mixing */
  | { kind: "hyper"; streams: number; dynamic: boolean }
  /** mHC: hyper-connections whose stream mixing is projected to doubly stochastic by Sinkhorn */
  | { kind: "mhc"; streams: number; iterations: number };

/** the defaults of the AttnRes options that older run records (state.json) do not carry */
export const ATTNRES_DEFAULTS = { heads: 1, gate: false, eps: 1e-6 } as const;

export interface ModelSpec {
  name: string;
  vocab: number;
  context: number;
  dim: number;
  norm: NormSpec;
  position: PositionSpec;
  tied: boolean;
  residual: ResidualSpec;
  layers: LayerSpec[];
  /** every evaluated field, for `archc inspect` and ablation tables */
  fields: Record<string, string | number | boolean>;
  span?: SourceSpan;
}

export interface OptimizerSpec {
  kind: "adamw";
  lr: number;
  beta1: number;
  beta2: number;
  eps: number;
  weightDecay: number;
  clip: number; // max global gradient norm; 0 disables clipping
}

export interface ScheduleSpec {
  kind: "cosine" | "constant";
  warmup: number; // steps
  minLrRatio: number; // cosine floor as a fraction of lr
}

export interface TrainSpec {
  name: string;
  model: string;
  data: string; // "brown" (embedded corpus) or a path to a text file or folder
  tokenizer: "bytes" | "gpt2";
  batch: number;
  seq: number; // tokens per sequence, <= model context
  steps: number;
  evalEvery: number;
  evalBatches: number;
  logEvery: number; // loss is read back every logEvery steps
  checkpointEvery: number;
  optimizer: OptimizerSpec;
  schedule: ScheduleSpec;
  seed: number;
  span?: SourceSpan;
}

/** One variant of an ablation: the base model with the varied fields set to one combination. */
export interface AblationVariant {
  /** the value's text for a one-field ablation ("attn(block=2)"); "depth=2, residual=attn" for several */
  label: string;
  /** each varied field's value text, in the ablation's field order */
  values: Record<string, string>;
  model: ModelSpec;
}

/**
 * An ablation: one base model, one or more varied fields combined as a cross product or zipped, each
 * combination a ModelSpec, every variant repeated over seeds under one train block.
 */
export interface AblationSpec {
  name: string;
  base: string;
  /** the varied fields, in source order */
  fields: string[];
  /** how several varied fields combine: every combination ("cross"), or the i-th values together ("zip") */
  combine: "cross" | "zip";
  variants: AblationVariant[];
  /**
   * the seeds each variant runs under: a count n means the train block's seed s, s+1, ..., s+n-1;
   * a list names them. Default 1.
   */
  seeds: number | number[];
  /** the train block the variants run under (its `model` is replaced by each variant); undefined: chosen by the runner */
  train?: string;
  /** label of the variant every other is compared against: the `baseline:` field, else the first variant */
  baseline: string;
  span?: SourceSpan;
}

export interface ProgramSpec {
  models: Map<string, ModelSpec>;
  trains: Map<string, TrainSpec>;
  ablations: Map<string, AblationSpec>;
}

/** Sublayers in order, flattened across layers, each with its layer index. */
export function sublayersOf(model: ModelSpec): { layer: number; index: number; sublayer: SublayerSpec }[] {
  const out: { layer: number; index: number; sublayer: SublayerSpec }[] = [];
  model.layers.forEach((layer, li) =>
    layer.sublayers.forEach((sublayer) => out.push({ layer: li, index: out.length, sublayer })),
  );
  return out;
}

/**
 * Block AttnRes by block size: S layers per block, the last block holding what is left (the rule of
 * the official pseudocode, Kimi K3 and Megatron). Requires S >= 1.
 */
export function blockSizesBySize(layers: number, size: number): number[] {
  const full = Math.floor(layers / size);
  const sizes = Array.from({ length: full }, () => size);
  if (layers % size !== 0) sizes.push(layers % size);
  return sizes;
}

/** the layers of each block of a Block AttnRes residual, by count or by size; null for Full AttnRes */
export function blockPartition(
  residual: { blocks: number | null; blockSize?: number | null },
  layers: number,
): number[] | null {
  if (residual.blockSize) return blockSizesBySize(layers, residual.blockSize);
  return residual.blocks === null ? null : blockSizes(layers, residual.blocks);
}

/**
 * Block AttnRes: how many layers each of the N blocks holds. The first (L mod N) blocks hold
 * ceil(L/N) layers and the rest floor(L/N), so when L does not divide evenly the later blocks are
 * the smaller ones (the paper makes the last block smaller). Requires 1 <= N <= L.
 */
export function blockSizes(layers: number, blocks: number): number[] {
  const base = Math.floor(layers / blocks);
  const extra = layers % blocks;
  return Array.from({ length: blocks }, (_, i) => base + (i < extra ? 1 : 0));
}

/** the residual as the language writes it, defaults left out: "add", "attn(block=2)", "hyper(streams=4)" */
export function residualLabel(residual: ResidualSpec): string {
  const written = (kind: string, options: (string | undefined)[]) => {
    const given = options.filter((o) => o !== undefined);
    return given.length === 0 ? kind : `${kind}(${given.join(", ")})`;
  };
  switch (residual.kind) {
    case "add":
      return "add";
    case "dense":
      return written("dense", [
        residual.dilation === 1 ? undefined : `dilation=${residual.dilation}`,
        residual.period === 1 ? undefined : `period=${residual.period}`,
      ]);
    case "hyper":
      return written("hyper", [`streams=${residual.streams}`, residual.dynamic ? "dynamic=true" : undefined]);
    case "mhc":
      return written("mhc", [
        residual.streams === 4 ? undefined : `streams=${residual.streams}`,
        residual.iterations === 20 ? undefined : `iterations=${residual.iterations}`,
      ]);
    case "attn": {
      const r = residual;
      return written("attn", [
        r.blocks === null ? undefined : `block=${r.blocks}`,
        r.blockSize ? `block_size=${r.blockSize}` : undefined,
        (r.heads ?? 1) === 1 ? undefined : `heads=${r.heads}`,
        r.gate ? "gate=true" : undefined,
        r.keyNorm ? undefined : "key_norm=false",
        (r.eps ?? ATTNRES_DEFAULTS.eps) === ATTNRES_DEFAULTS.eps ? undefined : `eps=${r.eps}`,
        r.score === "softmax" ? undefined : `score=${r.score}`,
        r.weights === "query" ? undefined : `weights=${r.weights}`,
        r.query === "vector" ? undefined : `query=${r.query}`,
      ]);
    }
  }
}
