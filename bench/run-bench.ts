// The measuring loop behind `archc bench`: every model on one device, steps interleaved in rounds,
// a per-kernel profile of each, and the figures (with ratios to the first model) as one JSON-able
// object; formatBench renders it as tables.

import type { ModelSpec, TrainSpec } from "../format/spec.js";
import { residualLabel } from "../format/spec.js";
import { findTuning } from "../compiler/tuning/lookup.js";
import { throwIfDeviceFailed } from "../runtime/device.js";
import { openProfilingDevice } from "../runtime/profile/device.js";
import { datasheetPeak, peakGflops as peakGflopsOf } from "./peak.js";
import { Subject, type BenchMode, type KernelTime, type Phase, type ProfileMethod } from "./subject.js";

export interface BenchOptions {
  targets: { label: string; file: string; model: ModelSpec }[];
  train: TrainSpec;
  mode: BenchMode;
  /**
   * decode mode: the batch sizes to decode at, each model at each (default: train.batch alone);
   * ratios compare models at the same batch size
   */
  decodeBatches?: number[];
  /** timed steps per model */
  steps: number;
  warmup: number;
  /** steps per round */
  round: number;
  /** profiles per model (medians taken); 0: none */
  profileRepeats: number;
  /** use timestamp queries when the adapter has them */
  timestamps: boolean;
  peakGflops?: number;
  peakGbps?: number;
  log?: (line: string) => void;
  /** --tuning FILE, or false for --no-tuning: the kernel variants (compiler/tuning/lookup.ts) */
  tuning?: string | false;
}

export interface KindTime {
  phase: Phase;
  kind: string;
  dispatches: number;
  ms: number;
  /** of the profile's total */
  share: number;
}

export interface ModelResult {
  label: string;
  /** sequences per step (for decode: sequences decoded side by side) */
  batch: number;
  file: string;
  model: string;
  residual: string;
  parameters: number;
  firstStepMs: number;
  /** median over rounds of the mean step time within a round */
  stepMs: number;
  roundStepMs: number[];
  tokensPerStep: number;
  tokensPerS: number;
  /** from the profile (sums of per-kernel GPU times); null without one */
  forwardMs: number | null;
  backwardMs: number | null;
  optimizerMs: number | null;
  profileMs: number | null;
  kernels: KindTime[];
  deviceBytes: number;
  dispatchesPerStep: number;
  submissionsPerStep: number;
  flopsPerStep: number;
  forwardFlops: { matmul: number; attention: number; attnres: number };
  achievedGflops: number;
  /** achieved / peak FLOP/s */
  flopsUtilisation: number;
  bytesPerStep: number;
  /** kernels binding pool ranges, whose bytes bytesPerStep leaves out */
  bytesUncountedKernels: number;
  achievedGbps: number;
  bandwidthUtilisation: number | null;
  /** this model's figure / the first model's */
  ratio: {
    stepMs: number;
    tokensPerS: number;
    forwardMs: number | null;
    backwardMs: number | null;
    optimizerMs: number | null;
    deviceBytes: number;
    dispatchesPerStep: number;
    flopsPerStep: number;
  };
}

export interface BenchResult {
  format: "archc-bench";
  version: 1;
  mode: BenchMode;
  adapter: {
    name: string;
    driver: string;
    software: boolean;
    timestampQuery: boolean;
    tuning: string | null;
  };
  profile: { method: ProfileMethod | null; repeats: number };
  /** sequences per step (decode: the first of `batches`) */
  batch: number;
  /** the batch sizes timed: one, or for decode each model at each */
  batches: number[];
  seq: number;
  steps: number;
  warmup: number;
  round: number;
  peak: { gflops: number; gflopsSource: string; gbps: number | null; gbpsSource: string | null };
  models: ModelResult[];
}

function residualText(model: ModelSpec): string {
  return residualLabel(model.residual);
}

function byKind(kernels: KernelTime[]): KindTime[] {
  const total = kernels.reduce((n, k) => n + k.ms, 0);
  const groups = new Map<string, KindTime>();
  for (const k of kernels) {
    const key = `${k.phase} ${k.kind}`;
    const g = groups.get(key) ?? { phase: k.phase, kind: k.kind, dispatches: 0, ms: 0, share: 0 };
    g.dispatches += 1;
    g.ms += k.ms;
    groups.set(key, g);
  }
  return [...groups.values()]
    .map((g) => ({ ...g, share: total > 0 ? g.ms / total : 0 }))
    .sort((a, b) => b.ms - a.ms);
}

function phaseMs(kernels: KernelTime[], phase: Phase): number {
  return kernels.filter((k) => k.phase === phase).reduce((n, k) => n + k.ms, 0);
}

function ratioOf(a: number | null, b: number | null): number | null {
  return a === null || b === null || b === 0 ? null : a / b;
}

