// The training loop: schedule, batches, loss read-back, evaluation, checkpoints, resume, Ctrl-C,
// and the NaN guard. It drives any StepEngine and knows nothing about devices.

import type { Batch } from "../data/sampler.js";
import { saveCheckpoint, type CheckpointInfo } from "../checkpoint.js";
import type { MetricsLog } from "../metrics.js";
import type { Progress } from "../progress.js";
import type { TrainSpec } from "../../format/spec.js";
import type { StepEngine } from "./engine.js";
import { learningRate } from "../optim/schedule.js";

/** Training produced a non-finite loss or parameters; carries where to resume from. */
export class TrainingDivergedError extends Error {
  constructor(
    readonly step: number,
    readonly what: string,
    readonly value: number,
    readonly lastGoodCheckpoint: string | undefined,
  ) {
    super(
      `${what} became ${Number.isNaN(value) ? "NaN" : value > 0 ? "+inf" : "-inf"} at step ${step}; ` +
        (lastGoodCheckpoint
          ? `the last good checkpoint is ${lastGoodCheckpoint}`
          : "no checkpoint was saved before it") +
        " (try a lower learning rate, more warmup, or gradient clipping)",
    );
  }
}

export interface TrainLoopOptions {
  engine: StepEngine;
  train: Pick<
    TrainSpec,
    "steps" | "logEvery" | "evalEvery" | "checkpointEvery" | "optimizer" | "schedule" | "batch" | "seq"
  >;
  batches: { batchAt(step: number): Batch };
  validation: readonly Batch[];
  runDir: string;
  /** parameter shapes, for the checkpoint files */
  shapes: ReadonlyMap<string, readonly number[]>;
  /** what every checkpoint's state.json records besides the step */
  checkpointInfo: Omit<
    CheckpointInfo,
    "format" | "formatVersion" | "archcVersion" | "step" | "savedAt" | "lastLoss" | "data"
  > & {
    data: Omit<CheckpointInfo["data"], "nextStep">;
  };
  /** the step to start at: 0, or the step of the checkpoint whose state the engine holds */
  startStep: number;
  /** the checkpoint the engine's state came from, if any: the fallback named on divergence */
  resumedFrom?: string;
  metrics?: MetricsLog;
  progress: Progress;
  /** aborting it (Ctrl-C) ends the run after the current step, with a checkpoint */
  signal?: AbortSignal;
  /**
   * called once the first step of this session has finished on the device (its loss is read back
   * to know): the driver's lazy shader compilation lands there, so it is timed apart from the rest
   */
  onFirstStep?: () => void;
}

export interface TrainLoopResult {
  outcome: "finished" | "interrupted";
  /** steps completed */
  step: number;
  lastLoss: number | undefined;
  lastValLoss: number | undefined;
  /** losses read back, by completed step */
  losses: Map<number, number>;
  checkpoint: string | undefined;
}

function isMultiple(step: number, every: number): boolean {
  return every > 0 && step % every === 0;
}

