// Learning rate per step: linear warmup to the peak, then cosine decay to minLrRatio·lr at the
// last step (or constant after warmup).

import type { TrainSpec } from "../../compiler/spec.js";

/** Learning rate for the 0-based step `step` of a run of `train.steps` steps. */
export function lrAt(step: number, train: Pick<TrainSpec, "steps" | "optimizer" | "schedule">): number {
  const peak = train.optimizer.lr;
  const { warmup, kind, minLrRatio } = train.schedule;
  // warmup counts from 1 so that step 0 already moves the weights
  if (step < warmup) return (peak * (step + 1)) / warmup;
  if (kind === "constant") return peak;
  const decaySteps = Math.max(1, train.steps - 1 - warmup);
  const progress = Math.min(1, (step - warmup) / decaySteps);
  const floor = peak * minLrRatio;
  return floor + (peak - floor) * 0.5 * (1 + Math.cos(Math.PI * progress));
}
