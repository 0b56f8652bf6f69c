// Every kernel must respect maxStorageBufferBindingSize. A model's flat parameter arrays can exceed
// it (50M parameters are 200 MB; lavapipe allows 128 MiB per binding), so AdamW walks them in
// chunks bound as ranges. WebGPU cannot lower a device's limit below the default, so these tests
// shrink the chunks instead (the chunk size, or a device-level binding budget from openDevice) so
// that tiny models span several chunks, and compare against the float64 AdamW reference: the
// gradient norm must be over every parameter before any chunk is updated. Needs a WebGPU adapter.

import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { adamwModules } from "../compiler/codegen/kernels/adamw.js";
import { compileGraph, compileTraining } from "../compiler/compile.js";
import { lowerModel } from "../compiler/ir/lower.js";
import { differentiate } from "../compiler/passes/autodiff.js";
import type { ModelSpec, TrainSpec } from "../format/spec.js";
import type { Param } from "../compiler/ir/ir.js";
import { checkLimits, DeviceLimitError, storageBindingLimit } from "../runtime/buffers.js";
import { openDevice, type GpuContext } from "../runtime/device.js";
import { adamwStep, globalGradNorm } from "../runtime/optim/adamw.js";
import { adamwChunks, adamwChunkUnit, GpuAdamw } from "../runtime/optim/adamw-gpu.js";
import { decayMask, flatLayout } from "../runtime/optim/layout.js";
import { runOutputs } from "../compiler/reference/interpreter.js";
import { fromInts } from "../compiler/reference/tensor.js";
import { GpuTrainingEngine } from "../runtime/train/gpu-engine.js";
import { attnResidual as attn, tinySpec } from "./golden/specs.js";
import { randomStart, seededRandom } from "./gradcheck-support.js";
import { readF32, relativeError } from "./gpu-harness.js";

describe("AdamW chunk plan", () => {
  it("starts every chunk where both the f32 range and its decay-mask words are aligned", () => {
    expect(adamwChunkUnit(256)).toBe(2048);
    expect(adamwChunkUnit(4)).toBe(32);
    // 50M parameters on lavapipe's 128 MiB: two chunks, the first as large as a binding allows
    const chunks = adamwChunks(50_500_000, 128 << 20, 256);
    expect(chunks.map((c) => c.length)).toEqual([33_554_432, 50_500_000 - 33_554_432]);
    expect(chunks.every((c) => ((c.start * 4) % 256 === 0 && (c.start / 32) * 4) % 256 === 0)).toBe(true);
    // a model within the limit stays one chunk
    expect(adamwChunks(1000, 128 << 20, 256)).toEqual([{ start: 0, length: 1000 }]);
    // an explicit size, capped by the binding limit
    expect(adamwChunks(9000, 128 << 20, 256, 4096).map((c) => c.start)).toEqual([0, 4096, 8192]);
    expect(adamwChunks(9000, 8192, 256, 4096).map((c) => c.length)).toEqual([2048, 2048, 2048, 2048, 808]);
    expect(() => adamwChunks(9000, 128 << 20, 256, 1000)).toThrow(/multiple of 2048/);
    expect(() => adamwChunks(9000, 4096, 256)).toThrow(/cannot hold one AdamW chunk/);
  });
});

describe("a model larger than a storage binding", () => {
  it("fails to load with the limit and the model's size named when a binding exceeds the limit", () => {
    const model = tinySpec({ name: "wide", dim: 32, layers: 4, residual: attn({ blocks: 2 }) });
    const exe = compileGraph(differentiate(lowerModel(model, { batch: 2, seq: 8 })), { batch: 2, seq: 8 });
    const limits = {
      maxStorageBufferBindingSize: 4096,
      maxBufferSize: 1 << 30,
      maxStorageBuffersPerShaderStage: 16,
      maxComputeWorkgroupStorageSize: 32768,
      maxComputeWorkgroupsPerDimension: 65535,
    };
    expect(() => checkLimits(exe, limits)).toThrow(DeviceLimitError);
    try {
      checkLimits(exe, limits);
    } catch (err) {
      const message = (err as Error).message;
      expect(message).toMatch(
        /^wide \([\d,]+ parameters, [\d.]+ KiB of f32 weights\) does not fit this device/,
      );
      expect(message).toMatch(/this device allows 4 KiB per storage binding/);
    }
  });
});

const param = (name: string, shape: number[], decay: boolean): Param => ({
  name,
  shape,
  init: { kind: "zeros" },
  decay,
  group: "t",
});

