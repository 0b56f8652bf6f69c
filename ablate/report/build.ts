// The numbers of an ablation report, from a sweep folder alone (sweep.json, each run's metrics.jsonl,
// run.json and probe.json): per-variant summaries over seeds, differences against the baseline with Welch
// intervals, the compute multiplier, and the depth statistics of the trained models. Nothing here
// depends on the clock or the machine, so rebuilding from a copied folder gives the same JSON.

import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { PROBE_FILE, readManifest, type ManifestVariant, type SweepManifest } from "../folder.js";
import { SweepError } from "../plan.js";
import type { DepthProbe } from "../probe.js";
import {
  fitPowerLaw,
  fittedMultiplier,
  interpolatedMultiplier,
  multiplierOverSeeds,
  type ComputePoint,
  type MultiplierOverSeeds,
  type PowerLawFit,
} from "./multiplier.js";
import { readRunMetrics, type RunMetrics } from "./runs.js";
import { summarize, welchInterval, type Summary, type WelchInterval } from "./stats.js";

export interface VariantReport {
  label: string;
  values: Record<string, string>;
  baseline: boolean;
  /** the variant this one is compared against (the baseline, or its same-size counterpart in a scaling sweep) */
  reference: string;
  parameters: number;
  flopsPerStep: number;
  runs: RunMetrics[];
  /** over finished seeds only */
  trainLoss?: Summary;
  valLoss?: Summary;
  /** val loss minus the reference's, with its 95% Welch interval when both have two or more seeds */
  delta?: { diff: number; interval?: WelchInterval; ratio: number };
  multiplier?: MultiplierOverSeeds & { reasons: string[]; lowerBound?: number; upperBound?: number };
  tokensPerSecond?: number;
  stepSeconds?: number;
  deviceBytes?: number;
  compileSeconds?: number;
  firstStepSeconds?: number;
  diverged: number;
  /** runs that could not train at all */
  failed: number;
  incomplete: number;
  probe?: DepthProbe;
}

export interface ScalingFit {
  /** the residual kind: the value of the `residual` field */
  kind: string;
  points: { label: string; flops: number; loss: number }[];
  fit?: PowerLawFit;
  /** why there is no fit */
  note?: string;
  /**
   * against the baseline kind's fit, at each point's compute: from the fits of the seed means, and
   * spread over the fits of each seed; extrapolated when the baseline compute it stands for lies
   * outside the baseline's sizes
   */
  multipliers: {
    label: string;
    flops: number;
    multiplier: number;
    overSeeds: MultiplierOverSeeds;
    extrapolated: boolean;
  }[];
}

export interface ReportData {
  format: "archc-ablation-report";
  version: 1;
  ablation: string;
  base: string;
  file: string;
  fields: string[];
  baseline: string;
  train: SweepManifest["train"];
  seeds: number[];
  tokensPerStep: number;
  variants: VariantReport[];
  scaling?: { field: string; fits: ScalingFit[]; note?: string };
}

const finite = (xs: (number | undefined)[]): number[] =>
  xs.filter((x): x is number => x !== undefined && Number.isFinite(x));

function medianOf(xs: number[]): number | undefined {
  if (xs.length === 0) return undefined;
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
}

/**
 * The variant each one is measured against. In a sweep that varies `residual` with size fields, that
 * is the variant of the same size with the baseline's residual, when it has finished runs; otherwise,
 * and for every other sweep, the baseline itself.
 */
function referenceOf(manifest: SweepManifest, variant: ManifestVariant, finished: Set<string>): string {
  const baseline = manifest.variants.find((v) => v.label === manifest.baseline)!;
  if (!manifest.fields.includes("residual") || manifest.fields.length === 1) return baseline.label;
  const wanted = { ...variant.values, residual: baseline.values.residual };
  const match = manifest.variants.find((v) => JSON.stringify(v.values) === JSON.stringify(wanted));
  return match && match.label !== variant.label && finished.has(match.label) ? match.label : baseline.label;
}

function curve(run: RunMetrics, flopsPerStep: number): ComputePoint[] {
  return run.val.filter((p) => p.step > 0).map((p) => ({ flops: p.step * flopsPerStep, loss: p.loss }));
}