export async function runBench(options: BenchOptions): Promise<BenchResult> {
  const log = options.log ?? (() => undefined);
  const gpu = await openProfilingDevice(options.timestamps);
  const method: ProfileMethod | null =
    options.profileRepeats === 0 ? null : gpu.timestamps ? "timestamp-query" : "separate-submissions";
  // count submissions: a step's own, and any the engine or executor makes behind it
  const queue = gpu.device.queue;
  const submit = queue.submit.bind(queue);
  let submissions = 0;
  queue.submit = (buffers: Iterable<GPUCommandBuffer>) => {
    submissions += 1;
    return submit(buffers);
  };
  const subjects: Subject[] = [];
  try {
    const tuning = findTuning(gpu.adapter.info, { flag: options.tuning });
    for (const note of tuning.notes) log(`tuning: ${note}`);
    if (tuning.file) log(`tuning: kernel variants from ${tuning.file}`);
    const batches =
      options.mode === "decode" ? (options.decodeBatches ?? [options.train.batch]) : [options.train.batch];
    for (const batch of batches)
      for (const target of options.targets) {
        const train = { ...options.train, batch };
        log(`compiling ${target.label} (${options.mode}, batch ${batch} x seq ${train.seq})...`);
        subjects.push(
          await Subject.create({
            gpu,
            ...target,
            train,
            mode: options.mode,
            submissions: () => submissions,
            tuning: tuning.table,
          }),
        );
      }
    for (const s of subjects) {
      await s.warmUp(options.warmup);
      log(`${s.label}: first step ${s.firstStepMs.toFixed(0)} ms`);
    }
    for (let done = 0; done < options.steps; done += options.round) {
      const n = Math.min(options.round, options.steps - done);
      for (const s of subjects) await s.timeRound(n);
    }
    const profiles = new Map<Subject, KernelTime[]>();
    if (method !== null)
      for (const s of subjects) profiles.set(s, await s.profile(options.profileRepeats, method));
    throwIfDeviceFailed(gpu.device, "benchmarking");

    const d = gpu.description;
    const peak = peakGflopsOf(d, options.peakGflops === undefined ? undefined : String(options.peakGflops));
    const sheetGbps = datasheetPeak(d)?.gbps;
    const gbps = options.peakGbps ?? sheetGbps ?? null;
    const gbpsSource = options.peakGbps !== undefined ? "flag" : sheetGbps !== undefined ? "datasheet" : null;

    const models = subjects.map((s) => {
      const kernels = profiles.get(s);
      const stepMs = s.stepMs;
      const bytes = s.bytesPerStep;
      const achievedGflops = s.flopsPerStep / (stepMs * 1e6);
      const achievedGbps = bytes.bytes / (stepMs * 1e6);
      const phase = (p: Phase) =>
        kernels === undefined || (p !== "forward" && s.mode === "infer") ? null : phaseMs(kernels, p);
      return {
        label: s.label,
        batch: s.batchSize,
        file: s.file,
        model: s.model.name,
        residual: residualText(s.model),
        parameters: s.parameters,
        firstStepMs: s.firstStepMs,
        stepMs,
        roundStepMs: s.roundMs,
        tokensPerStep: s.tokensPerStep,
        tokensPerS: (s.tokensPerStep * 1000) / stepMs,
        forwardMs: phase("forward"),
        backwardMs: phase("backward"),
        optimizerMs: phase("optimizer"),
        profileMs: kernels === undefined ? null : kernels.reduce((n, k) => n + k.ms, 0),
        kernels: kernels === undefined ? [] : byKind(kernels),
        deviceBytes: s.deviceBytes,
        dispatchesPerStep: s.dispatchesPerStep,
        submissionsPerStep: s.timedSubmissions / s.timedSteps,
        flopsPerStep: s.flopsPerStep,
        forwardFlops: s.flops.forward,
        achievedGflops,
        flopsUtilisation: achievedGflops / peak.gflops,
        bytesPerStep: bytes.bytes,
        bytesUncountedKernels: bytes.uncountedKernels,
        achievedGbps,
        bandwidthUtilisation: gbps === null ? null : achievedGbps / gbps,
      };
    });
    // the first model at the same batch size
    const baseOf = (m: (typeof models)[number]) => models.find((other) => other.batch === m.batch)!;
    return {
      format: "archc-bench",
      version: 1,
      mode: options.mode,
      adapter: {
        name: d.name,
        driver: d.driver,
        software: d.software,
        timestampQuery: gpu.timestamps,
        tuning: tuning.file ?? null,
      },
      profile: { method, repeats: options.profileRepeats },
      batch: batches[0],
      batches,
      seq: options.train.seq,
      steps: options.steps,
      warmup: options.warmup,
      round: options.round,
      peak: { gflops: peak.gflops, gflopsSource: peak.source, gbps, gbpsSource },
      models: models.map((m) => {
        const base = baseOf(m);
        return {
          ...m,
          ratio: {
            stepMs: m.stepMs / base.stepMs,
            tokensPerS: m.tokensPerS / base.tokensPerS,
            forwardMs: ratioOf(m.forwardMs, base.forwardMs),
            backwardMs: ratioOf(m.backwardMs, base.backwardMs),
            optimizerMs: ratioOf(m.optimizerMs, base.optimizerMs),
            deviceBytes: m.deviceBytes / base.deviceBytes,
            dispatchesPerStep: m.dispatchesPerStep / base.dispatchesPerStep,
            flopsPerStep: m.flopsPerStep / base.flopsPerStep,
          },
        };
      }),
    };
  } finally {
    for (const s of subjects) s.dispose();
    queue.submit = submit;
    gpu.device.destroy();
  }
}