export async function runTrainingLoop(options: TrainLoopOptions): Promise<TrainLoopResult> {
  const { engine, train, progress, metrics } = options;
  const tokensPerStep = train.batch * train.seq;
  const losses = new Map<number, number>();
  let lastLoss: number | undefined;
  let lastValLoss: number | undefined;
  let lastCheckpoint = options.resumedFrom;
  let lastSavedStep = options.resumedFrom ? options.startStep : -1;
  const started = performance.now();
  let windowStart = started;
  let windowSteps = 0;
  const elapsed = (): number => (performance.now() - started) / 1000;

  const checkpoint = async (step: number): Promise<void> => {
    const state = await engine.getState();
    if (state.step !== step)
      throw new Error(`engine reports ${state.step} steps done, the loop counted ${step}`);
    // a loss read a moment ago can be finite while the update after it was not
    for (const [name, values] of state.params) {
      const bad = values.find((x) => !Number.isFinite(x));
      if (bad !== undefined)
        throw new TrainingDivergedError(step, `parameter "${name}"`, bad, lastCheckpoint);
    }
    const info = {
      ...options.checkpointInfo,
      data: { ...options.checkpointInfo.data, nextStep: step },
      lastLoss,
    };
    lastCheckpoint = saveCheckpoint(options.runDir, state, options.shapes, info);
    lastSavedStep = step;
    metrics?.event("checkpoint", { step, path: lastCheckpoint });
    progress.note(`saved ${lastCheckpoint}`);
  };

  const evaluate = async (step: number): Promise<void> => {
    if (options.validation.length === 0) return;
    let total = 0;
    for (const batch of options.validation) total += await engine.evalLoss(batch.tokens, batch.targets);
    const valLoss = total / options.validation.length;
    if (!Number.isFinite(valLoss))
      throw new TrainingDivergedError(step, "validation loss", valLoss, lastCheckpoint);
    lastValLoss = valLoss;
    metrics?.eval({ step, val_loss: valLoss, elapsed_s: elapsed() });
    progress.note(`step ${step}: val_loss ${valLoss.toFixed(4)}`);
  };

  progress.start(train.steps, options.startStep);
  let step = options.startStep;
  let outcome: TrainLoopResult["outcome"] = "finished";
  try {
    // the untrained model's validation loss: the figure every later one is read against
    if (step === 0) await evaluate(0);
    while (step < train.steps) {
      // an engine that never waits on I/O (the CPU one) would otherwise starve signal handlers
      await new Promise<void>((resolve) => setImmediate(resolve));
      if (options.signal?.aborted) {
        outcome = "interrupted";
        break;
      }
      const done = step + 1;
      const lr = learningRate(step, train.optimizer.lr, train.schedule, train.steps);
      // loss is read back on log steps, and before every checkpoint so none is saved unverified
      const first = done === options.startStep + 1;
      const logged =
        isMultiple(done, train.logEvery) || isMultiple(done, train.checkpointEvery) || done === train.steps;
      const readLoss = first || logged;
      const batch = options.batches.batchAt(step);
      const loss = await engine.step(batch.tokens, batch.targets, lr, readLoss);
      step = done;
      windowSteps += 1;
      if (first) {
        options.onFirstStep?.();
        progress.warmedUp(step);
      }
      progress.tick(step);
      if (loss !== undefined && !Number.isFinite(loss)) {
        metrics?.event("diverged", { step, loss });
        throw new TrainingDivergedError(step, "loss", loss, lastCheckpoint);
      }
      if (loss !== undefined && logged) {
        lastLoss = loss;
        losses.set(step, loss);
        const now = performance.now();
        const tokensPerSecond = (windowSteps * tokensPerStep) / Math.max(1e-9, (now - windowStart) / 1000);
        windowStart = now;
        windowSteps = 0;
        const gradNorm = engine.lastGradNorm ? await engine.lastGradNorm() : undefined;
        metrics?.step({
          step,
          loss,
          lr,
          ...(gradNorm === undefined ? {} : { grad_norm: gradNorm }),
          tokens_per_s: tokensPerSecond,
          elapsed_s: elapsed(),
        });
        progress.report(step, { loss, lr, tokensPerSecond });
      }
      if (first) {
        // throughput is measured from here: the first step carries the driver's shader compilation
        windowStart = performance.now();
        windowSteps = 0;
      }
      if (isMultiple(step, train.evalEvery) || step === train.steps) await evaluate(step);
      if (isMultiple(step, train.checkpointEvery) && step !== train.steps) await checkpoint(step);
    }
    if (lastSavedStep !== step) await checkpoint(step);
    if (outcome === "interrupted") {
      metrics?.event("interrupted", { step });
      progress.note(`interrupted at step ${step}; resume with --resume ${options.runDir}`);
    }
  } finally {
    progress.stop();
  }
  return { outcome, step, lastLoss, lastValLoss, losses, checkpoint: lastCheckpoint };
}
