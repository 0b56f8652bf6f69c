// Times one training step (forward, backward and AdamW in one submission) on the current adapter,
// for the train block's model and, with --ablation, for every variant of the file's ablation, in
// one run, as ratios to the first: these machines are noisy, so variants are compared side by side.
// Beside each step is its floor: training FLOPs (3x the forward's matmul, attention and AttnRes
// FLOPs) / peak FLOP/s. The first step is timed apart (software drivers compile shaders then).
// Prints a table, a per-kernel-kind profile of the first model, and JSON.
//
//   node dist/bench/train-step.js [FILE.arch] [--ablation] [--steps N] [--peak-gflops N]

import { graphFlops } from "../compiler/analysis/cost.js";
import { findModel, formatDiagnostics, hasErrors, loadProgram } from "../compiler/frontend.js";
import { lowerModel } from "../compiler/ir/lower.js";
import type { ModelSpec, TrainSpec } from "../compiler/spec.js";
import { openDevice } from "../runtime/device.js";
import { GpuTrainingEngine } from "../runtime/train/gpu-engine.js";
import { peakGflops } from "./peak.js";

function flag(name: string): string | undefined {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

interface Measured {
  label: string;
  parameters: number;
  stepKernels: number;
  firstStepMs: number;
  stepMs: number;
  trainGflop: number;
  floorMs: number;
  kernelMsByKind?: Record<string, number>;
}

async function measure(
  gpu: Awaited<ReturnType<typeof openDevice>>,
  label: string,
  model: ModelSpec,
  train: TrainSpec,
  steps: number,
  peak: number,
  profile: boolean,
): Promise<Measured> {
  const engine = await GpuTrainingEngine.create({ model, train, gpu });
  const tokens = Int32Array.from({ length: train.batch * train.seq }, (_, i) => (i * 31 + 7) % model.vocab);
  const targets = Int32Array.from(tokens, (t) => (t + 1) % model.vocab);
  try {
    let start = performance.now();
    await engine.step(tokens, targets, 1e-3, true);
    const firstStepMs = performance.now() - start;
    start = performance.now();
    for (let s = 0; s < steps; s++) await engine.step(tokens, targets, 1e-3, s === steps - 1);
    const stepMs = (performance.now() - start) / steps;
    let kernelMsByKind: Record<string, number> | undefined;
    if (profile) {
      kernelMsByKind = {};
      for (const k of await engine.kernelTimes(3))
        kernelMsByKind[k.ops[0]] = (kernelMsByKind[k.ops[0]] ?? 0) + k.ms;
    }
    const forward = graphFlops(lowerModel(model, { batch: train.batch, seq: train.seq }));
    const trainFlops = 3 * (forward.matmul + forward.attention + forward.attnres);
    const summary = engine.summary();
    return {
      label,
      parameters: summary.parameters,
      stepKernels: summary.stepKernels,
      firstStepMs,
      stepMs,
      trainGflop: trainFlops / 1e9,
      floorMs: trainFlops / (peak * 1e6),
      kernelMsByKind,
    };
  } finally {
    engine.dispose();
  }
}

async function main(): Promise<void> {
  const file = process.argv.slice(2).find((a) => a.endsWith(".arch")) ?? "examples/tiny.arch";
  const result = loadProgram([file]);
  if (hasErrors(result)) throw new Error(formatDiagnostics(result));
  const train = [...result.program.trains.values()][0];
  if (!train) throw new Error(`${file} has no train block`);
  const steps = Number(flag("--steps") ?? 10);

  const models: { label: string; model: ModelSpec }[] = [];
  const ablation = [...result.program.ablations.values()][0];
  if (process.argv.includes("--ablation")) {
    if (!ablation) throw new Error(`${file} has no ablation`);
    for (const v of ablation.variants)
      models.push({ label: `${ablation.field}: ${v.label}`, model: v.model });
  } else {
    models.push({ label: train.model, model: findModel(result, train.model) });
  }

  const gpu = await openDevice();
  const { gflops: peak, source: peakSource } = peakGflops(gpu.description, flag("--peak-gflops"));
  const measured: Measured[] = [];
  try {
    for (const [i, { label, model }] of models.entries())
      measured.push(await measure(gpu, label, model, train, steps, peak, i === 0));
  } finally {
    gpu.device.destroy();
  }

  const base = measured[0];
  console.log(`${file} · batch ${train.batch} x seq ${train.seq} · mean of ${steps} steps after the first`);
  console.log(
    `${gpu.description.name} (${gpu.description.software ? "software" : "hardware"}); floor at ${peak.toFixed(0)} GFLOP/s (${peakSource})`,
  );
  console.log("");
  console.log(
    "| model | params | kernels/step | first step | step | vs first row | tokens/s | GFLOP/s | floor |",
  );
  console.log("| --- | --- | --- | --- | --- | --- | --- | --- | --- |");
  for (const m of measured)
    console.log(
      `| ${m.label} | ${m.parameters} | ${m.stepKernels} | ${m.firstStepMs.toFixed(0)} ms | ${m.stepMs.toFixed(1)} ms | ` +
        `${(m.stepMs / base.stepMs).toFixed(3)}x | ${((train.batch * train.seq * 1000) / m.stepMs).toFixed(0)} | ` +
        `${(m.trainGflop / (m.stepMs / 1000)).toFixed(2)} | ${m.floorMs.toFixed(1)} ms |`,
    );
  if (base.kernelMsByKind) {
    const total = Object.values(base.kernelMsByKind).reduce((a, b) => a + b, 0);
    console.log("");
    console.log(`${base.label}: each kernel profiled alone (includes one submission's latency per kernel)`);
    console.log("| kernel kind | ms per step | share |");
    console.log("| --- | --- | --- |");
    for (const [kind, ms] of Object.entries(base.kernelMsByKind).sort((a, b) => b[1] - a[1]))
      console.log(`| ${kind} | ${ms.toFixed(2)} | ${((100 * ms) / total).toFixed(1)}% |`);
  }
  console.log("");
  console.log(
    JSON.stringify({
      file,
      adapter: gpu.description.name,
      software: gpu.description.software,
      batch: train.batch,
      seq: train.seq,
      steps,
      peakGflops: peak,
      results: measured,
    }),
  );
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : String(err));
  process.exitCode = 1;
});