describe("chunked AdamW on the device", () => {
  let gpu: GpuContext;
  beforeAll(async () => {
    gpu = await openDevice();
  });
  afterAll(() => gpu?.device.destroy());

  it("matches the float64 reference (params, m, v, grad norm) with the walk split into 5 chunks", async () => {
    const device = gpu.device;
    const rand = seededRandom(5);
    // uneven segments at 64-element alignment, 9000-odd elements: chunks of 2048 split segments
    const layout = flatLayout(
      [
        param("w", [61, 67], true),
        param("gain", [67], false),
        param("u", [45, 99], true),
        param("q", [13], false),
      ],
      64,
    );
    const n = layout.total;
    const mask = decayMask(layout);
    const hyper = { beta1: 0.9, beta2: 0.95, eps: 1e-8, weightDecay: 0.1, clip: 1 };
    const host = {
      params: Float64Array.from({ length: n }, () => rand() * 2 - 1),
      grads: new Float64Array(n),
      m: new Float64Array(n),
      v: new Float64Array(n),
    };
    const storage = (data: Float32Array | Uint32Array) => {
      const buffer = device.createBuffer({
        size: Math.ceil(data.byteLength / 16) * 16,
        usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST,
      });
      device.queue.writeBuffer(buffer, 0, data);
      return buffer;
    };
    const readBack = (buffer: GPUBuffer, length: number) => readF32(device, buffer, length);
    const buffers = {
      params: storage(Float32Array.from(host.params)),
      grads: storage(new Float32Array(n)),
      m: storage(new Float32Array(n)),
      v: storage(new Float32Array(n)),
      decayMask: storage(mask),
    };
    const unit = adamwChunkUnit(Number(device.limits.minStorageBufferOffsetAlignment));
    const adamw = new GpuAdamw(
      device,
      n,
      {
        params: { buffer: buffers.params },
        grads: { buffer: buffers.grads },
        m: { buffer: buffers.m },
        v: { buffer: buffers.v },
        decayMask: { buffer: buffers.decayMask },
      },
      hyper,
      adamwModules(),
      { chunkElements: unit },
    );
    try {
      expect(adamw.chunks.length).toBe(Math.ceil(n / unit));
      expect(adamw.chunks.length).toBeGreaterThanOrEqual(3);
      expect(adamw.dispatchCount).toBe(2 * adamw.chunks.length + 1);
      for (let t = 1; t <= 3; t++) {
        // the gradient is concentrated in the last chunk, so a per-chunk norm would clip wrongly
        const grads = Float32Array.from(
          { length: n },
          (_, i) => (rand() * 2 - 1) * (i >= n - 500 ? 0.5 : 0.01),
        );
        host.grads.set(grads);
        device.queue.writeBuffer(buffers.grads, 0, grads);
        const lr = 0.05 / t;
        const norm = adamwStep(host, mask, hyper, t, lr);
        expect(norm).toBeGreaterThan(hyper.clip);
        adamw.step(t, lr);
        const normSq = await readBack(adamw.normSquared, 1);
        expect(Math.abs(Math.sqrt(normSq[0]) - globalGradNorm(grads)) / norm).toBeLessThan(1e-5);
      }
      expect(relativeError(await readBack(buffers.params, n), host.params)).toBeLessThan(1e-5);
      expect(relativeError(await readBack(buffers.m, n), host.m)).toBeLessThan(1e-4);
      expect(relativeError(await readBack(buffers.v, n), host.v)).toBeLessThan(1e-4);
    } finally {
      adamw.destroy();
      Object.values(buffers).forEach((b) => b.destroy());
    }
  });
});

const VOCAB = 13;
const [BATCH, SEQ] = [2, 6];
/** the binding budget of the training test: 4096 f32 per binding, far below the model's pools */
const BINDING_BYTES = 16 * 1024;

const MODEL: ModelSpec = tinySpec({
  name: "over_limit",
  block: "layer",
  vocab: VOCAB,
  context: 8,
  dim: 32,
  layers: 2,
  heads: 2,
  kvHeads: 1,
  headDim: 16,
  hidden: 64,
  position: { kind: "rope", theta: 100 },
  tied: true,
});

const TRAIN: TrainSpec = {
  name: "t",
  model: "over_limit",
  data: "brown",
  tokenizer: "bytes",
  batch: BATCH,
  seq: SEQ,
  steps: 8,
  evalEvery: 8,
  evalBatches: 1,
  logEvery: 1,
  checkpointEvery: 8,
  optimizer: { kind: "adamw", lr: 1e-2, beta1: 0.9, beta2: 0.95, eps: 1e-3, weightDecay: 0.1, clip: 0.1 },
  schedule: { kind: "constant", warmup: 0, minLrRatio: 1 },
  seed: 0,
};

