// The sweep folder on disk: sweep.json says which ablation of which file made it and with what
// settings, and each run folder's run.json says how that run ended. Both are what `archc report`
// and a resumed sweep trust, so both are checked when read.

import { existsSync, readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { writeFileAtomic } from "../runtime/checkpoint.js";
import type { TrainSpec } from "../format/spec.js";
import { SweepError, type SweepPlan } from "./plan.js";

export const MANIFEST_FILE = "sweep.json";
export const RUN_FILE = "run.json";
/** the trained model's depth statistics, written when a run finishes */
export const PROBE_FILE = "probe.json";
/** validation sequences the depth statistics average over (float64 on the CPU: keep it small) */
export const PROBE_SEQUENCES = 2;

export interface ManifestVariant {
  label: string;
  values: Record<string, string>;
  dir: string;
  fingerprint: string;
  flops_per_step: number;
  parameters: number;
  /** the model as checked, so the report needs no .arch file */
  model: unknown;
}

export interface SweepManifest {
  format: "archc-sweep";
  version: 1;
  file: string;
  ablation: string;
  base: string;
  fields: string[];
  combine: "cross" | "zip";
  baseline: string;
  train: TrainSpec;
  seeds: number[];
  variants: ManifestVariant[];
}

export interface RunRecord {
  /** diverged: the loss or a parameter became non-finite; failed: it could not train at all */
  status: "finished" | "diverged" | "failed";
  label: string;
  seed: number;
  step: number;
  /** the divergence message, when it diverged */
  message?: string;
}

export function manifestOf(plan: SweepPlan, file: string): SweepManifest {
  const a = plan.ablation;
  return {
    format: "archc-sweep",
    version: 1,
    file: resolve(file),
    ablation: a.name,
    base: a.base,
    fields: a.fields,
    combine: a.combine,
    baseline: a.baseline,
    train: plan.train,
    seeds: plan.seeds,
    variants: plan.variants.map((v) => ({
      label: v.label,
      values: v.values,
      dir: v.dir,
      fingerprint: v.fingerprint,
      flops_per_step: v.flopsPerStep,
      parameters: v.parameters,
      model: v.model,
    })),
  };
}

function readJson(path: string, what: string): unknown {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (err) {
    throw new SweepError(`cannot read ${what} ${path}: ${(err as Error).message}`);
  }
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new SweepError(`${path} is not valid JSON (${(err as Error).message}); the ${what} is damaged`);
  }
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** Reads sweep.json, refusing anything that is not one archc wrote. */
export function readManifest(dir: string): SweepManifest {
  const path = join(dir, MANIFEST_FILE);
  if (!existsSync(path))
    throw new SweepError(
      `${dir} is not a sweep folder: it has no ${MANIFEST_FILE} (archc ablate writes one)`,
    );
  const m = readJson(path, "sweep manifest");
  const fail = (why: string) => new SweepError(`${path}: ${why}; the sweep manifest is damaged`);
  if (!isRecord(m) || m.format !== "archc-sweep") throw fail("it is not an archc sweep manifest");
  if (m.version !== 1) throw fail(`version ${JSON.stringify(m.version)} is not one this archc reads (1)`);
  for (const key of ["file", "ablation", "base", "baseline"] as const)
    if (typeof m[key] !== "string") throw fail(`'${key}' is not a string`);
  if (!Array.isArray(m.fields) || !m.fields.every((f) => typeof f === "string"))
    throw fail("'fields' is not a list of field names");
  if (m.combine !== "cross" && m.combine !== "zip") throw fail("'combine' is neither cross nor zip");
  if (
    !isRecord(m.train) ||
    !["steps", "batch", "seq", "seed"].every((k) =>
      Number.isSafeInteger((m.train as Record<string, unknown>)[k]),
    )
  )
    throw fail("'train' is not a train block");
  if (!Array.isArray(m.seeds) || !m.seeds.every((s) => Number.isSafeInteger(s)))
    throw fail("'seeds' is not a list of whole numbers");
  if (!Array.isArray(m.variants) || m.variants.length === 0) throw fail("'variants' is empty or missing");
  for (const v of m.variants as unknown[]) {
    if (!isRecord(v) || typeof v.label !== "string" || typeof v.dir !== "string")
      throw fail("a variant has no label or folder");
    if (!/^[A-Za-z0-9._-]+$/.test(v.dir) || v.dir.startsWith("."))
      throw fail(`variant folder '${v.dir}' is not a plain folder name`);
    if (typeof v.flops_per_step !== "number" || !(v.flops_per_step > 0))
      throw fail(`variant ${v.label} has no FLOPs per step`);
    if (!Number.isSafeInteger(v.parameters)) throw fail(`variant ${v.label} has no parameter count`);
    if (!isRecord(v.values) || !Object.values(v.values).every((x) => typeof x === "string"))
      throw fail(`variant ${v.label} has no field values`);
  }
  const dirs = (m.variants as { dir: string }[]).map((v) => v.dir);
  if (new Set(dirs).size !== dirs.length) throw fail("two variants share a folder");
  return m as unknown as SweepManifest;
}

/**
 * Whether an existing sweep folder may be continued by this plan: same file, same ablation, same
 * training settings and seeds, and every variant it already knows trained the same architecture.
 */
export function manifestConflicts(existing: SweepManifest, wanted: SweepManifest): string[] {
  const problems: string[] = [];
  if (existing.file !== wanted.file || existing.ablation !== wanted.ablation)
    problems.push(
      `it holds ablation '${existing.ablation}' of ${existing.file}, not '${wanted.ablation}' of ${wanted.file}`,
    );
  // the name and source position are not settings: moving the block in its file changes neither run
  const { name: _a, span: _c, ...trainWas } = existing.train;
  const { name: _b, span: _d, ...trainNow } = wanted.train;
  if (JSON.stringify(trainWas) !== JSON.stringify(trainNow))
    problems.push(
      `its training settings differ (train block ${existing.train.name}, ${existing.train.steps} steps)`,
    );
  if (JSON.stringify(existing.seeds) !== JSON.stringify(wanted.seeds))
    problems.push(`its seeds are ${existing.seeds.join(", ")}, not ${wanted.seeds.join(", ")}`);
  for (const was of existing.variants) {
    const now = wanted.variants.find((v) => v.label === was.label);
    if (now && now.fingerprint !== was.fingerprint)
      problems.push(`variant ${was.label} now describes a different model`);
    if (now && now.dir !== was.dir) problems.push(`variant ${was.label} moved from ${was.dir} to ${now.dir}`);
    const clash = wanted.variants.find((v) => v.dir === was.dir && v.label !== was.label);
    if (clash)
      problems.push(`variant ${clash.label} would use folder ${was.dir}, which holds variant ${was.label}`);
  }
  return problems;
}

export function writeManifest(dir: string, manifest: SweepManifest): void {
  writeFileAtomic(join(dir, MANIFEST_FILE), JSON.stringify(manifest, null, 2) + "\n");
}

/** How a run ended, or undefined when it has not ended (never started, interrupted, killed). */
export function readRunRecord(runDir: string): RunRecord | undefined {
  const path = join(runDir, RUN_FILE);
  if (!existsSync(path)) return undefined;
  const r = readJson(path, "run record");
  if (
    !isRecord(r) ||
    (r.status !== "finished" && r.status !== "diverged" && r.status !== "failed") ||
    typeof r.step !== "number"
  )
    throw new SweepError(`${path} is not a run record archc wrote; delete it to rerun that run`);
  return r as unknown as RunRecord;
}

export function writeRunRecord(runDir: string, record: RunRecord): void {
  writeFileAtomic(join(runDir, RUN_FILE), JSON.stringify(record, null, 2) + "\n");
}
