// The GPU training engine against a float64 simulation of the same steps: the interpreter's
// gradients of the differentiated graph, then the reference AdamW over the flat layout. Covers the
// baseline, Full AttnRes, Block AttnRes with N=2 and N=4, every ablation switch, and the rest of the
// residual family (block size, gate, depth-attention heads, DenseFormer, hyper-connections, mHC). After the
// first step m = (1 - beta1) * clip scale * gradient, so comparing m parameter by parameter is the
// whole-model gradient check of the generated backward kernels. Needs a WebGPU adapter; fails when
// there is none.

import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { compileGraph, compileTraining } from "../compiler/compile.js";
import { lowerModel } from "../compiler/ir/lower.js";
import type { ModelSpec, ResidualSpec, TrainSpec } from "../format/spec.js";
import { differentiate } from "../compiler/passes/autodiff.js";
import { setStorageBindingLimit } from "../runtime/buffers.js";
import type { GpuContext } from "../runtime/device.js";
import { adamwStep } from "../runtime/optim/adamw.js";
import { decayMask, flatLayout } from "../runtime/optim/layout.js";
import { runOutputs } from "../compiler/reference/interpreter.js";
import { fromInts } from "../compiler/reference/tensor.js";
import { GpuTrainingEngine } from "../runtime/train/gpu-engine.js";
import { attnResidual as attn, tinySpec } from "./golden/specs.js";
import { randomStart, seededRandom } from "./gradcheck-support.js";
import { openRealDevice, relativeError } from "./gpu-harness.js";

let gpu: GpuContext;
beforeAll(async () => {
  gpu = await openRealDevice();
});
afterAll(() => gpu?.device.destroy());

const VOCAB = 13;
const [BATCH, SEQ] = [2, 6];

// At dim 16 one token row of a [2, 6] batch is 768 bytes, a multiple of the 256-byte binding
// alignment, so the slices of packed gradients become views (compiler/passes/views.ts); at dim 12
// (576 bytes) only slices at offset 0 can, and the rest are copied by kernels. Both are covered:
// the sigmoid and input-dependent-query variants are Full AttnRes at dim 12.
function tinyModel(residual: ResidualSpec, dim = 12): ModelSpec {
  return tinySpec({
    name: "tiny",
    block: "layer",
    vocab: VOCAB,
    context: 8,
    dim,
    layers: 4,
    heads: 2,
    kvHeads: 1,
    headDim: dim / 2,
    hidden: 20,
    position: { kind: "rope", theta: 100 },
    tied: true,
    residual,
  });
}

// eps is large so the update is smooth in the gradient: with eps = 1e-8 the first step is
// lr * sign(g), and a gradient within rounding of zero could flip sign between fp32 and fp64
const TRAIN: TrainSpec = {
  name: "t",
  model: "tiny",
  data: "brown",
  tokenizer: "bytes",
  batch: BATCH,
  seq: SEQ,
  steps: 3,
  evalEvery: 3,
  evalBatches: 1,
  logEvery: 1,
  checkpointEvery: 3,
  optimizer: { kind: "adamw", lr: 1e-2, beta1: 0.9, beta2: 0.95, eps: 1e-3, weightDecay: 0.1, clip: 0.2 },
  schedule: { kind: "constant", warmup: 0, minLrRatio: 1 },
  seed: 0,
};

const VARIANTS: [string, ResidualSpec, number?][] = [
  ["baseline", { kind: "add" }],
  ["Full AttnRes, slices as views (dim 16)", attn(), 16],
  ["Block AttnRes, N=2", attn({ blocks: 2 })],
  ["Block AttnRes, N=4, slices as views (dim 16)", attn({ blocks: 4 }), 16],
  ["no key norm", attn({ blocks: 2, keyNorm: false })],
  ["sigmoid scores", attn({ score: "sigmoid" })],
  ["input-independent weights", attn({ blocks: 2, weights: "static" })],
  ["input-dependent query", attn({ query: "projected" })],
  ["AttnRes by block size 3 (blocks of 3 and 1 layers), gated", attn({ blockSize: 3, gate: true })],
  ["multi-head Block AttnRes, 2 heads, N=2 (dim 16)", attn({ blocks: 2, heads: 2 }), 16],
  ["DenseFormer, dilation 2", { kind: "dense", dilation: 2, period: 1 }],
  ["hyper-connections, static, 3 streams", { kind: "hyper", streams: 3, dynamic: false }],
  ["hyper-connections, dynamic, 2 streams", { kind: "hyper", streams: 2, dynamic: true }],
  ["mHC, 4 streams, 20 Sinkhorn iterations", { kind: "mhc", streams: 4, iterations: 20 }],
];

const trainingProgram = (model: ModelSpec) => compileTraining(model, { batch: BATCH, seq: SEQ });

