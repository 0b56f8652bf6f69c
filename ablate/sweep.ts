// Runs a planned sweep: every variant and seed, one after another on one device (so pipelines
// compiled for one variant serve the next), each in its own run folder with the usual checkpoints
// and metrics. A finished or diverged run is never rerun; a half-trained one continues from its
// last checkpoint; Ctrl-C saves the current run and stops the sweep.

import { existsSync, rmSync } from "node:fs";
import { join } from "node:path";
import type { GpuContext } from "../runtime/device.js";
import {
  listCheckpoints,
  loadCheckpoint,
  resolveCheckpoint,
  writeFileAtomic,
} from "../runtime/checkpoint.js";
import { DeviceError } from "../runtime/device.js";
import { validationBatches } from "../runtime/data/sampler.js";
import { createProgress, formatDuration } from "../runtime/progress.js";
import { prepareTrainingData, type TrainingData } from "../runtime/train/data-setup.js";
import { TrainingDivergedError } from "../runtime/train/loop.js";
import { lockRun, RunLockedError } from "../runtime/train/run-lock.js";
import { runSession, SessionError } from "../runtime/train/session.js";
import { compileTraining } from "../compiler/compile.js";
import { probeDepth } from "./probe.js";
import { PROBE_FILE, PROBE_SEQUENCES } from "./folder.js";
import {
  manifestConflicts,
  manifestOf,
  MANIFEST_FILE,
  readManifest,
  readRunRecord,
  writeManifest,
  writeRunRecord,
} from "./folder.js";
import { SweepError, type PlannedRun, type SweepPlan } from "./plan.js";
import { makeOutputDir } from "../format/output-dir.js";
import type { TuningTable } from "../format/tuning.js";

export interface SweepOptions {
  /** the .arch file, for data paths relative to it and for the manifest */
  file: string;
  dir: string;
  plain?: boolean;
  signal?: AbortSignal;
  /** the device every run trains on; opened by the caller, so tests can share one */
  gpu: GpuContext;
  log: (line: string) => void;
  /** the kernel variants for that device (compiler/tuning/lookup.ts); none: the defaults */
  tuning?: TuningTable;
}

export interface SweepOutcome {
  outcome: "finished" | "interrupted";
  ran: number;
  skipped: number;
  diverged: string[];
  /** runs that could not train at all (a device limit, a vocabulary the tokenizer does not fit) */
  failed: string[];
}

/** Opens (or creates) the sweep folder, refusing one that another ablation, file or setting made. */
export function openSweepFolder(plan: SweepPlan, file: string, dir: string): void {
  const wanted = manifestOf(plan, file);
  if (existsSync(join(dir, MANIFEST_FILE))) {
    const existing = readManifest(dir);
    const problems = manifestConflicts(existing, wanted);
    if (problems.length > 0)
      throw new SweepError(
        `${dir} is a sweep folder that this sweep cannot continue:\n  ${problems.join("\n  ")}\n` +
          `choose another --out, or delete ${dir} to start over`,
      );
    // keep the variants it knew that this file no longer lists, so their runs stay in the report
    const kept = existing.variants.filter((v) => !wanted.variants.some((w) => w.label === v.label));
    writeManifest(dir, { ...wanted, variants: [...wanted.variants, ...kept] });
    return;
  }
  makeOutputDir(dir);
  writeManifest(dir, wanted);
}

type RunState = { kind: "done" } | { kind: "resume"; checkpoint: string } | { kind: "fresh" };

function runState(runDir: string): RunState {
  if (readRunRecord(runDir)) return { kind: "done" };
  if (listCheckpoints(runDir).length > 0) {
    const checkpoint = resolveCheckpoint(runDir);
    if (checkpoint) return { kind: "resume", checkpoint };
  }
  return { kind: "fresh" };
}

/** Depth statistics of the trained model, kept beside it so the report needs neither data nor CPU time later. */
async function saveProbe(runDir: string, data: TrainingData, run: PlannedRun): Promise<void> {
  const checkpoint = resolveCheckpoint(runDir);
  if (!checkpoint) return;
  const { params } = loadCheckpoint(checkpoint, { optimizer: false });
  const [batch] = validationBatches(data.corpus.validation, PROBE_SEQUENCES, run.train.seq, 1);
  if (!batch) return;
  const probe = probeDepth(run.variant.model, params, batch.tokens, {
    batch: PROBE_SEQUENCES,
    seq: run.train.seq,
  });
  writeFileAtomic(join(runDir, PROBE_FILE), JSON.stringify(probe) + "\n");
}

/** a run that could not train (a device limit, a model the data does not fit) is recorded, like a divergence */
function failureOf(
  err: unknown,
): { status: "diverged" | "failed"; step: number; message: string } | undefined {
  if (err instanceof TrainingDivergedError)
    return { status: "diverged", step: err.step, message: err.message };
  if (err instanceof SessionError || err instanceof DeviceError)
    return { status: "failed", step: 0, message: err.message };
  return undefined;
}

