// The fused AdamW kernels on the device against the float64 CPU reference, several steps with
// clipping active and a mixed decay mask. Needs a WebGPU adapter; fails when there is none.

import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { adamwModules } from "../compiler/codegen/kernels/adamw.js";
import type { Param } from "../compiler/ir/ir.js";
import { adamwStep, globalGradNorm } from "../runtime/optim/adamw.js";
import { GpuAdamw } from "../runtime/optim/adamw-gpu.js";
import { decayMask, flatLayout } from "../runtime/optim/layout.js";
import { seededRandom } from "./gradcheck-support.js";
import { relativeError, requireDevice } from "./gpu-backward-support.js";
import { readF32 } from "./gpu-harness.js";

let device: GPUDevice;
beforeAll(async () => {
  device = await requireDevice();
});
afterAll(() => device?.destroy());

function storage(data: Float32Array | Uint32Array): GPUBuffer {
  const buffer = device.createBuffer({
    size: Math.ceil(data.byteLength / 16) * 16,
    usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST,
  });
  device.queue.writeBuffer(buffer, 0, data);
  return buffer;
}

const readBack = (buffer: GPUBuffer, length: number) => readF32(device, buffer, length);

const param = (name: string, shape: number[], decay: boolean): Param => ({
  name,
  shape,
  init: { kind: "zeros" },
  decay,
  group: "t",
});

describe("AdamW on the device", () => {
  it("matches the float64 reference over three clipped steps with a mixed decay mask", async () => {
    const rand = seededRandom(77);
    const layout = flatLayout(
      [
        param("w", [33, 31], true),
        param("gain", [31], false),
        param("u", [7, 45], true),
        param("q", [13], false),
      ],
      4,
    );
    const mask = decayMask(layout);
    const n = layout.total;
    const hyper = { beta1: 0.9, beta2: 0.95, eps: 1e-8, weightDecay: 0.1, clip: 1 };
    const host = {
      params: Float64Array.from({ length: n }, () => rand() * 2 - 1),
      grads: new Float64Array(n),
      m: new Float64Array(n),
      v: new Float64Array(n),
    };
    const buffers = {
      params: storage(Float32Array.from(host.params)),
      grads: storage(new Float32Array(n)),
      m: storage(new Float32Array(n)),
      v: storage(new Float32Array(n)),
      decayMask: storage(mask),
    };
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
    );
    try {
      for (let t = 1; t <= 3; t++) {
        const grads = Float32Array.from({ length: n }, () => (rand() * 2 - 1) * 0.2);
        host.grads.set(grads);
        device.queue.writeBuffer(buffers.grads, 0, grads);
        const lr = 0.05 / t;
        const norm = adamwStep(host, mask, hyper, t, lr);
        expect(norm).toBeGreaterThan(hyper.clip); // clipping is exercised
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