async function expectStepsMatch(model: ModelSpec, seed: number, steps: number): Promise<void> {
  const rand = seededRandom(seed);
  const graph = differentiate(lowerModel(model, { batch: BATCH, seq: SEQ }));
  const layout = flatLayout(graph.params);
  const mask = decayMask(layout);
  // random everywhere, pseudo-queries included, so every AttnRes path carries gradient
  const { start, zeros } = randomStart(graph.params, rand, 0.4);
  // Every step runs under the smallest storage-binding budget its bindings fit, below its largest
  // pool: kernels that touch many values (AttnRes) bind byte ranges of pools, never whole pools,
  // and AdamW walks the flat arrays in chunks (rounded to its 8 KiB chunk granularity).
  const exe = compileGraph(graph, { batch: BATCH, seq: SEQ });
  if (model.dim % 16 === 0)
    expect(
      exe.values.filter((v) => v.viewOf !== undefined && v.label.includes("slice")).length,
      "slices of packed gradients are views",
    ).toBeGreaterThan(20);
  const widestBinding = Math.max(
    ...exe.values.map((v) => v.size),
    ...exe.kernels.flatMap((k) => k.bindings.map((b) => ("pool" in b ? b.size! : 0))),
  );
  const budget = Math.ceil(widestBinding / 8192) * 8192;
  expect(budget, "the budget is below the largest pool").toBeLessThan(
    Math.max(...exe.pools.map((p) => p.size)),
  );
  setStorageBindingLimit(gpu.device, budget);
  const engine = await GpuTrainingEngine.create({ program: trainingProgram(model), train: TRAIN, gpu });
  try {
    await engine.setState({ step: 0, params: start, m: zeros, v: zeros });

    const flat = (values: Map<string, ArrayLike<number>>) => {
      const out = new Float64Array(layout.total);
      for (const s of layout.segments) out.set(values.get(s.name)!, s.offset);
      return out;
    };
    const cpu = { params: flat(start), m: new Float64Array(layout.total), v: new Float64Array(layout.total) };
    const asMap = (values: Float64Array) =>
      new Map(layout.segments.map((s) => [s.name, values.subarray(s.offset, s.offset + s.size)]));

    for (let t = 1; t <= steps; t++) {
      const ids = () => Array.from({ length: BATCH * SEQ }, () => Math.floor(rand() * VOCAB));
      const [tokens, targets] = [ids(), ids()];
      const lr = TRAIN.optimizer.lr * (1 - 0.2 * t);
      const reference = runOutputs(
        graph,
        { tokens: fromInts([BATCH, SEQ], tokens), targets: fromInts([BATCH, SEQ], targets) },
        asMap(cpu.params),
      );
      const grads = new Map(graph.params.map((p) => [p.name, reference[`grad.${p.name}`].data]));
      const norm = adamwStep({ ...cpu, grads: flat(grads) }, mask, TRAIN.optimizer, t, lr);
      expect(norm, "clipping is exercised").toBeGreaterThan(TRAIN.optimizer.clip);

      const loss = await engine.step(Int32Array.from(tokens), Int32Array.from(targets), lr, true);
      expect(Math.abs(loss! - reference.loss.data[0])).toBeLessThan(1e-4 * Math.abs(reference.loss.data[0]));
      expect(Math.abs((await engine.lastGradNorm())! - norm) / norm).toBeLessThan(1e-4);
      if (t === 1) {
        const { m } = await engine.getState();
        const wrong = layout.segments
          .map((s) => ({
            name: s.name,
            error: relativeError(m.get(s.name)!, cpu.m.subarray(s.offset, s.offset + s.size)),
          }))
          .filter((e) => !(e.error <= 1e-3));
        expect(wrong, "gradients (first moments after one step), parameter by parameter").toEqual([]);
      }
    }

    const state = await engine.getState();
    expect(state.step).toBe(steps);
    const moved = (now: Map<string, Float32Array> | Float64Array) => {
      const values = now instanceof Float64Array ? now : flat(now);
      const origin = flat(start);
      return values.map((x, i) => x - origin[i]);
    };
    expect(relativeError(moved(state.params), moved(cpu.params)), "parameter updates").toBeLessThan(1e-3);
    expect(relativeError(flat(state.m), cpu.m), "first moments").toBeLessThan(1e-3);
    expect(relativeError(flat(state.v), cpu.v), "second moments").toBeLessThan(1e-3);
  } finally {
    engine.dispose();
    setStorageBindingLimit(gpu.device, Number(gpu.device.limits.maxStorageBufferBindingSize));
  }
}

describe("GPU training steps match forward, backward and AdamW in float64", () => {
  VARIANTS.forEach(([name, residual, dim], i) =>
    it(
      `${name}: two steps, clipped, decayed`,
      () => expectStepsMatch(tinyModel(residual, dim), 100 + i, 2),
      600_000,
    ),
  );
});

describe("GPU evaluation", () => {
  it("evalLoss is the training program's loss on the same parameters, and changes nothing", async () => {
    const model = tinyModel(attn({ blocks: 2 }));
    const engine = await GpuTrainingEngine.create({ program: trainingProgram(model), train: TRAIN, gpu });
    try {
      const rand = seededRandom(7);
      const ids = () => Int32Array.from({ length: BATCH * SEQ }, () => Math.floor(rand() * VOCAB));
      const [tokens, targets] = [ids(), ids()];
      const before = await engine.getState();
      const evaluated = await engine.evalLoss(tokens, targets);
      const after = await engine.getState();
      expect(after.params).toEqual(before.params);
      const graph = lowerModel(model, { batch: BATCH, seq: SEQ });
      const reference = runOutputs(
        graph,
        { tokens: fromInts([BATCH, SEQ], [...tokens]), targets: fromInts([BATCH, SEQ], [...targets]) },
        before.params,
      );
      expect(Math.abs(evaluated - reference.loss.data[0])).toBeLessThan(1e-5 * reference.loss.data[0]);
      // the step's loss is computed before its update, on the same parameters
      expect(await engine.step(tokens, targets, 1e-3, true)).toBeCloseTo(evaluated, 5);
    } finally {
      engine.dispose();
    }
  });
});
