// How compile cost grows with depth: for deep48.arch's shape at several depths and three residual
// kinds, the kernels, distinct pipelines and WGSL of the forward pass and of a training step, the
// in-process compile time (front end to executable, median of --repeats), and with --first-step
// the cold time to a first training step on the current adapter. Prints a table and JSON.
//
//   node dist/bench/compile-cost.js [--depths 4,12,48] [--only add,full,block4] [--repeats 3]
//        [--batch N] [--seq N] [--json FILE] [--first-step] [--timeout SECONDS]
//
// The training step is what compileTraining (compiler/compile.ts) produces and the training engine
// runs: the differentiated forward graph compiled as one executable, plus the optimizer's dispatches
// (AdamW: a gradient-squares pass and an update per chunk of the flat parameter array, and one norm
// pass between them). Pipelines are counted as the runtime's pipeline cache counts them: distinct
// WGSL once comments are stripped.
// --first-step spawns one process per model with an empty MESA_SHADER_CACHE_DIR; it builds the
// training engine, runs one step and reads the loss back; the time is from that process's start.
// It then times a second step, which compiles nothing, to tell the driver's compilation from the work.

import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { adamwModules } from "../compiler/codegen/kernels/adamw.js";
import { compileGraph, compileTraining } from "../compiler/compile.js";
import { findModel, formatDiagnostics, hasErrors, loadSource } from "../compiler/frontend.js";
import type { Graph } from "../compiler/ir/ir.js";
import { lowerModel } from "../compiler/ir/lower.js";
import { differentiate } from "../compiler/passes/autodiff.js";
import { STORAGE_OFFSET_ALIGNMENT } from "../compiler/passes/plan.js";
import type { ModelSpec, TrainSpec } from "../format/spec.js";
import { moduleCode, type Executable } from "../format/archx.js";
import { adamwChunks } from "../runtime/optim/adamw-gpu.js";
import { flatLayout } from "../runtime/optim/layout.js";
import { defaultTrainSpec } from "../runtime/train/defaults.js";
import { GpuTrainingEngine } from "../runtime/train/gpu-engine.js";
import { median } from "./measure.js";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
const RESIDUALS: Record<string, { label: string; source: string }> = {
  add: { label: "add", source: "add" },
  full: { label: "Full AttnRes", source: "attn" },
  block4: { label: "Block AttnRes N=4", source: "attn(block = 4)" },
};
/** WebGPU's default maxStorageBufferBindingSize: every device allows at least this per AdamW chunk */
const DEFAULT_BINDING_BYTES = 128 * 1024 * 1024;
const ADAMW_MODULES = Object.values(adamwModules());

const { values } = parseArgs({
  options: {
    depths: { type: "string", default: "4,12,48" },
    only: { type: "string", default: Object.keys(RESIDUALS).join(",") },
    repeats: { type: "string", default: "3" },
    batch: { type: "string" },
    seq: { type: "string" },
    json: { type: "string" },
    "first-step": { type: "boolean", default: false },
    timeout: { type: "string", default: "600" },
    "child-step": { type: "string" }, // internal: DEPTH,KIND, run by --first-step
  },
});

/** deep48.arch with its depth and residual replaced, loaded as if it sat beside it in examples/ */
function loadModel(depth: number, kind: string): ModelSpec {
  const name = `deep48_d${depth}_${kind}`;
  const source = [
    `import "./deep48.arch"`,
    `model ${name} extends deep48 {`,
    `  depth: ${depth}`,
    `  residual: ${RESIDUALS[kind].source}`,
    `}`,
  ].join("\n");
  const result = loadSource(path.join(root, "examples", `${name}.arch`), source);
  if (hasErrors(result)) throw new Error(formatDiagnostics(result));
  return findModel(result, name);
}

function trainSpec(model: ModelSpec): TrainSpec {
  const train = defaultTrainSpec(model);
  return { ...train, batch: Number(values.batch ?? train.batch), seq: Number(values.seq ?? train.seq) };
}

/** one of a training program's two executables, compiled as compileTraining compiles it */
function compileFor(depth: number, kind: string, which: "step" | "forward"): Executable {
  const model = loadModel(depth, kind);
  const train = trainSpec(model);
  const shape = { batch: train.batch, seq: train.seq };
  const forward: Graph = lowerModel(model, shape);
  const graph = which === "step" ? differentiate(forward) : forward;
  return compileGraph(graph, { ...shape, vocab: model.vocab });
}

