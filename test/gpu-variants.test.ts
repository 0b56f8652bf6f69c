// Every kernel variant (compiler/codegen/template.ts KernelVariants) against the float64 CPU
// reference on the device, at sizes that are multiples of no tile: each matmul variant in all four
// transposes (one with a fused epilogue), each attention key tile with T not a multiple of it,
// each AttnRes token count with a row count none divides, and a whole Full AttnRes model (stacked
// sources, fused epilogues) with non-default variants everywhere. Bound: relativeError <= 1e-4.
// The compiled WGSL is checked too, so that a variant quietly rendered as the default fails.

import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { GraphBuilder } from "../compiler/ir/builder.js";
import type { Attrs, Graph } from "../compiler/ir/ir.js";
import { numel } from "../compiler/ir/ir.js";
import { lowerModel } from "../compiler/ir/lower.js";
import { compileGraph } from "../compiler/compile.js";
import { forcingTable } from "../compiler/codegen/variant-choice.js";
import { variantNames } from "../compiler/ops/registry.js";
import { MATMUL_TILINGS } from "../compiler/ops/matmul/variants.js";
import { interpret, runOutputs } from "../compiler/reference/interpreter.js";
import type { Tensor } from "../compiler/reference/tensor.js";
import type { Executable } from "../format/archx.js";
import type { TuningTable } from "../format/tuning.js";
import type { GpuContext } from "../runtime/device.js";
import { Executor, type HostArray } from "../runtime/executor.js";
import { paramStream } from "../runtime/init.js";
import { FULL, tinySpec } from "./golden/specs.js";
import { openRealDevice, relativeError, seededInts, seededValues, toTensor } from "./gpu-harness.js";

const TOLERANCE = 1e-4;

let gpu: GpuContext;
beforeAll(async () => {
  gpu = await openRealDevice();
});
afterAll(() => {
  gpu?.device.destroy();
});

/** compiles with `tuning`, runs once, returns the outputs and the executable */
async function runTuned(
  graph: Graph,
  feeds: Record<string, HostArray>,
  params: Map<string, Float32Array>,
  tuning: TuningTable,
  outputs: string[],
): Promise<{ outputs: Record<string, HostArray>; exe: Executable }> {
  const exe = compileGraph(graph, { tuning });
  const executor = await Executor.create(gpu.device, exe);
  try {
    if (exe.params.length > 0) executor.setParams(params);
    return { outputs: await executor.run(feeds, outputs), exe };
  } finally {
    executor.destroy();
  }
}

let seed = 1;

/** `build` makes the graph from its inputs; every input is seeded, every output checked */
async function checkVariant(
  op: string,
  variant: string,
  inputs: Record<string, number[]>,
  build: (b: GraphBuilder, ids: Record<string, number>) => number,
): Promise<{ error: number; wgsl: string }> {
  const b = new GraphBuilder(`variant_${op}`);
  const feeds: Record<string, Float32Array> = {};
  const refFeeds: Record<string, Tensor> = {};
  const ids: Record<string, number> = {};
  for (const [name, shape] of Object.entries(inputs)) {
    feeds[name] = seededValues(numel(shape), seed++, 2);
    refFeeds[name] = toTensor(shape, feeds[name]);
    ids[name] = b.input(name, "f32", shape);
  }
  b.output(
    "out",
    b.scoped("probe", () => build(b, ids)),
  );
  const graph = b.graph;
  const { outputs, exe } = await runTuned(graph, feeds, new Map(), forcingTable(graph, op, variant), ["out"]);
  const reference = interpret(graph, refFeeds, new Map())[graph.outputs.out];
  const anchor = exe.kernels.find((k) => k.ops[0] === op)!;
  return { error: relativeError(outputs.out, reference.data), wgsl: exe.modules[anchor.module] };
}

const variantLine = (variant: string) => `// variant ${variant}, named by the tuning table`;

/** a product gelu(a·b + bias) with the epilogue fused, or a bare one */
function product(ta: boolean, tb: boolean, epilogue: boolean) {
  return (g: GraphBuilder, x: Record<string, number>) => {
    const p = g.op("matmul", [x.a, x.b], { ta, tb });
    return epilogue ? g.op("gelu", [g.op("add", [p, x.bias])]) : p;
  };
}

