import { existsSync, mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import type { ModelSpec, TrainSpec } from "../format/spec.js";
import { resolveCheckpoint, type TrainingState } from "../runtime/checkpoint.js";
import { BatchSampler, validationBatches } from "../runtime/data/sampler.js";
import { MetricsLog, parseMetrics } from "../runtime/metrics.js";
import { silentProgress, type Progress } from "../runtime/progress.js";
import { bigramShapes, CpuBigramEngine } from "../runtime/train/cpu-bigram.js";
import type { StepEngine } from "../runtime/train/engine.js";
import { runTrainingLoop, TrainingDivergedError, type TrainLoopOptions } from "../runtime/train/loop.js";
import { restoreEngine } from "../runtime/train/resume.js";

const VOCAB = 16;
// a stream with structure a bigram can learn: mostly "next = current + 1 mod 16"
const stream = Uint8Array.from({ length: 4000 }, (_, i) => (i % 7 === 0 ? (i * 5) % VOCAB : i % VOCAB));

const train: TrainSpec = {
  name: "t",
  model: "bigram",
  data: "memory",
  tokenizer: "bytes",
  batch: 4,
  seq: 8,
  steps: 20,
  evalEvery: 5,
  evalBatches: 2,
  logEvery: 1,
  checkpointEvery: 10,
  optimizer: { kind: "adamw", lr: 0.05, beta1: 0.9, beta2: 0.95, eps: 1e-8, weightDecay: 0.1, clip: 1 },
  schedule: { kind: "cosine", warmup: 3, minLrRatio: 0.1 },
  seed: 11,
};

function options(
  runDir: string,
  engine: StepEngine,
  overrides: Partial<TrainLoopOptions> = {},
): TrainLoopOptions {
  return {
    engine,
    train,
    batches: new BatchSampler(stream, train.batch, train.seq, train.seed),
    validation: validationBatches(stream, train.batch, train.seq, train.evalBatches),
    runDir,
    shapes: bigramShapes(VOCAB),
    checkpointInfo: {
      model: { name: "bigram" } as ModelSpec,
      train,
      tokenizer: "bytes",
      engine: "cpu-bigram",
      data: { source: "memory", seed: train.seed },
    },
    startStep: 0,
    progress: silentProgress(),
    ...overrides,
  };
}

const freshEngine = () => new CpuBigramEngine(VOCAB, train.optimizer, train.seed);
const tempRun = () => mkdtempSync(join(tmpdir(), "archc-train-"));

/** The engine with some methods replaced; the rest still run on the engine itself. */
function delegate(engine: StepEngine, overrides: Partial<StepEngine>): StepEngine {
  return {
    step: (...args) => engine.step(...args),
    evalLoss: (...args) => engine.evalLoss(...args),
    lastGradNorm: () => engine.lastGradNorm!(),
    getState: () => engine.getState(),
    setState: (state) => engine.setState(state),
    dispose: () => engine.dispose(),
    ...overrides,
  };
}

/** Progress that aborts the run once `step` steps are done: a Ctrl-C at a known moment. */
function abortAt(step: number, controller: AbortController): Progress {
  return { ...silentProgress(), tick: (s: number) => (s === step ? controller.abort() : undefined) };
}

describe("training loop", () => {
  it("lowers the loss of the CPU bigram and logs steps, evals and a header to metrics.jsonl", async () => {
    const run = tempRun();
    const metrics = new MetricsLog(join(run, "metrics.jsonl"));
    metrics.header({ train: train.name });
    const result = await runTrainingLoop(options(run, freshEngine(), { metrics }));
    expect(result.outcome).toBe("finished");
    expect(result.step).toBe(20);
    expect(result.losses.get(20)!).toBeLessThan(result.losses.get(1)! - 0.3);
    const records = parseMetrics(readFileSync(join(run, "metrics.jsonl"), "utf8"));
    expect(records[0].type).toBe("header");
    const steps = records.filter((r) => r.type === "step");
    expect(steps.map((r) => r.step)).toEqual(Array.from({ length: 20 }, (_, i) => i + 1));
    expect(steps[0]).toMatchObject({
      lr: expect.any(Number),
      grad_norm: expect.any(Number),
      tokens_per_s: expect.any(Number),
    });
    expect(records.filter((r) => r.type === "eval").map((r) => r.step)).toEqual([0, 5, 10, 15, 20]);
    expect(resolveCheckpoint(run)).toBe(join(run, "ckpt-20"));
    expect(existsSync(join(run, "ckpt-10"))).toBe(true);
  });

  it("reads the loss back only on log and checkpoint steps", async () => {
    const reads: number[] = [];
    const engine = freshEngine();
    const counting: StepEngine = delegate(engine, {
      step: async (tokens: Int32Array, targets: Int32Array, lr: number, readLoss: boolean) => {
        if (readLoss) reads.push((await engine.getState()).step + 1);
        return engine.step(tokens, targets, lr, readLoss);
      },
    });
    await runTrainingLoop(
      options(tempRun(), counting, { train: { ...train, logEvery: 4, checkpointEvery: 6 } }),
    );
    // and once after the first step, which times the warm-up (the driver compiling its shaders)
    expect(reads).toEqual([1, 4, 6, 8, 12, 16, 18, 20]);
  });

  it("resumes exactly: 10 steps, Ctrl-C, resume 10 gives the losses of 20 uninterrupted steps", async () => {
    const whole = await runTrainingLoop(options(tempRun(), freshEngine()));

    const run = tempRun();
    const controller = new AbortController();
    const first = await runTrainingLoop(
      options(run, freshEngine(), { signal: controller.signal, progress: abortAt(10, controller) }),
    );
    expect(first.outcome).toBe("interrupted");
    expect(first.step).toBe(10);

    const engine = freshEngine();
    const restored = await restoreEngine(engine, run);
    expect(restored.step).toBe(10);
    const second = await runTrainingLoop(
      options(run, engine, { startStep: restored.step, resumedFrom: restored.checkpoint }),
    );
    expect(second.step).toBe(20);

    const combined = new Map([...first.losses, ...second.losses]);
    expect([...combined.entries()]).toEqual([...whole.losses.entries()]);
    expect(second.lastValLoss).toBe(whole.lastValLoss);
  });

  it("checkpoints on Ctrl-C between scheduled checkpoints", async () => {
    const run = tempRun();
    const controller = new AbortController();
    const result = await runTrainingLoop(
      options(run, freshEngine(), { signal: controller.signal, progress: abortAt(7, controller) }),
    );
    expect(result.outcome).toBe("interrupted");
    expect(result.checkpoint).toBe(join(run, "ckpt-7"));
    expect(resolveCheckpoint(run)).toBe(join(run, "ckpt-7"));
  });

  it("stops on a NaN loss, names the step and the last good checkpoint, and saves nothing after it", async () => {
    const run = tempRun();
    const engine = freshEngine();
    const failing: StepEngine = delegate(engine, {
      step: async (tokens: Int32Array, targets: Int32Array, lr: number, readLoss: boolean) => {
        const loss = await engine.step(tokens, targets, lr, readLoss);
        return (await engine.getState()).step === 13 && readLoss ? NaN : loss;
      },
    });
    const error = await runTrainingLoop(options(run, failing)).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TrainingDivergedError);
    expect((error as Error).message).toBe(
      `loss became NaN at step 13; the last good checkpoint is ${join(run, "ckpt-10")} (try a lower learning rate, more warmup, or gradient clipping)`,
    );
    expect(resolveCheckpoint(run)).toBe(join(run, "ckpt-10"));
    expect(existsSync(join(run, "ckpt-13"))).toBe(false);
  });

  it("refuses to checkpoint non-finite parameters even when the last loss read was finite", async () => {
    const run = tempRun();
    const engine = freshEngine();
    const poisoned: StepEngine = delegate(engine, {
      getState: async (): Promise<TrainingState> => {
        const state = await engine.getState();
        state.params.get("bigram.table")![3] = Infinity;
        return state;
      },
    });
    await expect(runTrainingLoop(options(run, poisoned))).rejects.toThrow(
      /parameter "bigram.table" became \+inf at step 10; no checkpoint was saved/,
    );
    expect(resolveCheckpoint(run)).toBeUndefined();
  });
});
