// One training run in one run directory, from prepared data to the last checkpoint: build the engine
// (the compile phase, timed on its own), restore a checkpoint if asked, run the loop. `archc train`
// runs one session; `archc ablate` runs one per variant and seed on the same device.

import { join } from "node:path";
import type { TrainingProgram } from "../../format/training.js";
import type { ModelSpec, TrainSpec } from "../../format/spec.js";
import { readCheckpointInfo, type CheckpointInfo } from "../checkpoint.js";
import type { GpuContext } from "../device.js";
import { MetricsLog } from "../metrics.js";
import type { Progress } from "../progress.js";
import type { StepEngine } from "./engine.js";
import type { TrainingData } from "./data-setup.js";
import { runTrainingLoop, type TrainLoopResult } from "./loop.js";
import { restoreEngine } from "./resume.js";

/** A problem with what the user asked for (settings, sizes, the device): said plainly, no stack. */
export class SessionError extends Error {}

export type EngineKind = "gpu" | "cpu-bigram";

export interface SessionOptions {
  model: ModelSpec;
  train: TrainSpec;
  data: TrainingData;
  runDir: string;
  engineKind: EngineKind;
  /** a checkpoint directory to continue from */
  resumeFrom?: string;
  progress: Progress;
  signal?: AbortSignal;
  /** an open device shared by several sessions (the sweep); by default each opens its own */
  gpu?: GpuContext;
  /** one line about the engine (device, parameters, kernels), for the user */
  onEngineReady?: (line: string) => void;
  /** fields added to the metrics header */
  header?: Record<string, unknown>;
  /**
   * compiles the model for training (compiler/compile.ts compileTraining, passed in by the
   * command): the runtime runs compiled programs and never loads the compiler itself
   */
  compileTraining: (model: ModelSpec, shape: { batch: number; seq: number }) => TrainingProgram;
}

/** What a run cost, beside what metrics.jsonl records. */
export interface SessionTimings {
  /** lowering, autodiff, code generation and pipeline creation, before any step */
  compileSeconds: number;
  /** from the end of the compile phase to the first step's result: the driver's lazy work shows here */
  firstStepSeconds: number | undefined;
  parameters: number;
  /** bytes archc allocated on the device for this run */
  deviceBytes: number | undefined;
  stepKernels: number | undefined;
}

export interface SessionResult extends TrainLoopResult {
  timings: SessionTimings;
}

/** Settings that must not change across a resume, or the continued run is not the same run. */
export function resumeMismatches(
  saved: CheckpointInfo,
  train: TrainSpec,
  engine: string,
  dataSource: string,
): string[] {
  const differences: string[] = [];
  const compare = (what: string, was: unknown, now: unknown) => {
    if (JSON.stringify(was) !== JSON.stringify(now))
      differences.push(`${what}: ${JSON.stringify(was)} in the checkpoint, ${JSON.stringify(now)} now`);
  };
  compare("model", saved.model.name, train.model);
  compare("engine", saved.engine, engine);
  compare("data", saved.data.source, dataSource);
  compare("tokenizer", saved.tokenizer, train.tokenizer);
  for (const key of ["batch", "seq", "seed", "optimizer", "schedule"] as const)
    compare(key, saved.train[key], train[key]);
  return differences;
}

interface BuiltEngine {
  engine: StepEngine;
  shapes: Map<string, number[]>;
  line: string;
  parameters: number;
  deviceBytes?: number;
  stepKernels?: number;
}

