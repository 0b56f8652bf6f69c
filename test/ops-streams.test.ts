// The residual-stream family (stream_expand, stream_read, stream_write and the stream_mix and
// stream_gram their gradients emit): each gradient rule against finite differences, and every
// kernel on the device against the float64 reference (fails, never skips, without a WebGPU adapter).

import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { GraphBuilder } from "../compiler/ir/builder.js";
import "../compiler/ir/catalog.js";
import type { Attrs } from "../compiler/ir/ir.js";
import { numel } from "../compiler/ir/ir.js";
import { kernelTemplate, referenceOp } from "../compiler/ops/registry.js";
import { interpret } from "../compiler/reference/interpreter.js";
import type { Tensor } from "../compiler/reference/tensor.js";
import type { GpuContext } from "../runtime/device.js";
import { runTemplate } from "./gpu-backward-support.js";
import { openRealDevice, relativeError, runOnGpu } from "./gpu-harness.js";
import { gradcheckOp, randomTensor, seededRandom } from "./gradcheck-support.js";

function expectGradients(op: string, shapes: number[][], attrs: Attrs, seed: number) {
  const { mismatches, checked } = gradcheckOp(op, shapes, attrs, seed);
  expect(checked).toBe(shapes.reduce((sum, s) => sum + numel(s), 0));
  expect(mismatches).toEqual([]);
}

describe("the stream gradients", () => {
  // rows [2, 3], n = 3 streams, D = 4
  const state = [2, 3, 3, 4];
  const token = [2, 3, 4];

  it("stream_expand", () => {
    expectGradients("stream_expand", [token], { streams: 3 }, 21);
  });

  it("stream_read without weights (a plain sum)", () => {
    expectGradients("stream_read", [state], {}, 22);
  });

  it("stream_read with static weights [3]", () => {
    expectGradients("stream_read", [state, [3]], {}, 23);
  });

  it("stream_read with per-token weights [2,3,3]", () => {
    expectGradients("stream_read", [state, [2, 3, 3]], {}, 24);
  });

  it("stream_write with static R [3,3] and b [3]", () => {
    expectGradients("stream_write", [state, [3, 3], [3], token], {}, 25);
  });

  it("stream_write with per-token R [2,3,3,3] and b [2,3,3]", () => {
    expectGradients("stream_write", [state, [2, 3, 3, 3], [2, 3, 3], token], {}, 26);
  });

  it("stream_write with static R and per-token b", () => {
    expectGradients("stream_write", [state, [3, 3], [2, 3, 3], token], {}, 27);
  });
});

describe("the stream kernels", () => {
  const TOLERANCE = 1e-4;
  // rows [3, 5], n = 4 streams, D = 7: nothing a multiple of a workgroup size
  const rows = [3, 5];
  const [n, d] = [4, 7];
  const state = [...rows, n, d];
  const token = [...rows, d];
  let gpu: GpuContext;
  beforeAll(async () => {
    gpu = await openRealDevice();
  });
  afterAll(() => {
    gpu?.device.destroy();
  });
  const rand = seededRandom(2026);

  /** like checkOp in gpu-kernels.test.ts: compiled and run whole, `then` fused into its epilogue */
  async function forwardError(op: string, shapes: number[][], attrs: Attrs, then?: [string, Attrs]) {
    const inputs = shapes.map((shape) => randomTensor(shape, rand, 2));
    const b = new GraphBuilder(`${op}_gpu`);
    let out = b.op(
      op,
      shapes.map((shape, i) => b.input(`in${i}`, "f32", shape)),
      attrs,
    );
    if (then) out = b.op(then[0], [out], then[1]);
    b.output("out", out);
    const feeds = Object.fromEntries(inputs.map((t, i) => [`in${i}`, Float32Array.from(t.data)]));
    const refFeeds = Object.fromEntries(inputs.map((t, i) => [`in${i}`, t]));
    const { outputs, kernels } = await runOnGpu(gpu, b.graph, feeds, new Map());
    expect(kernels).toBe(1);
    return relativeError(outputs.out, interpret(b.graph, refFeeds, new Map())[out].data);
  }

  /** like expectKernelMatches in gpu-backward-ops.test.ts: the emitted op's template alone, on the device */
  async function templateError(op: string, inputs: Tensor[], attrs: Attrs = {}): Promise<number> {
    const b = new GraphBuilder(`${op}_template`);
    const ids = inputs.map((t, i) => b.input(`in${i}`, "f32", t.type.shape));
    const node = b.graph.nodes[b.op(op, ids, attrs)];
    const want = referenceOp(op)!(inputs, node).data;
    const got = await runTemplate(gpu.device, kernelTemplate(op)!, b.graph, node, inputs);
    return relativeError(got, want);
  }

  const forward: [string, string, number[][], Attrs][] = [
    ["stream_expand", "4 streams", [token], { streams: n }],
    ["stream_read", "without weights", [state], {}],
    ["stream_read", "static weights", [state, [n]], {}],
    ["stream_read", "per-token weights", [state, [...rows, n]], {}],
    ["stream_write", "static R and b", [state, [n, n], [n], token], {}],
    ["stream_write", "per-token R and b", [state, [...rows, n, n], [...rows, n], token], {}],
    ["stream_write", "static R, per-token b", [state, [n, n], [...rows, n], token], {}],
  ];
  for (const [op, label, shapes, attrs] of forward)
    it(`${op}, ${label}`, async () => {
      expect(await forwardError(op, shapes, attrs)).toBeLessThanOrEqual(TOLERANCE);
    });

  it("stream_write with a fused epilogue", async () => {
    const shapes = [state, [...rows, n, n], [n], token];
    expect(await forwardError("stream_write", shapes, {}, ["scale", { factor: -1.5 }])).toBeLessThanOrEqual(
      TOLERANCE,
    );
  });

  // stream_mix from n = 4 to m = 3 streams
  const m = 3;
  for (const transpose of [false, true])
    for (const perToken of [false, true])
      it(`stream_mix, transpose ${transpose}, ${perToken ? "per-token" : "static"} weights`, async () => {
        const matrix = transpose ? [m, n] : [n, m];
        const weights = randomTensor(perToken ? [...rows, ...matrix] : matrix, rand, 1);
        const error = await templateError("stream_mix", [randomTensor(state, rand, 2), weights], {
          transpose,
        });
        expect(error).toBeLessThanOrEqual(TOLERANCE);
      });

  it("stream_gram of 4 streams against 3", async () => {
    const inputs = [randomTensor(state, rand, 2), randomTensor([...rows, m, d], rand, 2)];
    expect(await templateError("stream_gram", inputs)).toBeLessThanOrEqual(TOLERANCE);
  });
});