function multiplierAgainst(
  variant: { runs: RunMetrics[]; flopsPerStep: number },
  reference: { label: string; runs: RunMetrics[]; flopsPerStep: number },
  steps: number,
): VariantReport["multiplier"] {
  const reasons: string[] = [];
  const lower: number[] = [];
  const upper: number[] = [];
  const perSeed = variant.runs.map((run) => {
    if (run.finalValLoss === undefined) {
      reasons.push(`seed ${run.seed}: this run is ${run.status}`);
      return undefined;
    }
    const partner = reference.runs.find((r) => r.seed === run.seed);
    if (partner?.status !== "finished") {
      reasons.push(
        `seed ${run.seed}: ${reference.label} seed ${run.seed} is ${partner?.status ?? "missing"}`,
      );
      return undefined;
    }
    const result = interpolatedMultiplier(curve(partner, reference.flopsPerStep), {
      flops: steps * variant.flopsPerStep,
      loss: run.finalValLoss,
    });
    if (result.multiplier === undefined) {
      reasons.push(`seed ${run.seed}: ${result.reason}`);
      if (result.lowerBound !== undefined) lower.push(result.lowerBound);
      if (result.upperBound !== undefined) upper.push(result.upperBound);
    }
    return result.multiplier;
  });
  const over = multiplierOverSeeds(perSeed);
  return {
    ...over,
    reasons,
    ...(lower.length > 0 ? { lowerBound: Math.min(...lower) } : {}),
    ...(upper.length > 0 ? { upperBound: Math.max(...upper) } : {}),
  };
}

/** the depth statistics saved when the run finished (ablate/sweep.ts), or why there are none */
function readProbe(sweepDir: string, variant: VariantReport): DepthProbe | undefined {
  const run = variant.runs.find(
    (r) => r.status === "finished" && existsSync(join(sweepDir, r.dir, PROBE_FILE)),
  );
  if (!run) return undefined;
  const path = join(sweepDir, run.dir, PROBE_FILE);
  try {
    const probe = JSON.parse(readFileSync(path, "utf8")) as DepthProbe;
    if (!Array.isArray(probe.aggregations) || !Array.isArray(probe.sublayers)) throw new Error("not a probe");
    return probe;
  } catch {
    throw new SweepError(
      `${path} is not a depth probe archc wrote; delete it, and the report goes without it`,
    );
  }
}

/** one kind's power-law fit, or why there is none */
function tryFit(points: ComputePoint[]): { fit?: PowerLawFit; why?: string } {
  if (new Set(points.map((p) => p.flops)).size < 2) return { why: "one model size" };
  try {
    return { fit: fitPowerLaw(points) };
  } catch (err) {
    return { why: (err as Error).message };
  }
}

/**
 * The paper's scaling-law reading: when the sweep varies model size as well as `residual`, fit
 * L(C) = a·C^(−b) per residual kind over the final validation losses, per seed, and read each kind's
 * multiplier against the baseline kind at each size's compute. A fit whose loss does not fall with
 * compute, or a reading outside the baseline's range, is said, not hidden.
 */
function scalingFits(manifest: SweepManifest, variants: VariantReport[]): ReportData["scaling"] {
  if (!manifest.fields.includes("residual")) return undefined;
  const steps = manifest.train.steps;
  const kinds = [...new Set(variants.map((v) => v.values.residual))];
  const sizesVary = kinds.some(
    (kind) => new Set(variants.filter((v) => v.values.residual === kind).map((v) => v.flopsPerStep)).size > 1,
  );
  if (!sizesVary) return undefined;
  const pointsOf = (kind: string, loss: (v: VariantReport) => number | undefined) =>
    variants
      .filter((v) => v.values.residual === kind && loss(v) !== undefined)
      .map((v) => ({ label: v.label, flops: steps * v.flopsPerStep, loss: loss(v)! }));
  const baselineKind = variants.find((v) => v.baseline)!.values.residual;
  const fits: ScalingFit[] = kinds.map((kind) => {
    const points = pointsOf(kind, (v) => v.valLoss?.mean);
    const { fit, why } = tryFit(points);
    return {
      kind,
      points,
      ...(fit ? { fit } : {}),
      ...(why ? { note: `no fit: ${why}` } : {}),
      multipliers: [],
    };
  });
  const reference = fits.find((f) => f.kind === baselineKind);
  const seedLoss = (seed: number) => (v: VariantReport) => v.runs.find((r) => r.seed === seed)?.finalValLoss;
  for (const f of fits) {
    if (f === reference || !f.fit || !reference?.fit || reference.fit.b <= 0) continue;
    const range = [
      Math.min(...reference.points.map((p) => p.flops)),
      Math.max(...reference.points.map((p) => p.flops)),
    ];
    f.multipliers = f.points.map((p) => {
      // the same reading on each seed's own fits gives the spread over seeds
      const perSeed = manifest.seeds.map((seed) => {
        const base = tryFit(pointsOf(baselineKind, seedLoss(seed))).fit;
        const own = tryFit(pointsOf(f.kind, seedLoss(seed))).fit;
        return base && own && base.b > 0 ? fittedMultiplier(base, own, p.flops) : undefined;
      });
      const multiplier = fittedMultiplier(reference.fit!, f.fit!, p.flops);
      // the baseline compute it stands for, C' = multiplier x C, read outside the baseline's sizes
      const needed = multiplier * p.flops;
      return {
        label: p.label,
        flops: p.flops,
        multiplier,
        overSeeds: multiplierOverSeeds(perSeed),
        extrapolated: needed < range[0] * (1 - 1e-9) || needed > range[1] * (1 + 1e-9),
      };
    });
  }
  const notes: string[] = [];
  if (reference?.fit && reference.fit.b <= 0)
    notes.push(
      `the baseline kind's loss does not fall with compute across these sizes (b = ${reference.fit.b.toFixed(4)}): no multiplier can be read from the fits`,
    );
  if (fits.filter((f) => f.fit).length < 2)
    notes.push("fewer than two residual kinds have two or more model sizes: no fits to compare");
  return { field: "residual", fits, ...(notes.length > 0 ? { note: notes.join("; ") } : {}) };
}

