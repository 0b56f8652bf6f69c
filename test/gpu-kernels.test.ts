// Every kernel kind against the float64 CPU reference on seeded random inputs, with sizes that are
// not multiples of any workgroup or tile size. Bound: relativeError (max-abs diff over max-abs
// reference, see gpu-harness.ts) <= 1e-4.

import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Attrs } from "../compiler/ir/ir.js";
import type { GpuContext } from "../runtime/device.js";
import { checkOpOnGpu, openRealDevice, type CheckOperand } from "./gpu-harness.js";

const TOLERANCE = 1e-4;

let gpu: GpuContext;
beforeAll(async () => {
  gpu = await openRealDevice();
});
afterAll(() => {
  gpu?.device.destroy();
});

/** one op applied to fresh random inputs, on the GPU and in the reference; returns the error */
function checkOp(op: string, operands: CheckOperand[], attrs: Attrs = {}, fuse = true): Promise<number> {
  return checkOpOnGpu(gpu, op, operands, attrs as Record<string, number | boolean | string>, { fuse });
}

describe("elementwise and gather kernels", () => {
  it.each([
    [
      "add",
      [
        [3, 5, 7],
        [3, 5, 7],
      ],
    ],
    ["add", [[3, 5, 7], [7]]],
    [
      "mul",
      [
        [13, 29],
        [13, 29],
      ],
    ],
    ["gelu", [[1000]]],
    ["silu", [[3, 333]]],
  ] as const)("%s on %j", async (op, shapes) => {
    expect(
      await checkOp(
        op,
        shapes.map((shape) => ({ shape: [...shape], scale: 3 })),
      ),
    ).toBeLessThanOrEqual(TOLERANCE);
  });

  it.each(["tanh", "sigmoid"])("%s on both sides of zero", async (op) => {
    expect(await checkOp(op, [{ shape: [3, 111], scale: 6 }])).toBeLessThanOrEqual(TOLERANCE);
  });

  it("mul by a scalar [1]", async () => {
    expect(
      await checkOp("mul", [
        { shape: [5, 13], scale: 3 },
        { shape: [1], scale: 2 },
      ]),
    ).toBeLessThanOrEqual(TOLERANCE);
  });

  it("scale", async () => {
    expect(await checkOp("scale", [{ shape: [5, 11] }], { factor: -0.37 })).toBeLessThanOrEqual(TOLERANCE);
  });

  it("embedding", async () => {
    expect(
      await checkOp("embedding", [{ shape: [19, 13] }, { shape: [3, 7], dtype: "i32", below: 19 }]),
    ).toBeLessThanOrEqual(TOLERANCE);
  });

  it("add_positions", async () => {
    expect(await checkOp("add_positions", [{ shape: [2, 5, 9] }, { shape: [8, 9] }])).toBeLessThanOrEqual(
      TOLERANCE,
    );
  });

  it("rope", async () => {
    expect(
      await checkOp("rope", [{ shape: [2, 9, 3 * 6] }], { heads: 3, head_dim: 6, theta: 10000 }),
    ).toBeLessThanOrEqual(TOLERANCE);
  });
});

describe("matmul", () => {
  it.each([
    [false, false],
    [true, false],
    [false, true],
    [true, true],
  ])("ta=%s tb=%s on sizes off the tile", async (ta, tb) => {
    const [m, k, n] = [67, 37, 70];
    const a = ta ? [k, m] : [m, k];
    const bShape = tb ? [n, k] : [k, n];
    expect(await checkOp("matmul", [{ shape: a }, { shape: bShape }], { ta, tb })).toBeLessThanOrEqual(
      TOLERANCE,
    );
  });

  it("flattens leading dims of a", async () => {
    expect(
      await checkOp("matmul", [{ shape: [2, 3, 5] }, { shape: [5, 4] }], { ta: false, tb: false }),
    ).toBeLessThanOrEqual(TOLERANCE);
  });
});

