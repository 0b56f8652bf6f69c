// Runs a planned sweep: every variant and seed, one after another on one device (so pipelines
// compiled for one variant serve the next), each in its own run folder with the usual checkpoints
// and metrics. A finished or diverged run is never rerun; a half-trained one continues from its
// last checkpoint; Ctrl-C saves the current run and stops the sweep.

import { existsSync, rmSync } from "node:fs";
import { join } from "node:path";
import type { GpuContext } from "../runtime/device.js";
import { listCheckpoints, resolveCheckpoint } from "../runtime/checkpoint.js";
import { createProgress, formatDuration } from "../runtime/progress.js";
import { prepareTrainingData, type TrainingData } from "../runtime/train/data-setup.js";
import { TrainingDivergedError } from "../runtime/train/loop.js";
import { lockRun } from "../runtime/train/run-lock.js";
import { runSession } from "../runtime/train/session.js";
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
import { makeOutputDir } from "../runtime/output-dir.js";

export interface SweepOptions {
  /** the .arch file, for data paths relative to it and for the manifest */
  file: string;
  dir: string;
  plain?: boolean;
  signal?: AbortSignal;
  /** the device every run trains on; opened by the caller, so tests can share one */
  gpu: GpuContext;
  log: (line: string) => void;
}

export interface SweepOutcome {
  outcome: "finished" | "interrupted";
  ran: number;
  skipped: number;
  diverged: string[];
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

function runState(run: PlannedRun, runDir: string): RunState {
  if (readRunRecord(runDir)) return { kind: "done" };
  if (listCheckpoints(runDir).length > 0) {
    const checkpoint = resolveCheckpoint(runDir);
    if (checkpoint) return { kind: "resume", checkpoint };
  }
  return { kind: "fresh" };
}

export async function runSweep(plan: SweepPlan, options: SweepOptions): Promise<SweepOutcome> {
  const { dir, log } = options;
  openSweepFolder(plan, options.file, dir);
  const dataBySeed = new Map<number, TrainingData>();
  const baseDir = join(options.file, "..");
  const durations: number[] = [];
  const outcome: SweepOutcome = { outcome: "finished", ran: 0, skipped: 0, diverged: [] };
  const total = plan.runs.length;
  const pending = plan.runs.filter((run) => runState(run, join(dir, run.dir)).kind !== "done").length;
  log(
    `sweep ${plan.ablation.name}: ${plan.variants.length} variants x ${plan.seeds.length} seed(s), ` +
      `${plan.train.steps} steps each, ${total - pending} of ${total} runs already done · folder ${dir}`,
  );
  let left = pending;

  for (const [i, run] of plan.runs.entries()) {
    const runDir = join(dir, run.dir);
    const state = runState(run, runDir);
    const position = `${i + 1}/${total} ${run.variant.label} seed ${run.seed}`;
    if (state.kind === "done") {
      outcome.skipped += 1;
      log(`[${position}] already done, not rerun`);
      continue;
    }
    if (options.signal?.aborted) break;
    left -= 1;
    const runsAfter = left;
    const sweep = {
      label: position,
      // the mean of the finished runs; before any has finished, this run's own projection
      remainingAfterThis: (thisRun: number) =>
        (durations.length === 0 ? thisRun : durations.reduce((a, b) => a + b, 0) / durations.length) *
        runsAfter,
    };
    let data = dataBySeed.get(run.seed);
    if (!data) {
      data = await prepareTrainingData(run.train, baseDir);
      dataBySeed.set(run.seed, data);
    }
    // a run killed before its first checkpoint starts over, with its partial metrics cleared
    if (state.kind === "fresh") rmSync(join(runDir, "metrics.jsonl"), { force: true });
    const unlock = lockRun(runDir);
    const started = performance.now();
    try {
      log(
        `[${position}] ${state.kind === "resume" ? `resuming from ${state.checkpoint}` : "compiling"}` +
          (durations.length > 0
            ? ` · sweep ETA ${formatDuration(sweep.remainingAfterThis(0) + durations.at(-1)!)}`
            : ""),
      );
      const result = await runSession({
        model: run.variant.model,
        train: run.train,
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
    } catch (err) {
      if (!(err instanceof TrainingDivergedError)) throw err;
      // a diverged variant is a result, not a failure of the sweep
      writeRunRecord(runDir, {
        status: "diverged",
        label: run.variant.label,
        seed: run.seed,
        step: err.step,
        message: err.message,
      });
      outcome.diverged.push(`${run.variant.label} seed ${run.seed}`);
      log(`[${position}] diverged: ${err.message}`);
    } finally {
      unlock();
    }
    durations.push((performance.now() - started) / 1000);
  }
  return outcome;
}
