// `archc train FILE`: train a model from its .arch file's `train` block (or the defaults), with
// checkpoints, metrics, resume and Ctrl-C handling. Heavy modules load inside the action, so
// registering the command costs nothing.

import type { Command } from "commander";
import { dirname, join } from "node:path";
import type { ModelSpec, TrainSpec } from "../compiler/spec.js";
import type { CheckpointInfo } from "../runtime/checkpoint.js";
import type { StepEngine } from "../runtime/train/engine.js";
import { EXIT, reportFailure, UserError } from "./common.js";

interface TrainFlags {
  train?: string;
  model?: string;
  steps?: string;
  out?: string;
  resume?: string | boolean;
  seed?: string;
  cpuBigram?: boolean;
  plain?: boolean;
}

/** Ctrl-C during training: the first stops after the current step with a checkpoint. */
const EXIT_INTERRUPTED = 130;

export function register(program: Command): void {
  program
    .command("train")
    .description("train a model on the GPU: checkpoints, metrics.jsonl, --resume; Ctrl-C saves and stops")
    .argument("<file>", ".arch file")
    .option("--train <name>", "train block to run (default: the file's only one)")
    .option("--model <name>", "model to train (default: the train block's model)")
    .option("--steps <n>", "total optimizer steps (overrides the train block)")
    .option("--out <dir>", "run directory (default: runs/<train name>)")
    .option("--resume [dir]", "continue from the latest checkpoint in dir (default: the run directory)")
    .option("--seed <n>", "seed for initialisation and data order (overrides the train block)")
    .option(
      "--cpu-bigram",
      "train a bigram table on the CPU instead of the model, to check data, checkpoints and resume without a GPU",
    )
    .option("--plain", "print log lines instead of a progress bar")
    .action(async (file: string, flags: TrainFlags) => {
      try {
        process.exitCode = await trainCommand(file, flags);
      } catch (err) {
        process.exitCode = reportFailure(err);
      }
    });
}

function integerFlag(value: string | undefined, flag: string, min: number): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!/^\d+$/.test(value.trim()) || !Number.isSafeInteger(n) || n < min)
    throw new UserError(`${flag} must be an integer >= ${min}, got '${value}'`, EXIT.usage);
  return n;
}

/** The train block and model the flags select, with --steps/--seed applied. */
async function selectTraining(
  file: string,
  flags: TrainFlags,
): Promise<{ train: TrainSpec; model: ModelSpec }> {
  const api = await import("../compiler/frontend.js");
  const result = api.loadProgram([file]);
  const text = api.formatDiagnostics(result);
  if (api.hasErrors(result)) throw new UserError(text.trimEnd());
  if (text.trim().length > 0) process.stderr.write(text.endsWith("\n") ? text : `${text}\n`);
  const trains = result.program.trains;
  let train: TrainSpec | undefined;
  if (flags.train !== undefined) {
    train = trains.get(flags.train);
    if (!train)
      throw new UserError(
        `${file} has no train block '${flags.train}'${trains.size ? ` (it has: ${[...trains.keys()].join(", ")})` : ""}`,
      );
  } else if (trains.size === 1) {
    train = [...trains.values()][0];
  } else if (trains.size > 1 && flags.model === undefined) {
    throw new UserError(
      `${file} has several train blocks (${[...trains.keys()].join(", ")}); pick one with --train`,
    );
  }
  const model = api.findModel(result, flags.model ?? train?.model);
  if (!train) {
    const { defaultTrainSpec } = await import("../runtime/train/defaults.js");
    train = defaultTrainSpec(model);
  }
  train = { ...train, model: model.name };
  const steps = integerFlag(flags.steps, "--steps", 1);
  const seed = integerFlag(flags.seed, "--seed", 0);
  if (steps !== undefined) train.steps = steps;
  if (seed !== undefined) train.seed = seed;
  if (train.seq > model.context)
    throw new UserError(`seq ${train.seq} exceeds model ${model.name}'s context ${model.context}`);
  return { train, model };
}

