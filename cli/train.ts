// `archc train FILE`: train a model from its .arch file's `train` block (or the defaults), with
// checkpoints, metrics, resume and Ctrl-C handling. Heavy modules load inside the action, so
// registering the command costs nothing.

import type { Command } from "commander";
import { dirname, join } from "node:path";
import type { ModelSpec, TrainSpec } from "../format/spec.js";
import { EXIT, reportFailure, UserError } from "./common.js";
import { integerFlag } from "./flags.js";
import {
  NO_TUNING_HELP,
  NO_TUNING_OPTION,
  TUNING_HELP,
  TUNING_OPTION,
  tuningFor,
  type TuningFlags,
} from "./tuning-flags.js";

interface TrainFlags extends TuningFlags {
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
    .option(TUNING_OPTION, TUNING_HELP)
    .option(NO_TUNING_OPTION, NO_TUNING_HELP)
    .action(async (file: string, flags: TrainFlags) => {
      try {
        process.exitCode = await trainCommand(file, flags);
      } catch (err) {
        process.exitCode = reportFailure(err);
      }
    });
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
    // a save killed midway left temporaries behind; with the lock held they are ours to remove
    const { cleanStaleTemporaries } = await import("../runtime/checkpoint.js");
    cleanStaleTemporaries(runDir);
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
  const { prepareTrainingData } = await import("../runtime/train/data-setup.js");
  const { createProgress } = await import("../runtime/progress.js");
  const { TrainingDivergedError } = await import("../runtime/train/loop.js");
  const { runSession, SessionError } = await import("../runtime/train/session.js");
  const { compileTraining } = await import("../compiler/compile.js");

  const data = await prepareTrainingData(train, dirname(file));
  const progress = createProgress(process.stderr, { plain: flags.plain });
  const controller = new AbortController();
  const { interruptHandler } = await import("./interrupt.js");
  const onInterrupt = interruptHandler(
    () => {
      progress.note("stopping after this step and saving a checkpoint (Ctrl-C again to quit without saving)");
      controller.abort();
    },
    () => process.exit(EXIT_INTERRUPTED), // a second Ctrl-C: leave now
  );
  process.on("SIGINT", onInterrupt);
  try {
    const engineKind = flags.cpuBigram ? "cpu-bigram" : "gpu";
    // the session compiles before it opens the device: the table is for the adapter it will open
    const { defaultAdapterInfo } = await import("../runtime/device.js");
    const tuning = engineKind === "gpu" ? await tuningFor(await defaultAdapterInfo(), flags) : undefined;
    process.stderr.write(`compiling ${model.name} for training...\n`);
    const result = await runSession({
      model,
      train,
      compileTraining: (m, shape) => compileTraining(m, shape, { tuning }),
      data,
      runDir,
      engineKind,
      resumeFrom,
      progress,
      signal: controller.signal,
      onEngineReady: (line) =>
        process.stderr.write(
          `${line}\n${engineKind === "cpu-bigram" ? "CPU bigram demo (not the model)" : `model ${model.name}`} · data ${data.corpus.description}: ` +
            `${data.corpus.train.length} train / ${data.corpus.validation.length} val tokens · run ${runDir}\n`,
        ),
    });
    const loss = result.lastLoss === undefined ? "" : ` · loss ${result.lastLoss.toFixed(4)}`;
    const val = result.lastValLoss === undefined ? "" : ` · val_loss ${result.lastValLoss.toFixed(4)}`;
    process.stderr.write(
      `${result.outcome === "finished" ? "finished" : "interrupted"} at step ${result.step}${loss}${val} · checkpoint ${result.checkpoint}\n`,
    );
    return result.outcome === "finished" ? EXIT.ok : EXIT_INTERRUPTED;
  } catch (err) {
    const { DeviceError } = await import("../runtime/device.js");
    if (err instanceof TrainingDivergedError || err instanceof SessionError || err instanceof DeviceError)
      throw new UserError(err.message);
    throw err;
  } finally {
    process.off("SIGINT", onInterrupt);
  }
}
