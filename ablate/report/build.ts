// The numbers of an ablation report, from a sweep folder alone (sweep.json, each run's metrics and
// final checkpoint): per-variant summaries over seeds, differences against the baseline with Welch
// intervals, the compute multiplier, and the depth statistics of the trained models. Nothing here
// depends on the clock or the machine, so rebuilding from a copied folder gives the same JSON.

import { join } from "node:path";
import type { ModelSpec } from "../../compiler/spec.js";
import { loadCheckpoint, resolveCheckpoint } from "../../runtime/checkpoint.js";
import { loadCorpus } from "../../runtime/data/corpus.js";
import { validationBatches } from "../../runtime/data/sampler.js";
import { loadTokenizer } from "../../runtime/data/tokenizer.js";
import { readManifest, type ManifestVariant, type SweepManifest } from "../folder.js";
import { SweepError } from "../plan.js";
import { probeDepth, type DepthProbe } from "../probe.js";
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

/** sequences of validation text the depth statistics average over (float64 on the CPU: keep it small) */
const PROBE_SEQUENCES = 2;

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
  multiplier?: MultiplierOverSeeds & { reasons: string[]; lowerBound?: number };
  tokensPerSecond?: number;
  stepSeconds?: number;
  deviceBytes?: number;
  compileSeconds?: number;
  firstStepSeconds?: number;
  diverged: number;
  incomplete: number;
  probe?: DepthProbe;
}

export interface ScalingFit {
  /** the residual kind: the value of the `residual` field */
  kind: string;
  points: { label: string; flops: number; loss: number }[];
  fit?: PowerLawFit;
  /** against the baseline kind's fit, at each point's compute */
  multipliers: { label: string; flops: number; multiplier: number }[];
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
 * The variant each one is measured against. In a sweep that varies `residual` and also size fields,
 * that is the variant of the same size with the baseline's residual; otherwise the baseline itself.
 */
function referenceOf(manifest: SweepManifest, variant: ManifestVariant): string {
  const baseline = manifest.variants.find((v) => v.label === manifest.baseline)!;
  if (!manifest.fields.includes("residual") || manifest.fields.length === 1) return baseline.label;
  const wanted = { ...variant.values, residual: baseline.values.residual };
  const match = manifest.variants.find((v) => JSON.stringify(v.values) === JSON.stringify(wanted));
  return match?.label ?? baseline.label;
}

function curve(run: RunMetrics, flopsPerStep: number): ComputePoint[] {
  return run.val.filter((p) => p.step > 0).map((p) => ({ flops: p.step * flopsPerStep, loss: p.loss }));
}

function multiplierAgainst(
  variant: { runs: RunMetrics[]; flopsPerStep: number },
  reference: { runs: RunMetrics[]; flopsPerStep: number },
  steps: number,
): VariantReport["multiplier"] {
  const reasons: string[] = [];
  const bounds: number[] = [];
  const perSeed = variant.runs.map((run) => {
    const partner = reference.runs.find((r) => r.seed === run.seed && r.status === "finished");
    if (run.finalValLoss === undefined || !partner) return undefined;
    const result = interpolatedMultiplier(curve(partner, reference.flopsPerStep), {
      flops: steps * variant.flopsPerStep,
      loss: run.finalValLoss,
    });
    if (result.multiplier === undefined) {
      reasons.push(`seed ${run.seed}: ${result.reason}`);
      if (result.lowerBound !== undefined) bounds.push(result.lowerBound);
    }
    return result.multiplier;
  });
  const over = multiplierOverSeeds(perSeed);
  return { ...over, reasons, ...(bounds.length > 0 ? { lowerBound: Math.min(...bounds) } : {}) };
}

/** the first validation sequences of the run's own data, tokenised by its own tokenizer */
async function probeTokens(checkpointDir: string, seq: number): Promise<Int32Array | undefined> {
  const { info } = loadCheckpoint(checkpointDir, { optimizer: false });
  const tokenizer = await loadTokenizer(info.tokenizer);
  const corpus = loadCorpus(info.data.source, tokenizer);
  const [batch] = validationBatches(corpus.validation, PROBE_SEQUENCES, seq, 1);
  return batch?.tokens;
}

async function probeVariant(
  sweepDir: string,
  variant: VariantReport,
  seq: number,
): Promise<DepthProbe | undefined> {
  const run = variant.runs.find((r) => r.status === "finished");
  if (!run) return undefined;
  const dir = resolveCheckpoint(join(sweepDir, run.dir));
  if (!dir) return undefined;
  const loaded = loadCheckpoint(dir, { optimizer: false });
  const tokens = await probeTokens(dir, seq);
  if (!tokens) return undefined;
  return probeDepth(loaded.info.model as ModelSpec, loaded.params, tokens, { batch: PROBE_SEQUENCES, seq });
}

function scalingFits(manifest: SweepManifest, variants: VariantReport[]): ReportData["scaling"] {
  if (!manifest.fields.includes("residual") || manifest.fields.length < 2) return undefined;
  const steps = manifest.train.steps;
  const kinds = [...new Set(variants.map((v) => v.values.residual))];
  const fits: ScalingFit[] = kinds.map((kind) => {
    const points = variants
      .filter((v) => v.values.residual === kind && v.valLoss)
      .map((v) => ({ label: v.label, flops: steps * v.flopsPerStep, loss: v.valLoss!.mean }));
    const distinct = new Set(points.map((p) => p.flops)).size;
    return { kind, points, fit: distinct >= 2 ? fitPowerLaw(points) : undefined, multipliers: [] };
  });
  const baselineKind = variants.find((v) => v.baseline)!.values.residual;
  const reference = fits.find((f) => f.kind === baselineKind);
  for (const f of fits)
    if (f.fit && reference?.fit && f !== reference)
      f.multipliers = f.points.map((p) => ({
        label: p.label,
        flops: p.flops,
        multiplier: fittedMultiplier(reference.fit!, f.fit!, p.flops),
      }));
  const fitted = fits.filter((f) => f.fit).length;
  return {
    field: "residual",
    fits,
    ...(fitted < 2
      ? { note: "fewer than two residual kinds have two or more model sizes: no fit to compare" }
      : {}),
  };
}

export async function buildReport(sweepDir: string, options: { probe?: boolean } = {}): Promise<ReportData> {
  const manifest = readManifest(sweepDir);
  if (!manifest.variants.some((v) => v.label === manifest.baseline))
    throw new SweepError(`${sweepDir}: the baseline ${manifest.baseline} is not among the sweep's variants`);
  const steps = manifest.train.steps;
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
      reference: referenceOf(manifest, v),
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
      const probe = await probeVariant(sweepDir, v, manifest.train.seq);
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
