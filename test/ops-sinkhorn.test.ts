// The sinkhorn family: its float64 reference against the properties Sinkhorn–Knopp promises, its
// gradient rule against finite differences, and both kernels on the device against the reference
// (fails, never skips, without a WebGPU adapter).

import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { GraphBuilder } from "../compiler/ir/builder.js";
import "../compiler/ir/catalog.js";
import type { Attrs } from "../compiler/ir/ir.js";
import { kernelTemplate, referenceOp } from "../compiler/ops/registry.js";
import { sinkhornReference } from "../compiler/ops/sinkhorn/reference.js";
import { interpret } from "../compiler/reference/interpreter.js";
import type { Tensor } from "../compiler/reference/tensor.js";
import type { GpuContext } from "../runtime/device.js";
import { runTemplate } from "./gpu-backward-support.js";
import { openRealDevice, relativeError, runOnGpu } from "./gpu-harness.js";
import { gradcheckOp, randomTensor, seededRandom } from "./gradcheck-support.js";

/** sinkhorn of `x` by the float64 reference */
function reference(x: Tensor, iterations: number): Float64Array {
  const b = new GraphBuilder("sinkhorn_ref");
  const node = b.graph.nodes[b.op("sinkhorn", [b.input("x", "f32", x.type.shape)], { iterations })];
  return sinkhornReference([x], node).data as Float64Array;
}

/** the largest |sum - 1| over every row (or column) of every n×n matrix of `p` */
function worstSumError(p: Float64Array, n: number, axis: "row" | "column"): number {
  let worst = 0;
  for (let base = 0; base < p.length; base += n * n)
    for (let line = 0; line < n; line++) {
      let sum = 0;
      for (let k = 0; k < n; k++) sum += p[base + (axis === "row" ? line * n + k : k * n + line)];
      worst = Math.max(worst, Math.abs(sum - 1));
    }
  return worst;
}

describe("the sinkhorn reference", () => {
  it("makes every matrix doubly stochastic after 20 iterations", () => {
    const p = reference(randomTensor([3, 5, 5], seededRandom(1), 1), 20);
    expect(worstSumError(p, 5, "row")).toBeLessThan(1e-12);
    expect(worstSumError(p, 5, "column")).toBeLessThan(1e-6);
  });

  it("stays finite where exp-then-normalise would under- or overflow", () => {
    // spread 60 leaves f32 exp(x) at 0 or infinity; spread 1000 does the same to float64
    for (const spread of [60, 1000]) {
      const p = reference(randomTensor([4, 4, 4], seededRandom(2), spread), 5);
      expect(p.every(Number.isFinite), `spread ${spread}`).toBe(true);
      expect(worstSumError(p, 4, "row"), `spread ${spread}`).toBeLessThan(1e-12);
    }
  });

  it("maps a 1×1 matrix to [[1]]", () => {
    expect([...reference(randomTensor([1, 1], seededRandom(3), 5), 3)]).toEqual([1]);
  });

  it("rejects what it cannot normalise", () => {
    const b = new GraphBuilder("bad");
    expect(() => b.op("sinkhorn", [b.input("a", "f32", [2, 3, 4])], { iterations: 3 })).toThrow(/square/);
    expect(() => b.op("sinkhorn", [b.input("v", "f32", [4])], { iterations: 3 })).toThrow(/rank/);
    const x = b.input("x", "f32", [4, 4]);
    for (const iterations of [0, 1.5, "3"])
      expect(() => b.op("sinkhorn", [x], { iterations })).toThrow(/iterations/);
  });
});

function gradcheckSinkhorn(shape: number[], iterations: number, seed: number) {
  const { mismatches, checked } = gradcheckOp("sinkhorn", [shape], { iterations }, seed);
  expect(checked).toBe(shape.reduce((a, c) => a * c, 1));
  expect(mismatches).toEqual([]);
}

describe("the sinkhorn gradient", () => {
  it("matches finite differences through 5 iterations of 3×3 matrices", () => {
    gradcheckSinkhorn([2, 3, 3, 3], 5, 11);
  });

  it("matches finite differences through 20 iterations of a 4×4 matrix", () => {
    gradcheckSinkhorn([4, 4], 20, 12);
  });
});

describe("the sinkhorn kernels", () => {
  const TOLERANCE = 1e-4;
  const cases: [number[], number][] = [
    [[2, 5, 4, 4], 20],
    [[3, 2, 2], 3],
    [[1, 1, 1], 1],
    // 2 x 33 x 16 log-sum-exps would not fit the backward's private record: it recomputes instead
    [[2, 16, 16], 33],
  ];
  let gpu: GpuContext;
  beforeAll(async () => {
    gpu = await openRealDevice();
  });
  afterAll(() => {
    gpu?.device.destroy();
  });
  const rand = seededRandom(2025);

  /** like checkOp in gpu-kernels.test.ts: compiled and run whole, `then` fused into its epilogue */
  async function forwardError(shape: number[], iterations: number, then?: [string, Attrs]): Promise<number> {
    const x = randomTensor(shape, rand, 3);
    const b = new GraphBuilder("sinkhorn_gpu");
    let out = b.op("sinkhorn", [b.input("x", "f32", shape)], { iterations });
    if (then) out = b.op(then[0], [out], then[1]);
    b.output("out", out);
    const { outputs, kernels } = await runOnGpu(gpu, b.graph, { x: Float32Array.from(x.data) }, new Map());
    expect(kernels).toBe(1);
    return relativeError(outputs.out, interpret(b.graph, { x }, new Map())[out].data);
  }

  /** like expectKernelMatches in gpu-backward-ops.test.ts: the template alone, on the device */
  async function backwardError(shape: number[], iterations: number): Promise<number> {
    const inputs = [randomTensor(shape, rand, 2), randomTensor(shape, rand, 1)];
    const b = new GraphBuilder("sinkhorn_grad");
    const ids = inputs.map((t, i) => b.input(`in${i}`, "f32", t.type.shape));
    const node = b.graph.nodes[b.op("sinkhorn_grad", ids, { iterations })];
    const want = referenceOp("sinkhorn_grad")!(inputs, node).data;
    const got = await runTemplate(gpu.device, kernelTemplate("sinkhorn_grad")!, b.graph, node, inputs);
    return relativeError(got, want);
  }

  for (const [shape, iterations] of cases) {
    it(`forward on [${shape}], ${iterations} iterations`, async () => {
      expect(await forwardError(shape, iterations)).toBeLessThanOrEqual(TOLERANCE);
    });
    it(`backward on [${shape}], ${iterations} iterations`, async () => {
      expect(await backwardError(shape, iterations)).toBeLessThanOrEqual(TOLERANCE);
    });
  }

  it("forward with a fused epilogue", async () => {
    expect(await forwardError([3, 2, 2], 3, ["scale", { factor: -2.5 }])).toBeLessThanOrEqual(TOLERANCE);
  });
});