function timed(repeats: number, fn: () => Executable): { exe: Executable; ms: number } {
  const times: number[] = [];
  let exe: Executable | undefined;
  for (let r = 0; r < repeats; r++) {
    const start = performance.now();
    exe = fn();
    times.push(performance.now() - start);
  }
  return { exe: exe!, ms: median(times) };
}

const secs = (ms: number) => `${(ms / 1000).toFixed(1)} s`;
const bytes = (modules: string[]) => modules.reduce((n, m) => n + Buffer.byteLength(m), 0);

/** the one training step of --first-step, in a fresh process: prints JSON on its last line */
async function childStep(spec: string): Promise<void> {
  const [depth, kind] = spec.split(",");
  const model = loadModel(Number(depth), kind);
  const train = trainSpec(model);
  const program = compileTraining(model, { batch: train.batch, seq: train.seq });
  const engine = await GpuTrainingEngine.create({ program, train });
  const engineMs = performance.now();
  const n = train.batch * train.seq;
  const tokens = Int32Array.from({ length: n }, (_, i) => (i * 7919) % model.vocab);
  const targets = Int32Array.from({ length: n }, (_, i) => ((i + 1) * 7919) % model.vocab);
  const loss = await engine.step(tokens, targets, train.optimizer.lr, true);
  const lossMs = performance.now(); // since this process started
  // a second step compiles nothing: the first minus it is roughly what the driver's compilation cost
  await engine.step(tokens, targets, train.optimizer.lr, true);
  const secondStepMs = performance.now() - lossMs;
  const { adapter, stepKernels, pipelines } = engine.summary();
  engine.dispose();
  console.log(JSON.stringify({ adapter, engineMs, lossMs, loss, secondStepMs, stepKernels, pipelines }));
}

function firstStep(depth: number, kind: string) {
  const cache = mkdtempSync(path.join(os.tmpdir(), "archc-shader-cache-"));
  try {
    const child = spawnSync(
      process.execPath,
      [fileURLToPath(import.meta.url), "--child-step", `${depth},${kind}`, ...forwardedShape()],
      {
        encoding: "utf8",
        timeout: Number(values.timeout) * 1000,
        env: { ...process.env, MESA_SHADER_CACHE_DIR: cache },
      },
    );
    const last = child.stdout.trim().split("\n").pop() ?? "";
    if (child.status !== 0 || !last.startsWith("{"))
      return {
        error: child.error
          ? `timed out after ${values.timeout} s`
          : (/^\w*Error\b.*$/m.exec(child.stderr)?.[0] ?? child.stderr.trim().slice(-400)),
      };
    return JSON.parse(last) as {
      adapter: string;
      engineMs: number;
      lossMs: number;
      loss: number;
      secondStepMs: number;
      stepKernels: number;
      pipelines: number;
    };
  } finally {
    rmSync(cache, { recursive: true, force: true });
  }
}

function forwardedShape(): string[] {
  return (["batch", "seq"] as const).flatMap((k) => (values[k] ? [`--${k}`, values[k]!] : []));
}

function measure(depth: number, kind: string) {
  const repeats = Number(values.repeats);
  const step = timed(repeats, () => compileFor(depth, kind, "step"));
  const forward = timed(repeats, () => compileFor(depth, kind, "forward"));
  // the optimizer's dispatches over the flat parameter array, as GpuAdamw lays them out
  const layout = flatLayout(step.exe.params, STORAGE_OFFSET_ALIGNMENT / 4);
  const chunks = adamwChunks(layout.total, DEFAULT_BINDING_BYTES, STORAGE_OFFSET_ALIGNMENT).length;
  const keys = (exe: Executable) => new Set(exe.modules.map(moduleCode));
  const stepKeys = keys(step.exe);
  const forwardKeys = keys(forward.exe);
  return {
    depth,
    residual: RESIDUALS[kind].label,
    kernels: {
      forward: forward.exe.kernels.length,
      step: step.exe.kernels.length + 2 * chunks + 1,
      stepSlice: step.exe.kernels.filter((k) => k.ops.includes("slice")).length,
      adamw: 2 * chunks + 1,
    },
    pipelines: {
      forward: forwardKeys.size,
      step: stepKeys.size + ADAMW_MODULES.length,
      // what a cold engine compiles: both executables' pipelines (shared by key) and AdamW's
      engine: new Set([...stepKeys, ...forwardKeys]).size + ADAMW_MODULES.length,
    },
    modulesEmitted: { forward: forward.exe.modules.length, step: step.exe.modules.length },
    wgslBytes: {
      forward: bytes(forward.exe.modules),
      step: bytes(step.exe.modules) + bytes(ADAMW_MODULES),
      forwardDistinct: bytes([...forwardKeys]),
      stepDistinct: bytes([...stepKeys]) + bytes(ADAMW_MODULES),
    },
    compileMs: { forward: forward.ms, step: step.ms },
    firstStep: values["first-step"] ? firstStep(depth, kind) : undefined,
  };
}

