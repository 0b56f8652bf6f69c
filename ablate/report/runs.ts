// Reads what each run of a sweep left on disk: metrics.jsonl (losses, evaluations, timings) and
// run.json (how it ended). A run folder that is missing or damaged is reported as such, never
// guessed at: the report says which run is incomplete and why.

import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { readRunRecord, type ManifestVariant, type SweepManifest } from "../folder.js";
import { SweepError } from "../plan.js";

export type RunStatus = "finished" | "diverged" | "failed" | "incomplete" | "missing";

export interface RunMetrics {
  label: string;
  seed: number;
  dir: string;
  status: RunStatus;
  /** why it is not finished, when it is not */
  note?: string;
  /** steps completed, as far as the files tell */
  step: number;
  train: { step: number; loss: number }[];
  val: { step: number; loss: number }[];
  finalLoss?: number;
  finalValLoss?: number;
  /** median over the logged windows after warm-up */
  tokensPerSecond?: number;
  compileSeconds?: number;
  /** compile phase plus the first step: what a user waits before training moves */
  firstStepSeconds?: number;
  deviceBytes?: number;
}

type MetricRecord = Record<string, unknown>;

function parseLines(path: string): MetricRecord[] {
  const records: MetricRecord[] = [];
  const lines = readFileSync(path, "utf8").split("\n");
  lines.forEach((line, i) => {
    if (line.trim() === "") return;
    try {
      const record = JSON.parse(line) as unknown;
      if (typeof record === "object" && record !== null) records.push(record as MetricRecord);
    } catch {
      // a kill during an append leaves a torn line: the last one, or the last before a resumed
      // session's header; anything else is damage worth naming
      const next = lines.slice(i + 1).find((l) => l.trim() !== "");
      if (next !== undefined && !next.startsWith('{"type":"header"'))
        throw new SweepError(`${path}:${i + 1} is not JSON; the metrics file is damaged`);
    }
  });
  return records;
}

const num = (v: unknown): number | undefined => (typeof v === "number" && Number.isFinite(v) ? v : undefined);

function median(xs: number[]): number | undefined {
  if (xs.length === 0) return undefined;
  const sorted = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

/** later records of a step replace earlier ones: a resumed run repeats the steps after its checkpoint */
function byStep(records: MetricRecord[], type: string, field: string): { step: number; loss: number }[] {
  const map = new Map<number, number>();
  for (const r of records) {
    const step = num(r.step);
    const value = num(r[field]);
    if (r.type === type && step !== undefined && value !== undefined) map.set(step, value);
  }
  return [...map].sort((a, b) => a[0] - b[0]).map(([step, loss]) => ({ step, loss }));
}

export function readRunMetrics(
  sweepDir: string,
  manifest: SweepManifest,
  variant: ManifestVariant,
  seed: number,
): RunMetrics {
  const dir = `${variant.dir}/seed-${seed}`;
  const runDir = join(sweepDir, dir);
  const base: RunMetrics = {
    label: variant.label,
    seed,
    dir,
    status: "missing",
    step: 0,
    train: [],
    val: [],
  };
  const metricsPath = join(runDir, "metrics.jsonl");
  if (!existsSync(metricsPath)) return { ...base, note: existsSync(runDir) ? "no metrics.jsonl" : "not run" };
  const records = parseLines(metricsPath);
  const train = byStep(records, "step", "loss");
  const val = byStep(records, "eval", "val_loss");
  const record = readRunRecord(runDir);
  const steps = manifest.train.steps;
  const headers = records.filter((r) => r.type === "header");
  // the cold start is the session that began at step 0
  const coldIndex = records.findIndex((r) => r.type === "header" && num(r.start_step) === 0);
  const cold = coldIndex >= 0 ? records[coldIndex] : headers[0];
  const firstStep = records.slice(coldIndex + 1).find((r) => r.type === "first_step" || r.type === "header");
  const compileSeconds = num(cold?.compile_s);
  const firstStepOnly = firstStep?.type === "first_step" ? num(firstStep.seconds) : undefined;
  const rates = records
    .filter((r) => r.type === "step" && num(r.tokens_per_s) !== undefined && num(r.step)! > 1)
    .map((r) => r.tokens_per_s as number);
  const last = (xs: { step: number; loss: number }[], at: number) => xs.find((x) => x.step === at)?.loss;
  const step = Math.max(record?.step ?? 0, train.at(-1)?.step ?? 0);
  const status: RunStatus = record?.status ?? "incomplete";
  return {
    ...base,
    status,
    note:
      status === "diverged" || status === "failed"
        ? record?.message
        : status === "incomplete"
          ? `stopped at step ${step} of ${steps}; run archc ablate again to finish it`
          : undefined,
    step,
    train,
    val,
    finalLoss: status === "finished" ? last(train, steps) : undefined,
    finalValLoss: status === "finished" ? last(val, steps) : undefined,
    tokensPerSecond: median(rates),
    compileSeconds,
    firstStepSeconds:
      compileSeconds !== undefined && firstStepOnly !== undefined
        ? compileSeconds + firstStepOnly
        : undefined,
    deviceBytes: num(cold?.device_bytes),
  };
}
