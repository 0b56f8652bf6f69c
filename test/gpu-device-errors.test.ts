// Device validation and out-of-memory errors are fatal. Dawn reports an error of a call outside an
// error scope as an "uncapturederror" event and carries on: the bad command buffer is dropped at
// submit and a readback returns zeros (training logged `loss 0.0000` and saved checkpoints). Every
// device openDevice returns records the first such error, and readbacks, executor runs and
// training steps throw it as a DeviceError. Needs a WebGPU adapter.

import { afterEach, describe, expect, it } from "vitest";
import { compileTraining } from "../compiler/compile.js";
import type { TrainSpec } from "../format/spec.js";
import {
  DeviceError,
  deviceFault,
  forgetDevice,
  openDevice,
  throwIfDeviceFailed,
  withDevice,
  withErrorScopes,
  type GpuContext,
} from "../runtime/device.js";
import { readMapped } from "../runtime/executor.js";
import { GpuTrainingEngine } from "../runtime/train/gpu-engine.js";
import { tinySpec } from "./golden/specs.js";

const opened: GpuContext[] = [];
async function freshDevice(): Promise<GpuContext> {
  const gpu = await openDevice();
  opened.push(gpu);
  return gpu;
}
afterEach(() => {
  for (const gpu of opened.splice(0)) {
    forgetDevice(gpu.device);
    gpu.device.destroy();
  }
});

const STORE_ONE = `@group(0) @binding(0) var<storage, read_write> x: array<f32>;
@compute @workgroup_size(1) fn main() { x[0] = 1.0; }`;

/** dispatches STORE_ONE over `binding` and copies the first 16 bytes of `source` into a mappable buffer */
function submitWithBinding(device: GPUDevice, binding: GPUBufferBinding, source: GPUBuffer): GPUBuffer {
  const module = device.createShaderModule({ code: STORE_ONE });
  const pipeline = device.createComputePipeline({ layout: "auto", compute: { module, entryPoint: "main" } });
  const bindGroup = device.createBindGroup({
    layout: pipeline.getBindGroupLayout(0),
    entries: [{ binding: 0, resource: binding }],
  });
  const readback = device.createBuffer({
    size: 16,
    usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST,
  });
  const encoder = device.createCommandEncoder();
  const pass = encoder.beginComputePass();
  pass.setPipeline(pipeline);
  pass.setBindGroup(0, bindGroup);
  pass.dispatchWorkgroups(1);
  pass.end();
  encoder.copyBufferToBuffer(source, 0, readback, 0, 16);
  device.queue.submit([encoder.finish()]);
  return readback;
}

describe("device errors are fatal", () => {
  it("a binding over maxStorageBufferBindingSize surfaces as a thrown DeviceError, not zeros", async () => {
    const { device } = await freshDevice();
    const limit = Number(device.limits.maxStorageBufferBindingSize);
    // the AdamW bug: a whole buffer bound past the limit
    const big = device.createBuffer({
      size: limit + 256,
      usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC,
    });
    try {
      const readback = submitWithBinding(device, { buffer: big }, big);
      const failure = await readMapped(readback, device).then(
        () => undefined,
        (err: unknown) => err,
      );
      expect(failure).toBeInstanceOf(DeviceError);
      expect((failure as Error).message).toMatch(
        /reading results back: the GPU device reported a validation error/,
      );
      expect((failure as Error).message).toMatch(/binding size|maxStorageBufferBindingSize/i);
      expect((failure as Error).message).toMatch(/later error/);
      expect(deviceFault(device)?.kind).toBe("validation");
      // a readback that does not name its device still refuses, while the device is open
      expect(() => throwIfDeviceFailed()).toThrow(DeviceError);
    } finally {
      big.destroy();
    }
  });

  it("stops the training step and the evaluator after an error, instead of returning a loss", async () => {
    const gpu = await freshDevice();
    const device = gpu.device;
    // the same model and shapes as gpu-binding-limit.test.ts, so a driver's shader cache serves both
    const model = tinySpec({
      name: "steps",
      block: "layer",
      vocab: 13,
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
    const train: TrainSpec = {
      name: "t",
      model: "steps",
      data: "brown",
      tokenizer: "bytes",
      batch: 2,
      seq: 6,
      steps: 2,
      evalEvery: 2,
      evalBatches: 1,
      logEvery: 1,
      checkpointEvery: 2,
      optimizer: { kind: "adamw", lr: 1e-2, beta1: 0.9, beta2: 0.95, eps: 1e-8, weightDecay: 0, clip: 1 },
      schedule: { kind: "constant", warmup: 0, minLrRatio: 1 },
      seed: 0,
    };
    const engine = await GpuTrainingEngine.create({
      program: compileTraining(model, { batch: train.batch, seq: train.seq }),
      train,
      gpu,
    });
    try {
      const tokens = Int32Array.from({ length: 12 }, (_, i) => (i * 5) % 13);
      const targets = Int32Array.from({ length: 12 }, (_, i) => (i * 7 + 1) % 13);
      expect(await engine.step(tokens, targets, 1e-2, true)).toBeGreaterThan(0);
      expect(await engine.evalLoss(tokens, targets)).toBeGreaterThan(0);

      // an uncaptured validation error between steps (a range binding off the offset alignment)
      const buffer = device.createBuffer({
        size: 1024,
        usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC,
      });
      submitWithBinding(device, { buffer, offset: 4, size: 16 }, buffer).destroy();
      buffer.destroy();
      // the next step refuses, logged or not, and so does the evaluator (an Executor run)
      await expect(engine.step(tokens, targets, 1e-2, false)).rejects.toThrow(DeviceError);
      await expect(engine.step(tokens, targets, 1e-2, true)).rejects.toThrow(DeviceError);
      await expect(engine.evalLoss(tokens, targets)).rejects.toThrow(
        /^running steps: the GPU device reported a validation error: .*alignment/s,
      );
    } finally {
      engine.dispose();
    }
  }, 600_000); // compiling a training program takes minutes on a busy software driver

  it("error scopes turn a failed allocation into a DeviceError naming what was allocated", async () => {
    const { device } = await freshDevice();
    await expect(
      withErrorScopes(device, "allocating the test pool", () =>
        device.createBuffer({ size: 2 ** 52, usage: GPUBufferUsage.STORAGE }),
      ),
    ).rejects.toThrow(/^allocating the test pool: /);
    // captured by the scope, so the device itself has no recorded error
    expect(deviceFault(device)).toBeUndefined();
    // a callback's own exception passes through, and the scopes are popped
    await expect(
      withErrorScopes(device, "x", () => {
        throw new RangeError("own");
      }),
    ).rejects.toThrow(RangeError);
    expect(() => throwIfDeviceFailed(device)).not.toThrow();
  });

  it("withDevice throws when the device failed even though the work returned", async () => {
    await expect(
      withDevice(async ({ device }) => {
        device.createBuffer({ size: 2 ** 52, usage: GPUBufferUsage.STORAGE });
        return 1;
      }),
    ).rejects.toThrow(DeviceError);
  });
});