type Row = ReturnType<typeof measure>;

if (values["child-step"]) {
  await childStep(values["child-step"]);
} else {
  const depths = values.depths!.split(",").map(Number);
  const kinds = values.only!.split(",");
  for (const k of kinds)
    if (!RESIDUALS[k]) throw new Error(`--only ${k}: the kinds are ${Object.keys(RESIDUALS).join(", ")}`);
  const probeModel = loadModel(depths[0], kinds[0]);
  const { dim, heads, kv_heads, hidden } = probeModel.fields;
  const probe = trainSpec(probeModel);
  compileFor(depths[0], kinds[0], "step"); // untimed: the first row should not pay for the JIT's warm-up
  console.log(
    `examples/deep48.arch (dim ${dim}, heads ${heads}, kv_heads ${kv_heads}, hidden ${hidden}) ` +
      `at batch ${probe.batch} x seq ${probe.seq}; compile times: median of ${values.repeats}, front end included\n`,
  );
  const kb = (n: number) => `${(n / 1024).toFixed(0)} KiB`;
  const columns: [string, (r: Row) => string | number][] = [
    ["depth", (r) => r.depth],
    ["residual", (r) => r.residual],
    ["kernels fwd", (r) => r.kernels.forward],
    ["kernels step", (r) => r.kernels.step],
    ["slice (step)", (r) => r.kernels.stepSlice],
    ["pipelines fwd", (r) => r.pipelines.forward],
    ["pipelines step", (r) => r.pipelines.step],
    ["pipelines engine", (r) => r.pipelines.engine],
    ["modules fwd / step", (r) => `${r.modulesEmitted.forward} / ${r.modulesEmitted.step}`],
    ["WGSL fwd (distinct)", (r) => `${kb(r.wgslBytes.forward)} (${kb(r.wgslBytes.forwardDistinct)})`],
    ["WGSL step (distinct)", (r) => `${kb(r.wgslBytes.step)} (${kb(r.wgslBytes.stepDistinct)})`],
    ["compile fwd", (r) => `${r.compileMs.forward.toFixed(0)} ms`],
    ["compile step", (r) => `${r.compileMs.step.toFixed(0)} ms`],
  ];
  if (values["first-step"])
    columns.push([
      "first step (engine built; 2nd step)",
      ({ firstStep: f }) =>
        !f
          ? ""
          : "error" in f
            ? f.error.slice(0, 120)
            : `${secs(f.lossMs)} (${secs(f.engineMs)}; ${secs(f.secondStepMs)})`,
    ]);
  console.log(`| ${columns.map(([h]) => h).join(" | ")} |`);
  console.log(`| --- | --- |${" ---: |".repeat(columns.length - 2)}`);
  const rows: Row[] = [];
  for (const depth of depths)
    for (const kind of kinds) {
      const r = measure(depth, kind);
      rows.push(r);
      console.log(`| ${columns.map(([, cell]) => cell(r)).join(" | ")} |`);
    }
  const report = {
    bench: "compile-cost",
    node: process.version,
    batch: probe.batch,
    seq: probe.seq,
    repeats: Number(values.repeats),
    rows,
  };
  if (values.json) writeFileSync(values.json, JSON.stringify(report, null, 2) + "\n");
  console.log("\n" + JSON.stringify(report));
}
