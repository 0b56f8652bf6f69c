// What the benchmarks share: a deterministic synthetic batch, medians, and the FLOPs a forward pass
// and a training step are credited with. bench/train-step.ts computes the same figures inline and
// could import these instead.

import { graphFlops, type FlopBreakdown } from "../compiler/analysis/cost.js";
import type { Graph } from "../compiler/ir/ir.js";

export interface SyntheticBatch {
  tokens: Int32Array;
  targets: Int32Array;
}

/** tokens (i·31 + 7) mod vocab and next-token targets: deterministic, every id in range */
export function syntheticBatch(vocab: number, batch: number, seq: number): SyntheticBatch {
  const tokens = Int32Array.from({ length: batch * seq }, (_, i) => (i * 31 + 7) % vocab);
  return { tokens, targets: Int32Array.from(tokens, (t) => (t + 1) % vocab) };
}

export function median(values: readonly number[]): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

export interface StepFlops {
  /** the lowered forward graph's matmul, attention and AttnRes FLOPs */
  forward: FlopBreakdown;
  forwardTotal: number;
  /** 3x the forward: the backward computes two products for each forward one */
  trainStep: number;
}

export function stepFlops(forwardGraph: Graph): StepFlops {
  const forward = graphFlops(forwardGraph);
  const forwardTotal = forward.matmul + forward.attention + forward.attnres;
  return { forward, forwardTotal, trainStep: 3 * forwardTotal };
}
