// Choosing the next token from logits: temperature, top-k, and a seeded draw.

import { Rng } from "../data/rng.js";

export interface SamplingOptions {
  /** 0 means greedy (argmax); 1 samples the model's own distribution */
  temperature: number;
  /** keep only the k most likely tokens; 0 keeps all */
  topK: number;
}

export function argmax(logits: ArrayLike<number>): number {
  let best = 0;
  for (let i = 1; i < logits.length; i++) if (logits[i] > logits[best]) best = i;
  return best;
}

/** The sampling distribution over token ids after temperature and top-k (float64, sums to 1). */
export function samplingDistribution(logits: ArrayLike<number>, options: SamplingOptions): Float64Array {
  const n = logits.length;
  const probabilities = new Float64Array(n);
  if (options.temperature <= 0 || options.topK === 1) {
    probabilities[argmax(logits)] = 1;
    return probabilities;
  }
  let keep: Uint8Array | undefined;
  if (options.topK > 0 && options.topK < n) {
    // ties at the k-th value are broken toward lower ids, so exactly k survive
    const order = Array.from({ length: n }, (_, i) => i).sort((a, b) => logits[b] - logits[a] || a - b);
    keep = new Uint8Array(n);
    for (let i = 0; i < options.topK; i++) keep[order[i]] = 1;
  }
  let max = -Infinity;
  for (let i = 0; i < n; i++) if (!keep || keep[i]) max = Math.max(max, logits[i]);
  let sum = 0;
  for (let i = 0; i < n; i++) {
    if (keep && !keep[i]) continue;
    sum += probabilities[i] = Math.exp((logits[i] - max) / options.temperature);
  }
  for (let i = 0; i < n; i++) probabilities[i] /= sum;
  return probabilities;
}

/** Seeded sampler: the draw for the i-th generated token depends only on (seed, i). */
export class TokenSampler {
  private drawn = 0;

  constructor(
    private readonly options: SamplingOptions,
    private readonly seed: number,
  ) {}

  next(logits: ArrayLike<number>): number {
    const probabilities = samplingDistribution(logits, this.options);
    const u = new Rng(this.seed, 0x53414d50, this.drawn++).nextFloat();
    let cumulative = 0;
    let last = 0;
    for (let i = 0; i < probabilities.length; i++) {
      if (probabilities[i] === 0) continue;
      cumulative += probabilities[i];
      last = i;
      if (u < cumulative) return i;
    }
    return last; // rounding left cumulative a hair under 1
  }
}