export async function buildReport(sweepDir: string, options: { probe?: boolean } = {}): Promise<ReportData> {
  const manifest = readManifest(sweepDir);
  if (!manifest.variants.some((v) => v.label === manifest.baseline))
    throw new SweepError(`${sweepDir}: the baseline ${manifest.baseline} is not among the sweep's variants`);
  const steps = manifest.train.steps;
  const finishedLabels = new Set(
    manifest.variants
      .filter((v) =>
        manifest.seeds.some((seed) => readRunMetrics(sweepDir, manifest, v, seed).status === "finished"),
      )
      .map((v) => v.label),
  );
  const variants: VariantReport[] = manifest.variants.map((v) => {
    const runs = manifest.seeds.map((seed) => readRunMetrics(sweepDir, manifest, v, seed));
    const finished = runs.filter((r) => r.status === "finished");
    const val = finite(finished.map((r) => r.finalValLoss));
    const train = finite(finished.map((r) => r.finalLoss));
    const rate = medianOf(finite(runs.map((r) => r.tokensPerSecond)));
    const tokensPerStep = manifest.train.batch * manifest.train.seq;
    return {
      label: v.label,
      values: v.values,
      baseline: v.label === manifest.baseline,
      reference: referenceOf(manifest, v, finishedLabels),
      parameters: v.parameters,
      flopsPerStep: v.flops_per_step,
      runs,
      ...(train.length ? { trainLoss: summarize(train) } : {}),
      ...(val.length ? { valLoss: summarize(val) } : {}),
      ...(rate === undefined ? {} : { tokensPerSecond: rate, stepSeconds: tokensPerStep / rate }),
      deviceBytes: medianOf(finite(runs.map((r) => r.deviceBytes))),
      // the variant's first run is the one that compiled its pipelines; later seeds reuse them
      compileSeconds: runs.find((r) => r.compileSeconds !== undefined)?.compileSeconds,
      firstStepSeconds: runs.find((r) => r.firstStepSeconds !== undefined)?.firstStepSeconds,
      diverged: runs.filter((r) => r.status === "diverged").length,
      failed: runs.filter((r) => r.status === "failed").length,
      incomplete: runs.filter((r) => r.status === "incomplete" || r.status === "missing").length,
    };
  });
  for (const v of variants) {
    const ref = variants.find((r) => r.label === v.reference)!;
    if (v === ref || !v.valLoss || !ref.valLoss) continue;
    const a = finite(ref.runs.map((r) => r.finalValLoss));
    const b = finite(v.runs.map((r) => r.finalValLoss));
    v.delta = {
      diff: v.valLoss.mean - ref.valLoss.mean,
      ...(welchInterval(a, b) ? { interval: welchInterval(a, b) } : {}),
      ratio: v.valLoss.mean / ref.valLoss.mean,
    };
    v.multiplier = multiplierAgainst(v, ref, steps);
  }
  if (options.probe !== false)
    for (const v of variants) {
      const probe = readProbe(sweepDir, v);
      if (probe) v.probe = probe;
    }
  return {
    format: "archc-ablation-report",
    version: 1,
    ablation: manifest.ablation,
    base: manifest.base,
    file: manifest.file,
    fields: manifest.fields,
    baseline: manifest.baseline,
    train: manifest.train,
    seeds: manifest.seeds,
    tokensPerStep: manifest.train.batch * manifest.train.seq,
    variants,
    scaling: scalingFits(manifest, variants),
  };
}