describe("norms", () => {
  it.each([[[3, 7]], [[2, 3, 300]], [[1, 1]]])("rmsnorm %j", async (shape) => {
    const d = shape[shape.length - 1];
    expect(
      await checkOp("rmsnorm", [{ shape, scale: 2 }, { shape: [d] }], { eps: 1e-5 }),
    ).toBeLessThanOrEqual(TOLERANCE);
  });
  it.each([[[3, 7]], [[2, 3, 300]]])("layernorm %j", async (shape) => {
    const d = shape[shape.length - 1];
    expect(
      await checkOp("layernorm", [{ shape, scale: 2 }, { shape: [d] }, { shape: [d] }], { eps: 1e-5 }),
    ).toBeLessThanOrEqual(TOLERANCE);
  });
});

describe("attention", () => {
  it.each([1, 7, 33, 65])("causal, T=%i", async (t) => {
    const attrs = { heads: 2, kv_heads: 2, head_dim: 8 };
    const shape = [2, t, 16];
    expect(await checkOp("attention", [{ shape }, { shape }, { shape }], attrs)).toBeLessThanOrEqual(
      TOLERANCE,
    );
  });
  it.each([7, 33])("grouped-query (4 heads on 2 kv heads), T=%i", async (t) => {
    const attrs = { heads: 4, kv_heads: 2, head_dim: 6 };
    const q = [1, t, 24];
    const kv = [1, t, 12];
    expect(
      await checkOp("attention", [{ shape: q }, { shape: kv }, { shape: kv }], attrs),
    ).toBeLessThanOrEqual(TOLERANCE);
  });
});

describe("attnres", () => {
  const cases: [number, boolean, "softmax" | "sigmoid", "vector" | "token"][] = [];
  for (const sources of [1, 2, 5])
    for (const keyNorm of [true, false])
      for (const score of ["softmax", "sigmoid"] as const)
        cases.push([sources, keyNorm, score, sources === 2 ? "token" : "vector"]);
  cases.push([5, true, "softmax", "token"]);
  it.each(cases)("%i sources, key_norm=%s, %s, %s query", async (sources, keyNorm, score, query) => {
    const shape = [2, 3, 37];
    const operands: Operand[] = Array.from({ length: sources }, () => ({ shape, scale: 2 }));
    operands.push({ shape: query === "token" ? shape : [37] });
    if (keyNorm) operands.push({ shape: [37] });
    const attrs = { sources, score, key_norm: keyNorm, eps: 1e-6 };
    expect(await checkOp("attnres", operands, attrs)).toBeLessThanOrEqual(TOLERANCE);
  });

  it.each([
    [1, "softmax"],
    [4, "softmax"],
    [3, "sigmoid"],
  ] as const)("attnres_static, %i sources, %s", async (sources, score) => {
    const shape = [2, 5, 11];
    const operands: Operand[] = Array.from({ length: sources }, () => ({ shape }));
    operands.push({ shape: [sources], scale: 2 });
    expect(await checkOp("attnres_static", operands, { sources, score })).toBeLessThanOrEqual(TOLERANCE);
  });

  it("attnres_static, 3 sources, linear (the logits as weights)", async () => {
    const shape = [2, 5, 11];
    const operands: Operand[] = [{ shape }, { shape }, { shape }, { shape: [3], scale: 2 }];
    expect(await checkOp("attnres_static", operands, { sources: 3, score: "linear" })).toBeLessThanOrEqual(
      TOLERANCE,
    );
  });

  it("multi-head: sources [3,5,2,8], one query and gain per head [2,8]", async () => {
    const shape = [3, 5, 2, 8];
    const operands: Operand[] = Array.from({ length: 3 }, () => ({ shape, scale: 2 }));
    operands.push({ shape: [2, 8] }, { shape: [2, 8] });
    const attrs = { sources: 3, score: "softmax", key_norm: true, eps: 1e-6 };
    expect(await checkOp("attnres", operands, attrs)).toBeLessThanOrEqual(TOLERANCE);
  });
});

describe("cross_entropy", () => {
  it.each([[[2, 7, 33]], [[300, 5]]])("logits %j", async (shape) => {
    const rows = shape.slice(0, -1);
    const vocab = shape[shape.length - 1];
    expect(
      await checkOp("cross_entropy", [
        { shape, scale: 4 },
        { shape: rows, dtype: "i32", below: vocab },
      ]),
    ).toBeLessThanOrEqual(TOLERANCE);
  });
});