export async function runSweep(plan: SweepPlan, options: SweepOptions): Promise<SweepOutcome> {
  const { dir } = options;
  openSweepFolder(plan, options.file, dir);
  // one sweep process per folder: a second one would delete or interleave the first one's files
  let unlockSweep: () => void;
  try {
    unlockSweep = lockRun(dir);
  } catch (err) {
    if (err instanceof RunLockedError)
      throw new SweepError(`${dir} is being run by another archc ablate; wait for it to finish`);
    throw err;
  }
  try {
    return await runPlannedRuns(plan, options);
  } finally {
    unlockSweep();
  }
}

async function runPlannedRuns(plan: SweepPlan, options: SweepOptions): Promise<SweepOutcome> {
  const { dir, log } = options;
  const dataBySeed = new Map<number, TrainingData>();
  const baseDir = join(options.file, "..");
  // whole runs trained from step 0 in this process: what the ETA of the runs still to come is made of
  const durations: number[] = [];
  const outcome: SweepOutcome = { outcome: "finished", ran: 0, skipped: 0, diverged: [], failed: [] };
  const total = plan.runs.length;
  const pending = plan.runs.filter((run) => runState(join(dir, run.dir)).kind !== "done").length;
  const variantCount = new Set(plan.runs.map((r) => r.variant.index)).size;
  const variantOrder = [...new Set(plan.runs.map((r) => r.variant.index))];
  log(
    `sweep ${plan.ablation.name}: ${variantCount} variants x ${plan.seeds.length} seed(s), ` +
      `${plan.train.steps} steps each, ${total - pending} of ${total} runs already done · folder ${dir}`,
  );
  let left = pending;

  for (const [i, run] of plan.runs.entries()) {
    if (options.signal?.aborted) {
      outcome.outcome = "interrupted";
      break;
    }
    const runDir = join(dir, run.dir);
    const position =
      `variant ${variantOrder.indexOf(run.variant.index) + 1}/${variantCount} ${run.variant.label} ` +
      `seed ${run.seed} (run ${i + 1}/${total})`;
    if (runState(runDir).kind === "done") {
      outcome.skipped += 1;
      log(`[${position}] already done, not rerun`);
      continue;
    }
    left -= 1;
    const runsAfter = left;
    const sweep = {
      label: position,
      // the mean of whole runs finished so far; before any has finished, this run's own projection
      remainingAfterThis: (thisRun: number) =>
        (durations.length === 0 ? thisRun : durations.reduce((a, b) => a + b, 0) / durations.length) *
        runsAfter,
    };
    let data = dataBySeed.get(run.seed);
    if (!data) {
      data = await prepareTrainingData(run.train, baseDir);
      dataBySeed.set(run.seed, data);
    }
    const unlock = lockRun(runDir);
    const started = performance.now();
    let wholeRun = false;
    try {
      // decided under the run's lock, so nothing another process writes is deleted
      const state = runState(runDir);
      wholeRun = state.kind === "fresh";
      // a run killed before its first checkpoint starts over, with its partial metrics cleared
      if (state.kind === "fresh") rmSync(join(runDir, "metrics.jsonl"), { force: true });
      log(
        `[${position}] ${state.kind === "resume" ? `resuming from ${state.checkpoint}` : "compiling"}` +
          (durations.length > 0
            ? ` · sweep ETA ${formatDuration(sweep.remainingAfterThis(0) + durations.at(-1)!)}`
            : ""),
      );
      const result = await runSession({
        model: run.variant.model,
        train: run.train,
        compileTraining: (model, shape) => compileTraining(model, shape, { tuning: options.tuning }),
        data,
        runDir,
        engineKind: "gpu",
        resumeFrom: state.kind === "resume" ? state.checkpoint : undefined,
        progress: createProgress(process.stderr, { plain: options.plain, sweep }),
        signal: options.signal,
        gpu: options.gpu,
        onEngineReady: (line) => log(`[${position}] ${line}`),
        header: { sweep: plan.ablation.name, variant: run.variant.label },
      });
      if (result.outcome === "interrupted") {
        outcome.outcome = "interrupted";
        log(`[${position}] interrupted at step ${result.step}; run archc ablate again to continue`);
        break;
      }
      await saveProbe(runDir, data, run);
      writeRunRecord(runDir, {
        status: "finished",
        label: run.variant.label,
        seed: run.seed,
        step: result.step,
      });
      outcome.ran += 1;
      log(
        `[${position}] finished · val_loss ${result.lastValLoss?.toFixed(4) ?? "-"} · ` +
          `${formatDuration((performance.now() - started) / 1000)}`,
      );
      if (wholeRun) durations.push((performance.now() - started) / 1000);
    } catch (err) {
      const failure = failureOf(err);
      if (!failure) throw err;
      // a run that diverged or could not train is a result, not a failure of the sweep
      writeRunRecord(runDir, { ...failure, label: run.variant.label, seed: run.seed });
      (failure.status === "diverged" ? outcome.diverged : outcome.failed).push(
        `${run.variant.label} seed ${run.seed}`,
      );
      log(`[${position}] ${failure.status}: ${failure.message}`);
    } finally {
      unlock();
    }
  }
  return outcome;
}
