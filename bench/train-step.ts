// Times one training step (forward, backward and AdamW in one submission) of a model's train block
// on the current adapter, breaks the step down by kernel kind, and sets it beside its floor:
// training FLOPs (3x the forward's matmul, attention and AttnRes FLOPs) / peak FLOP/s.
// Prints a table and JSON. The first step is timed apart: software drivers compile shaders then.
//
//   node dist/bench/train-step.js [FILE.arch] [--steps N] [--peak-gflops N] [--unfused]

import { cpus } from "node:os";
import { graphFlops } from "../compiler/analysis/cost.js";
import { findModel, hasErrors, loadProgram, formatDiagnostics } from "../compiler/frontend.js";
import { lowerModel } from "../compiler/ir/lower.js";
import { GpuTrainingEngine } from "../runtime/train/gpu-engine.js";

function flag(name: string): string | undefined {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

/** the same nominal AVX2 figure bench/kernels.ts uses: cores x 8 lanes x 2 FMA x 2 FLOPs x 3 GHz */
function nominalCpuGflops(): number {
  return cpus().length * 8 * 2 * 2 * 3;
}

async function main(): Promise<void> {
  const file =
    process.argv.slice(2).find((a, i, all) => a.endsWith(".arch") && !all[i - 1]?.startsWith("--")) ??
    "examples/tiny.arch";
  const result = loadProgram([file]);
  if (hasErrors(result)) throw new Error(formatDiagnostics(result));
  const train = [...result.program.trains.values()][0];
  if (!train) throw new Error(`${file} has no train block`);
  const model = findModel(result, train.model);
  const steps = Number(flag("--steps") ?? 10);

  const setupStart = performance.now();
  const engine = await GpuTrainingEngine.create({ model, train, fuse: !process.argv.includes("--unfused") });
  const setupMs = performance.now() - setupStart;
  const summary = engine.summary();
  const tokens = Int32Array.from({ length: train.batch * train.seq }, (_, i) => (i * 31 + 7) % model.vocab);
  const targets = Int32Array.from(tokens, (t) => (t + 1) % model.vocab);
  try {
    let start = performance.now();
    await engine.step(tokens, targets, 1e-3, true);
    const firstMs = performance.now() - start;
    start = performance.now();
    for (let s = 0; s < steps; s++) await engine.step(tokens, targets, 1e-3, s === steps - 1);
    const stepMs = (performance.now() - start) / steps;

    const byKind = new Map<string, number>();
    for (const k of await engine.kernelTimes(3)) byKind.set(k.ops[0], (byKind.get(k.ops[0]) ?? 0) + k.ms);
    const profileTotal = [...byKind.values()].reduce((a, b) => a + b, 0);

    const forward = graphFlops(lowerModel(model, { batch: train.batch, seq: train.seq }));
    const trainFlops = 3 * (forward.matmul + forward.attention + forward.attnres);
    const peak = Number(flag("--peak-gflops") ?? nominalCpuGflops());
    const floorMs = trainFlops / (peak * 1e6);
    const tokensPerStep = train.batch * train.seq;

    console.log(`${model.name} · batch ${train.batch} x seq ${train.seq} · ${summary.parameters} parameters`);
    console.log(`${summary.adapter} (${summary.software ? "software" : "hardware"})`);
    console.log(`${summary.stepKernels} kernels per step in one submission (${summary.pipelines} pipelines)`);
    console.log("");
    console.log("| measure | value |");
    console.log("| --- | --- |");
    console.log(`| setup (compile + pipelines) | ${setupMs.toFixed(0)} ms |`);
    console.log(`| first step (driver shader compilation) | ${firstMs.toFixed(0)} ms |`);
    console.log(`| step, mean of ${steps} | ${stepMs.toFixed(1)} ms |`);
    console.log(`| tokens/s | ${((tokensPerStep * 1000) / stepMs).toFixed(0)} |`);
    console.log(`| training GFLOP per step (3x forward) | ${(trainFlops / 1e9).toFixed(3)} |`);
    console.log(`| achieved GFLOP/s | ${(trainFlops / 1e6 / stepMs).toFixed(2)} |`);
    console.log(
      `| floor at ${peak} GFLOP/s peak | ${floorMs.toFixed(1)} ms (${((100 * floorMs) / stepMs).toFixed(1)}% of the step) |`,
    );
    console.log("");
    console.log("| kernel kind | ms per step (profiled alone) | share |");
    console.log("| --- | --- | --- |");
    for (const [kind, ms] of [...byKind].sort((a, b) => b[1] - a[1]))
      console.log(`| ${kind} | ${ms.toFixed(2)} | ${((100 * ms) / profileTotal).toFixed(1)}% |`);
    console.log("");
    console.log(
      JSON.stringify({
        model: model.name,
        adapter: summary.adapter,
        software: summary.software,
        batch: train.batch,
        seq: train.seq,
        parameters: summary.parameters,
        stepKernels: summary.stepKernels,
        setupMs,
        firstStepMs: firstMs,
        stepMs,
        tokensPerSecond: (tokensPerStep * 1000) / stepMs,
        trainGflopPerStep: trainFlops / 1e9,
        peakGflops: peak,
        floorMs,
        kernelMsByKind: Object.fromEntries(byKind),
      }),
    );
  } finally {
    engine.dispose();
  }
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : String(err));
  process.exitCode = 1;
});