describe("matmul variants", () => {
  const names = variantNames("matmul")!;
  it("has the variants the tests below expect", () => {
    expect(names).toEqual(["64x64", "32x32", "128x64", "64x128", "64x64-vec4", "64x64-double", "rows4"]);
  });

  // few rows (decoding): 4 rows and 64 columns per workgroup, the depth split in four; cheap to
  // compile, so every transpose, with and without the epilogue, and rows that are not a multiple of 4
  it.each([
    [false, false],
    [true, false],
    [false, true],
    [true, true],
  ])("rows4: 13x29 by 29x45, ta=%s tb=%s", async (ta, tb) => {
    const [m, n, k] = [13, 45, 29];
    for (const epilogue of [true, false]) {
      const { error, wgsl } = await checkVariant(
        "matmul",
        "rows4",
        { a: ta ? [k, m] : [m, k], b: tb ? [n, k] : [k, n], bias: [n] },
        product(ta, tb, epilogue),
      );
      expect(error).toBeLessThanOrEqual(TOLERANCE);
      expect(wgsl).toContain("const SLICES: u32 = 4u;");
    }
  });

  // A cold pipeline compile of a 4x4-block variant takes several seconds on lavapipe (the driver
  // unrolls its loops), so those are checked in two transposes, (no, no) with a fused epilogue and
  // (yes, yes): the transposes change only the loads, shared by every tiling. The cheap 8x4 and
  // 4x8 blocks are checked in all four. The default, 64x64, is checked in all four (no variant
  // named) by gpu-kernels.test.ts.
  const transposes = (variant: string): [boolean, boolean][] =>
    variant === "128x64" || variant === "64x128"
      ? [
          [false, false],
          [true, false],
          [false, true],
          [true, true],
        ]
      : [
          [false, false],
          [true, true],
        ];
  for (const variant of names.filter((name) => name !== "64x64" && name !== "rows4")) {
    const tiling = MATMUL_TILINGS[variant as keyof typeof MATMUL_TILINGS];
    // 4-wide loads need the contiguous sizes to be multiples of 4; none is a multiple of a tile
    const [m, n, k] = tiling.vec4 ? [36, 44, 28] : [37, 45, 29];
    it.each(transposes(variant))(`${variant}: ${m}x${k} by ${k}x${n}, ta=%s tb=%s`, async (ta, tb) => {
      const epilogue = !ta && !tb;
      const { error, wgsl } = await checkVariant(
        "matmul",
        variant,
        { a: ta ? [k, m] : [m, k], b: tb ? [n, k] : [k, n], bias: [n] },
        product(ta, tb, epilogue),
      );
      expect(error).toBeLessThanOrEqual(TOLERANCE);
      expect(wgsl).toContain(variantLine(variant));
      expect(wgsl).toContain(`const TILE_M: u32 = ${tiling.tileM}u;`);
      expect(wgsl).toContain(`const TILE_N: u32 = ${tiling.tileN}u;`);
      if (epilogue) expect(wgsl).toContain("fn finish(");
      if (tiling.vec4) {
        expect(wgsl).toContain("var<storage, read_write> a: array<vec4<f32>>;");
        expect(wgsl).toContain("var<storage, read_write> b: array<vec4<f32>>;");
      }
      if (tiling.doubleBuffer) expect(wgsl).toContain("two tiles of [row][k]");
    });
  }

  it("64x64-vec4 reads an operand the epilogue also reads one float at a time", async () => {
    // a·b + a: a is bound once, for the product and the residual, so it stays array<f32>
    const { error, wgsl } = await checkVariant("matmul", "64x64-vec4", { a: [36, 28], b: [28, 28] }, (g, x) =>
      g.op("add", [g.op("matmul", [x.a, x.b], { ta: false, tb: false }), x.a]),
    );
    expect(error).toBeLessThanOrEqual(TOLERANCE);
    expect(wgsl).toContain("var<storage, read_write> a: array<f32>;");
    expect(wgsl).toContain("var<storage, read_write> b: array<vec4<f32>>;");
  });
});

describe("rmsnorm_matmul: a norm folded into the product, in the variants", () => {
  // x normed over its 29 columns with a gain, times w: every variant carries the same prologue
  const cases: [string, number, boolean][] = [
    ["64x64", 37, false],
    ["64x64", 37, true],
    ["rows4", 13, false],
    ["rows4", 13, true],
    ["128x64", 37, false],
    ["64x64-double", 37, false],
  ];
  it.each(cases)("%s: %i rows, tb=%s, with a fused epilogue", async (variant, m, tb) => {
    const [n, k] = [45, 29];
    const { error, wgsl } = await checkVariant(
      "rmsnorm_matmul",
      variant,
      { x: [m, k], gain: [k], w: tb ? [n, k] : [k, n], bias: [n] },
      (g, x) =>
        g.op("gelu", [g.op("add", [g.op("rmsnorm_matmul", [x.x, x.gain, x.w], { eps: 1e-5, tb }), x.bias])]),
    );
    expect(error).toBeLessThanOrEqual(TOLERANCE);
    expect(wgsl).toContain("fn load_gain(k: u32) -> f32");
  });

  // b read four at a time: along its columns (one gain for the four) or, transposed, along the
  // depth (four gains)
  it.each([false, true])("64x64-vec4: 4-wide loads with the prologue, tb=%s", async (tb) => {
    const [m, n, k] = [36, 44, 28];
    const { error, wgsl } = await checkVariant(
      "rmsnorm_matmul",
      "64x64-vec4",
      { x: [m, k], gain: [k], w: tb ? [n, k] : [k, n] },
      (g, x) => g.op("rmsnorm_matmul", [x.x, x.gain, x.w], { eps: 1e-5, tb }),
    );
    expect(error).toBeLessThanOrEqual(TOLERANCE);
    if (tb) expect(wgsl).toContain("vec4f(load_gain(k), load_gain(k + 1u)");
  });
});