describe("training a model whose parameters exceed the storage binding limit", () => {
  let gpu: GpuContext;
  beforeAll(async () => {
    gpu = await openDevice({ maxStorageBindingBytes: BINDING_BYTES });
  });
  afterAll(() => gpu?.device.destroy());

  it("matches float64 AdamW over chunked steps, and its real loss falls", async () => {
    expect(storageBindingLimit(gpu.device)).toBe(BINDING_BYTES);
    const rand = seededRandom(11);
    const graph = differentiate(lowerModel(MODEL, { batch: BATCH, seq: SEQ }));
    const layout = flatLayout(graph.params, 64);
    expect(layout.total * 4, "the parameters span several bindings").toBeGreaterThan(4 * BINDING_BYTES);
    const mask = decayMask(layout);
    const { start, zeros } = randomStart(graph.params, rand, 0.3);
    const engine = await GpuTrainingEngine.create({
      program: compileTraining(MODEL, { batch: BATCH, seq: SEQ }),
      train: TRAIN,
      gpu,
    });
    try {
      const chunks = (engine as unknown as { adamw: GpuAdamw }).adamw.chunks;
      expect(chunks.length).toBeGreaterThanOrEqual(4);
      expect(Math.max(...chunks.map((c) => c.length)) * 4).toBeLessThanOrEqual(BINDING_BYTES);
      await engine.setState({ step: 0, params: start, m: zeros, v: zeros });

      const flat = (values: Map<string, ArrayLike<number>>) => {
        const out = new Float64Array(layout.total);
        for (const s of layout.segments) out.set(values.get(s.name)!, s.offset);
        return out;
      };
      const asMap = (values: Float64Array) =>
        new Map(layout.segments.map((s) => [s.name, values.subarray(s.offset, s.offset + s.size)]));
      const cpu = {
        params: flat(start),
        m: new Float64Array(layout.total),
        v: new Float64Array(layout.total),
      };
      // one batch throughout, so the loss must fall
      const tokens = Array.from({ length: BATCH * SEQ }, () => Math.floor(rand() * VOCAB));
      const targets = Array.from({ length: BATCH * SEQ }, () => Math.floor(rand() * VOCAB));
      const losses: number[] = [];
      const compared = 3;
      for (let t = 1; t <= TRAIN.steps; t++) {
        const lr = TRAIN.optimizer.lr;
        const loss = await engine.step(Int32Array.from(tokens), Int32Array.from(targets), lr, true);
        expect(loss).toBeDefined();
        losses.push(loss!);
        if (t > compared) continue;
        const reference = runOutputs(
          graph,
          { tokens: fromInts([BATCH, SEQ], tokens), targets: fromInts([BATCH, SEQ], targets) },
          asMap(cpu.params),
        );
        const grads = new Map(graph.params.map((p) => [p.name, reference[`grad.${p.name}`].data]));
        const norm = adamwStep({ ...cpu, grads: flat(grads) }, mask, TRAIN.optimizer, t, lr);
        expect(norm, "clipping is exercised").toBeGreaterThan(TRAIN.optimizer.clip);
        expect(Math.abs(loss! - reference.loss.data[0])).toBeLessThan(1e-4 * reference.loss.data[0]);
        expect(
          Math.abs((await engine.lastGradNorm())! - norm) / norm,
          "grad norm over all chunks",
        ).toBeLessThan(1e-4);
        if (t === compared) {
          const state = await engine.getState();
          const origin = flat(start);
          const moved = (values: Float64Array) => values.map((x, i) => x - origin[i]);
          expect(
            relativeError(moved(flat(state.params)), moved(cpu.params)),
            "parameter updates",
          ).toBeLessThan(1e-3);
          expect(relativeError(flat(state.m), cpu.m), "first moments").toBeLessThan(1e-3);
          expect(relativeError(flat(state.v), cpu.v), "second moments").toBeLessThan(1e-3);
        }
      }
      expect(
        losses.every((l) => Number.isFinite(l) && l > 0.1),
        `real losses: ${losses}`,
      ).toBe(true);
      expect(losses[losses.length - 1], `losses fall: ${losses}`).toBeLessThan(0.9 * losses[0]);
    } finally {
      engine.dispose();
    }
  }, 600_000); // compiling a training program takes minutes on a busy software driver
});