/** Settings that must not change across a resume, or the continued run is not the same run. */
function resumeMismatches(
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

async function createEngine(
  model: ModelSpec,
  train: TrainSpec,
  cpuBigram: boolean,
  vocab: number,
): Promise<{ engine: StepEngine; shapes: Map<string, number[]>; kind: string }> {
  if (cpuBigram) {
    const { CpuBigramEngine, bigramShapes } = await import("../runtime/train/cpu-bigram.js");
    if (vocab > 4096)
      throw new UserError(
        `--cpu-bigram needs a small vocabulary (the bytes tokenizer); ${train.tokenizer} has ${vocab} tokens`,
      );
    return {
      engine: new CpuBigramEngine(vocab, train.optimizer, train.seed),
      shapes: bigramShapes(vocab),
      kind: "cpu-bigram",
    };
  }
  const { lowerForCli } = await import("./lower-for-cli.js");
  const graph = lowerForCli(model, { batch: train.batch, seq: train.seq });
  const shapes = new Map(graph.params.map((p) => [p.name, [...p.shape]]));
  const { GpuTrainingEngine } = await import("../runtime/train/gpu-engine.js");
  const { DeviceError } = await import("../runtime/device.js");
  const { DeviceLimitError } = await import("../runtime/buffers.js");
  try {
    const engine = await GpuTrainingEngine.create({ model, train });
    const s = engine.summary();
    process.stderr.write(
      `device ${s.adapter} (${s.software ? "software" : "hardware"}) · ${s.parameters} parameters · ` +
        `${s.stepKernels} kernels per training step in one submission\n`,
    );
    return { engine, shapes, kind: "gpu" };
  } catch (err) {
    if (err instanceof DeviceError || err instanceof DeviceLimitError) throw new UserError(err.message);
    throw err;
  }
}

async function trainCommand(file: string, flags: TrainFlags): Promise<number> {
  const { train, model } = await selectTraining(file, flags);
  const { existsSync } = await import("node:fs");
  const { listCheckpoints, resolveCheckpoint } = await import("../runtime/checkpoint.js");

  let runDir = flags.out ?? join("runs", train.name);
  let resumeFrom: string | undefined;
  if (flags.resume !== undefined && flags.resume !== false) {
    const where = typeof flags.resume === "string" ? flags.resume : runDir;
    resumeFrom = resolveCheckpoint(where);
    if (!resumeFrom) throw new UserError(`--resume: no checkpoint in ${where}`);
    if (flags.out === undefined) runDir = existsSync(join(where, "state.json")) ? dirname(resumeFrom) : where;
  } else if (listCheckpoints(runDir).length > 0) {
    throw new UserError(
      `${runDir} already holds checkpoints; continue it with --resume, or choose another --out`,
    );
  }

  const { lockRun, RunLockedError } = await import("../runtime/train/run-lock.js");
  let unlock: () => void;
  try {
    unlock = lockRun(runDir);
  } catch (err) {
    if (err instanceof RunLockedError) throw new UserError(err.message);
    throw err;
  }
  try {
    return await trainInRunDir(file, flags, train, model, runDir, resumeFrom);
  } finally {
    unlock();
  }
}

async function trainInRunDir(
  file: string,
  flags: TrainFlags,
  train: TrainSpec,
  model: ModelSpec,
  runDir: string,
  resumeFrom: string | undefined,
): Promise<number> {
  const { readCheckpointInfo } = await import("../runtime/checkpoint.js");
  const { prepareTrainingData } = await import("../runtime/train/data-setup.js");
  const { MetricsLog } = await import("../runtime/metrics.js");
  const { createProgress } = await import("../runtime/progress.js");
  const { runTrainingLoop, TrainingDivergedError } = await import("../runtime/train/loop.js");
  const { restoreEngine } = await import("../runtime/train/resume.js");
  const engineKind = flags.cpuBigram ? "cpu-bigram" : "gpu";

  const data = await prepareTrainingData(train, dirname(file));
  if (!flags.cpuBigram && model.vocab < data.tokenizer.vocabSize) {
    throw new UserError(
      `model ${model.name} has vocab ${model.vocab}, fewer than the ${data.tokenizer.vocabSize} tokens of the ${train.tokenizer} tokenizer`,
    );
  }
  if (resumeFrom) {
    const saved = readCheckpointInfo(resumeFrom);
    const mismatches = resumeMismatches(saved, train, engineKind, data.source);
    if (mismatches.length > 0)
      throw new UserError(
        `cannot resume ${resumeFrom} with different settings:\n  ${mismatches.join("\n  ")}`,
      );
  }

  const { engine, shapes } = await createEngine(
    model,
    train,
    flags.cpuBigram === true,
    data.tokenizer.vocabSize,
  );
  const progress = createProgress(process.stderr, { plain: flags.plain });
  const metrics = new MetricsLog(join(runDir, "metrics.jsonl"));
  const controller = new AbortController();
  const onInterrupt = (): void => {
    if (controller.signal.aborted) process.exit(EXIT_INTERRUPTED); // a second Ctrl-C: leave now
    progress.note("stopping after this step and saving a checkpoint (Ctrl-C again to quit without saving)");
    controller.abort();
  };
  process.on("SIGINT", onInterrupt);
  try {
    const restored = resumeFrom ? await restoreEngine(engine, resumeFrom) : undefined;
    metrics.header({
      train: train.name,
      model: model.name,
      engine: engineKind,
      tokenizer: train.tokenizer,
      data: data.corpus.description,
      train_tokens: data.corpus.train.length,
      val_tokens: data.corpus.validation.length,
      config: train,
      resumed_from: restored?.checkpoint ?? null,
      start_step: restored?.step ?? 0,
    });
    process.stderr.write(
      `${engineKind === "cpu-bigram" ? "CPU bigram demo (not the model)" : `model ${model.name}`} · data ${data.corpus.description}: ` +
        `${data.corpus.train.length} train / ${data.corpus.validation.length} val tokens · run ${runDir}\n`,
    );
    const result = await runTrainingLoop({
      engine,
      train,
      batches: data.sampler,
      validation: data.validation,
      runDir,
      shapes,
      checkpointInfo: {
        model,
        train,
        tokenizer: train.tokenizer,
        engine: engineKind,
        data: { source: data.source, seed: train.seed },
      },
      startStep: restored?.step ?? 0,
      resumedFrom: restored?.checkpoint,
      metrics,
      progress,
      signal: controller.signal,
    });
    const loss = result.lastLoss === undefined ? "" : ` · loss ${result.lastLoss.toFixed(4)}`;
    const val = result.lastValLoss === undefined ? "" : ` · val_loss ${result.lastValLoss.toFixed(4)}`;
    process.stderr.write(
      `${result.outcome === "finished" ? "finished" : "interrupted"} at step ${result.step}${loss}${val} · checkpoint ${result.checkpoint}\n`,
    );
    return result.outcome === "finished" ? EXIT.ok : EXIT_INTERRUPTED;
  } catch (err) {
    if (err instanceof TrainingDivergedError) throw new UserError(err.message);
    throw err;
  } finally {
    process.off("SIGINT", onInterrupt);
    engine.dispose();
  }
}