describe("attention variants", () => {
  const names = variantNames("attention")!;
  it("has the variants the tests below expect", () => expect(names).toEqual(["keys32", "keys16", "keys64"]));

  // T = 77: two query blocks, and no key tile divides it; 4 query heads on 2 kv heads
  it.each(names)("%s, T=77, grouped-query", async (variant) => {
    const attrs: Attrs = { heads: 4, kv_heads: 2, head_dim: 8 };
    const { error, wgsl } = await checkVariant(
      "attention",
      variant,
      { q: [1, 77, 32], k: [1, 77, 16], v: [1, 77, 16] },
      (g, x) => g.op("attention", [x.q, x.k, x.v], attrs),
    );
    expect(error).toBeLessThanOrEqual(TOLERANCE);
    expect(wgsl).toContain(`const KEY_TILE: u32 = ${variant.slice("keys".length)}u;`);
  });
});

describe("AttnRes variants", () => {
  const names = variantNames("attnres")!;
  it("has the variants the tests below expect", () =>
    expect(names).toEqual(["tokens1", "tokens2", "tokens4"]));

  // 15 rows: neither 2 nor 4 divides them, so the last workgroup has rows past the end
  it.each(names)("%s: 3 sources [3,5,37], key norm, softmax", async (variant) => {
    const shape = [3, 5, 37];
    const { error, wgsl } = await checkVariant(
      "attnres",
      variant,
      { s0: shape, s1: shape, s2: shape, query: [37], gain: [37] },
      (g, x) =>
        g.op("attnres", [x.s0, x.s1, x.s2, x.query, x.gain], {
          sources: 3,
          score: "softmax",
          key_norm: true,
          eps: 1e-6,
        }),
    );
    expect(error).toBeLessThanOrEqual(TOLERANCE);
    if (variant !== "tokens1")
      expect(wgsl).toContain(`const TOKENS: u32 = ${variant.slice("tokens".length)}u;`);
  });

  it("tokens2: 2 sources, sigmoid, a query per token", async () => {
    const shape = [1, 7, 20];
    const { error } = await checkVariant(
      "attnres",
      "tokens2",
      { s0: shape, s1: shape, query: shape },
      (g, x) =>
        g.op("attnres", [x.s0, x.s1, x.query], { sources: 2, score: "sigmoid", key_norm: false, eps: 1e-6 }),
    );
    expect(error).toBeLessThanOrEqual(TOLERANCE);
  });
});

describe("a whole model with a variant other than the default for every tunable op", () => {
  it("Full AttnRes (stacked sources): logits and loss match the interpreter", async () => {
    const [batch, seq, vocab] = [2, 9, 32];
    const graph = lowerModel(tinySpec({ vocab, dim: 16, layers: 3, residual: FULL }), { batch, seq });
    const params = new Map(
      graph.params.map((p) => {
        const next = paramStream(5, p.name, p.shape);
        return [p.name, Float32Array.from({ length: numel(p.shape) }, () => (next() / 2 ** 32) * 0.6 - 0.3)];
      }),
    );
    const tokens = seededInts(batch * seq, 21, vocab);
    const targets = seededInts(batch * seq, 22, vocab);
    const tuning = new Map([
      ...forcingTable(graph, "matmul", "32x32"),
      ...forcingTable(graph, "attention", "keys16"),
      ...forcingTable(graph, "attnres", "tokens4"),
    ]);
    const { outputs, exe } = await runTuned(graph, { tokens, targets }, params, tuning, ["logits", "loss"]);
    const reference = runOutputs(
      graph,
      { tokens: toTensor([batch, seq], tokens), targets: toTensor([batch, seq], targets) },
      params,
    );
    expect(relativeError(outputs.logits, reference.logits.data)).toBeLessThanOrEqual(TOLERANCE);
    expect(relativeError(outputs.loss, reference.loss.data)).toBeLessThanOrEqual(TOLERANCE);
    const modulesOf = (op: string) =>
      exe.kernels.filter((k) => k.ops[0] === op).map((k) => exe.modules[k.module]);
    const aggregations = modulesOf("attnres");
    expect(aggregations.length).toBeGreaterThan(0);
    expect(aggregations.some((m) => m.includes("stacked sources"))).toBe(true);
    for (const m of aggregations) expect(m).toContain("const TOKENS: u32 = 4u;");
    for (const m of modulesOf("matmul")) expect(m).toContain("const TILE_M: u32 = 32u;");
    for (const m of modulesOf("attention")) expect(m).toContain("const KEY_TILE: u32 = 16u;");
  });
});