async function buildEngine(options: SessionOptions): Promise<BuiltEngine> {
  const { model, train, data } = options;
  if (options.engineKind === "cpu-bigram") {
    const { CpuBigramEngine, bigramShapes } = await import("./cpu-bigram.js");
    const vocab = data.tokenizer.vocabSize;
    if (vocab > 4096)
      throw new SessionError(
        `--cpu-bigram needs a small vocabulary (the bytes tokenizer); ${train.tokenizer} has ${vocab} tokens`,
      );
    return {
      engine: new CpuBigramEngine(vocab, train.optimizer, train.seed),
      shapes: bigramShapes(vocab),
      line: "CPU bigram demo (not the model)",
      parameters: vocab * vocab,
    };
  }
  if (model.vocab < data.tokenizer.vocabSize)
    throw new SessionError(
      `model ${model.name} has vocab ${model.vocab}, fewer than the ${data.tokenizer.vocabSize} tokens of the ${train.tokenizer} tokenizer`,
    );
  const { GpuTrainingEngine } = await import("./gpu-engine.js");
  const { DeviceError } = await import("../device.js");
  const { DeviceLimitError } = await import("../buffers.js");
  try {
    const program = options.compileTraining(model, { batch: train.batch, seq: train.seq });
    const engine = await GpuTrainingEngine.create({ program, train, gpu: options.gpu });
    const s = engine.summary();
    return {
      engine,
      shapes: engine.shapes(),
      line:
        `device ${s.adapter} (${s.software ? "software" : "hardware"}) · ${s.parameters} parameters · ` +
        `${s.stepKernels} kernels per training step in one submission`,
      parameters: s.parameters,
      deviceBytes: s.deviceBytes,
      stepKernels: s.stepKernels,
    };
  } catch (err) {
    if (err instanceof DeviceError || err instanceof DeviceLimitError) throw new SessionError(err.message);
    throw err;
  }
}

export async function runSession(options: SessionOptions): Promise<SessionResult> {
  const { model, train, data, runDir, resumeFrom } = options;
  if (resumeFrom) {
    const saved = readCheckpointInfo(resumeFrom);
    const mismatches = resumeMismatches(saved, train, options.engineKind, data.source);
    if (mismatches.length > 0)
      throw new SessionError(
        `cannot resume ${resumeFrom} with different settings:\n  ${mismatches.join("\n  ")}`,
      );
  }
  const compileStart = performance.now();
  const built = await buildEngine(options);
  const compileSeconds = (performance.now() - compileStart) / 1000;
  const { engine } = built;
  try {
    options.onEngineReady?.(`${built.line} · compiled in ${compileSeconds.toFixed(1)} s`);
    const restored = resumeFrom ? await restoreEngine(engine, resumeFrom) : undefined;
    const metrics = new MetricsLog(join(runDir, "metrics.jsonl"));
    metrics.header({
      train: train.name,
      model: model.name,
      engine: options.engineKind,
      tokenizer: train.tokenizer,
      data: data.corpus.description,
      train_tokens: data.corpus.train.length,
      val_tokens: data.corpus.validation.length,
      config: train,
      resumed_from: restored?.checkpoint ?? null,
      start_step: restored?.step ?? 0,
      compile_s: compileSeconds,
      parameters: built.parameters,
      ...(built.deviceBytes === undefined ? {} : { device_bytes: built.deviceBytes }),
      ...options.header,
    });
    let firstStepSeconds: number | undefined;
    const loopStart = performance.now();
    const result = await runTrainingLoop({
      engine,
      train,
      batches: data.sampler,
      validation: data.validation,
      runDir,
      shapes: built.shapes,
      checkpointInfo: {
        model,
        train,
        tokenizer: train.tokenizer,
        engine: options.engineKind,
        data: { source: data.source, seed: train.seed },
      },
      startStep: restored?.step ?? 0,
      resumedFrom: restored?.checkpoint,
      metrics,
      progress: options.progress,
      signal: options.signal,
      onFirstStep: () => {
        firstStepSeconds = (performance.now() - loopStart) / 1000;
        metrics.event("first_step", { seconds: firstStepSeconds });
      },
    });
    return {
      ...result,
      timings: {
        compileSeconds,
        firstStepSeconds,
        parameters: built.parameters,
        deviceBytes: built.deviceBytes,
        stepKernels: built.stepKernels,
      },
    };
  } finally {
    engine.dispose();
  }
}
