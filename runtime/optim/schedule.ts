// The learning rate at each step, computed on the host and handed to the update kernel as a
// uniform, so the schedule never needs a device readback.

import type { ScheduleSpec } from "../../format/spec.js";

/**
 * lr at 0-based `step` of `totalSteps`: linear warmup from peak/warmup up to `peak` over the first
 * `warmup` steps, then constant or a cosine decay that reaches peak * minLrRatio at the last step.
 */
export function learningRate(step: number, peak: number, schedule: ScheduleSpec, totalSteps: number): number {
  if (!Number.isInteger(step) || step < 0)
    throw new Error(`learning-rate step must be a non-negative integer, got ${step}`);
  if (step < schedule.warmup) return (peak * (step + 1)) / schedule.warmup;
  if (schedule.kind === "constant") return peak;
  const decaySteps = totalSteps - schedule.warmup - 1;
  const progress = decaySteps <= 0 ? 1 : Math.min(1, (step - schedule.warmup) / decaySteps);
  const floor = peak * schedule.minLrRatio;
  return floor + (peak - floor) * 0.5 * (1 + Math.cos(Math.PI * progress));
}