const ms = (v: number | null) =>
  v === null ? "-" : v >= 100 ? v.toFixed(0) : v >= 10 ? v.toFixed(1) : v.toFixed(2);
const ratio = (v: number | null) => (v === null ? "" : ` (${v.toFixed(3)}x)`);
const pct = (v: number | null) => (v === null ? "-" : `${(100 * v).toFixed(v < 0.01 ? 2 : 1)}%`);

function mib(bytes: number): string {
  return `${(bytes / 2 ** 20).toFixed(bytes < 10 * 2 ** 20 ? 2 : 0)} MiB`;
}

/** Markdown tables: one row per model, then the kernel kinds of each */
export function formatBench(r: BenchResult): string {
  const lines: string[] = [];
  const decode = r.mode === "decode";
  const shape = decode
    ? `positions 0..${r.seq - 1} of each sequence, batch ${[...new Set(r.models.map((m) => m.batch))].join(" and ")}, logits read back every step`
    : `batch ${r.batch} x seq ${r.seq}`;
  const what =
    r.mode === "train"
      ? "training step (forward, backward, AdamW)"
      : decode
        ? "decoding one token per sequence (step = per-token latency)"
        : "forward pass";
  lines.push(
    `${what} · ${shape} · ${r.steps} timed steps per model in rounds of ${r.round}, models interleaved, median round`,
  );
  lines.push(
    `${r.adapter.name} (${r.adapter.software ? "software" : "hardware"}) · peak ${r.peak.gflops.toFixed(0)} GFLOP/s (${r.peak.gflopsSource})` +
      (r.peak.gbps === null ? "" : `, ${r.peak.gbps.toFixed(0)} GB/s (${r.peak.gbpsSource})`) +
      ` · kernel profile: ${r.profile.method ?? "none"}`,
  );
  lines.push("");
  const phases = r.mode === "train" ? "| forward ms | backward ms | optimizer ms " : "| forward ms ";
  const batchHeader = decode ? "| batch " : "";
  lines.push(
    `| model ${batchHeader}| params | step ms | vs first | tokens/s ${phases}| GFLOP/s | of peak | GB/s | memory | dispatches | submits | first step ms |`,
  );
  lines.push(`|${" --- |".repeat((r.mode === "train" ? 15 : 13) + (decode ? 1 : 0))}`);
  for (const m of r.models) {
    const phaseCells =
      r.mode === "train"
        ? `| ${ms(m.forwardMs)}${ratio(m.ratio.forwardMs)} | ${ms(m.backwardMs)}${ratio(m.ratio.backwardMs)} | ${ms(m.optimizerMs)}${ratio(m.ratio.optimizerMs)} `
        : `| ${ms(m.forwardMs)}${ratio(m.ratio.forwardMs)} `;
    lines.push(
      `| ${m.label} ${decode ? `| ${m.batch} ` : ""}| ${m.parameters.toLocaleString("en-US")} | ${ms(m.stepMs)} | ${m.ratio.stepMs.toFixed(3)}x | ` +
        `${m.tokensPerS.toFixed(0)} ${phaseCells}| ${m.achievedGflops.toFixed(2)} | ${pct(m.flopsUtilisation)} | ` +
        `${m.achievedGbps.toFixed(2)} | ${mib(m.deviceBytes)} | ${m.dispatchesPerStep} | ${m.submissionsPerStep.toFixed(2)} | ${m.firstStepMs.toFixed(0)} |`,
    );
  }
  for (const m of r.models) {
    if (m.kernels.length === 0) continue;
    lines.push("");
    lines.push(
      `${m.label}${decode ? ` (batch ${m.batch})` : ""}: GPU time per step by kernel kind (${r.profile.method}, median of ${r.profile.repeats})`,
    );
    lines.push("| phase | kernel kind | dispatches | ms | share |");
    lines.push("| --- | --- | ---: | ---: | ---: |");
    const shown = m.kernels.slice(0, 12);
    for (const k of shown)
      lines.push(`| ${k.phase} | ${k.kind} | ${k.dispatches} | ${ms(k.ms)} | ${pct(k.share)} |`);
    const rest = m.kernels.slice(shown.length);
    if (rest.length > 0)
      lines.push(
        `| | ${rest.length} more kinds | ${rest.reduce((n, k) => n + k.dispatches, 0)} | ${ms(rest.reduce((n, k) => n + k.ms, 0))} | ${pct(rest.reduce((n, k) => n + k.share, 0))} |`,
      );
  }
  return lines.join("\n") + "\n";
}
