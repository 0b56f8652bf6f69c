// The training settings used when a file has no `train` block: the same defaults the checker
// fills in for omitted fields (compiler/check/train.ts), so both paths train alike.

import type { ModelSpec, TrainSpec } from "../../format/spec.js";

export function defaultTrainSpec(model: ModelSpec): TrainSpec {
  const steps = 1000;
  return {
    name: model.name,
    model: model.name,
    data: "brown",
    tokenizer: "bytes",
    batch: 8,
    seq: model.context,
    steps,
    evalEvery: 50,
    evalBatches: 4,
    logEvery: 10,
    checkpointEvery: 100,
    optimizer: { kind: "adamw", lr: 3e-4, beta1: 0.9, beta2: 0.95, eps: 1e-8, weightDecay: 0.1, clip: 1 },
    schedule: { kind: "cosine", warmup: Math.floor(steps / 10), minLrRatio: 0.1 },
    seed: 0,
  };
}
