// Times one training step (forward, backward and AdamW in one submission) on the current adapter,
// for the train block's model and, with --ablation, for every variant of the file's ablation, in
// one run, as ratios to the first: these machines are noisy, so the variants' steps are interleaved
// in rounds and each reports its median.
// Beside each step is its floor: training FLOPs (3x the forward's matmul, attention and AttnRes
// FLOPs) / peak FLOP/s. The first step is timed apart (software drivers compile shaders then).
// Prints a table, a per-kernel-kind profile of the first model, and JSON.
//
//   node dist/bench/train-step.js [FILE.arch] [--ablation] [--steps N] [--peak-gflops N]

import { compileTraining } from "../compiler/compile.js";
import { graphFlops } from "../compiler/analysis/cost.js";
import { findModel, formatDiagnostics, hasErrors, loadProgram } from "../compiler/frontend.js";
import { lowerModel } from "../compiler/ir/lower.js";
import type { ModelSpec, TrainSpec } from "../format/spec.js";
import { openDevice, type GpuContext } from "../runtime/device.js";
import { GpuTrainingEngine } from "../runtime/train/gpu-engine.js";
import { peakGflops } from "./peak.js";
import { median } from "./measure.js";

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

interface Prepared {
  label: string;
  model: ModelSpec;
  engine: GpuTrainingEngine;
  firstStepMs: number;
  times: number[];
}

async function prepare(
  gpu: GpuContext,
  label: string,
  model: ModelSpec,
  train: TrainSpec,
  batch: { tokens: Int32Array; targets: Int32Array },
): Promise<Prepared> {
  const program = compileTraining(model, { batch: train.batch, seq: train.seq });
  const engine = await GpuTrainingEngine.create({ program, train, gpu });
  const start = performance.now();
  await engine.step(batch.tokens, batch.targets, 1e-3, true);
  return { label, model, engine, firstStepMs: performance.now() - start, times: [] };
}

/** rounds of `perRound` steps, variant after variant, so drift in the machine's speed hits all alike */
async function timeInRounds(
  prepared: Prepared[],
  batch: { tokens: Int32Array; targets: Int32Array },
  steps: number,
  perRound: number,
): Promise<void> {
  for (let done = 0; done < steps; done += perRound)
    for (const p of prepared) {
      const n = Math.min(perRound, steps - done);
      const start = performance.now();
      for (let s = 0; s < n; s++) await p.engine.step(batch.tokens, batch.targets, 1e-3, s === n - 1);
      p.times.push((performance.now() - start) / n);
    }
}

async function summarise(p: Prepared, train: TrainSpec, peak: number, profile: boolean): Promise<Measured> {
  let kernelMsByKind: Record<string, number> | undefined;
  if (profile) {
    kernelMsByKind = {};
    for (const k of await p.engine.kernelTimes(3))
      kernelMsByKind[k.ops[0]] = (kernelMsByKind[k.ops[0]] ?? 0) + k.ms;
  }
  const forward = graphFlops(lowerModel(p.model, { batch: train.batch, seq: train.seq }));
  const trainFlops = 3 * (forward.matmul + forward.attention + forward.attnres);
  const summary = p.engine.summary();
  return {
    label: p.label,
    parameters: summary.parameters,
    stepKernels: summary.stepKernels,
    firstStepMs: p.firstStepMs,
    stepMs: median(p.times),
    trainGflop: trainFlops / 1e9,
    floorMs: trainFlops / (peak * 1e6),
    kernelMsByKind,
  };
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
    for (const v of ablation.variants) models.push({ label: v.label, model: v.model });
  } else {
    models.push({ label: train.model, model: findModel(result, train.model) });
  }

  const gpu = await openDevice();
  const { gflops: peak, source: peakSource } = peakGflops(gpu.description, flag("--peak-gflops"));
  const batch = (() => {
    const vocab = Math.min(...models.map((m) => m.model.vocab));
    const tokens = Int32Array.from({ length: train.batch * train.seq }, (_, i) => (i * 31 + 7) % vocab);
    return { tokens, targets: Int32Array.from(tokens, (t) => (t + 1) % vocab) };
  })();
  const measured: Measured[] = [];
  const prepared: Prepared[] = [];
  try {
    for (const { label, model } of models) prepared.push(await prepare(gpu, label, model, train, batch));
    await timeInRounds(prepared, batch, steps, 2);
    for (const [i, p] of prepared.entries()) measured.push(await summarise(p, train, peak, i === 0));
  } finally {
    for (const p of prepared) p.engine.dispose();
    gpu.device.destroy();
  }

  const base = measured[0];
  console.log(
    `${file} · batch ${train.batch} x seq ${train.seq} · median over rounds of 2 steps, ${steps} steps per model, models interleaved`,
  );
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
