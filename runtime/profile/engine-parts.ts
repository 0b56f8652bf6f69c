// The parts of a GpuTrainingEngine a profiler needs and the engine keeps private: the training
// executor (forward and backward) and the AdamW step, so that they can be encoded and timed apart.
// Read through a cast and checked at run time; a public accessor on the engine would replace this.

import { Executor } from "../executor.js";
import { GpuAdamw } from "../optim/adamw-gpu.js";
import type { GpuTrainingEngine } from "../train/gpu-engine.js";

export interface EngineParts {
  trainer: Executor;
  adamw: GpuAdamw;
}

export function engineParts(engine: GpuTrainingEngine): EngineParts {
  const { trainer, adamw } = engine as unknown as { trainer?: unknown; adamw?: unknown };
  if (!(trainer instanceof Executor) || !(adamw instanceof GpuAdamw))
    throw new Error(
      "internal: GpuTrainingEngine no longer holds `trainer` and `adamw`; update runtime/profile",
    );
  return { trainer, adamw };
}
