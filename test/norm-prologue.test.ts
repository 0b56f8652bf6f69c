// The norm-prologue pass (compiler/passes/norm-prologue.ts): an rmsnorm read only by products, in a
// program without a backward, becomes part of each product (rmsnorm_matmul). The folded graph
// verifies and computes what the original did (float64 interpreter); a norm with another reader,
// a transposed product or a program with a backward is left alone.

import { describe, expect, it } from "vitest";
import { compileGraph } from "../compiler/compile.js";
import { GraphBuilder } from "../compiler/ir/builder.js";
import type { Graph } from "../compiler/ir/ir.js";
import { lowerDecodeStep, lowerModel } from "../compiler/ir/lower.js";
import { verifyGraph } from "../compiler/ir/verify.js";
import { foldNormsIntoProducts } from "../compiler/passes/norm-prologue.js";
import { differentiate } from "../compiler/passes/autodiff.js";
import { interpret } from "../compiler/reference/interpreter.js";
import { fromInts, fromValues, type Tensor } from "../compiler/reference/tensor.js";
import { initParams } from "../runtime/init.js";
import { kernelTemplate } from "../compiler/ops/registry.js";
import { tuningKey } from "../format/tuning.js";
import { FULL, tinySpec } from "./golden/specs.js";
import { seededValues } from "./gpu-harness.js";

const ops = (g: Graph) => g.nodes.map((n) => n.op);

function normThenProducts(extraReader: "none" | "add" | "transposed") {
  const b = new GraphBuilder("norm_products");
  const x = b.input("x", "f32", [3, 5, 8]);
  const g = b.input("g", "f32", [8]);
  const wq = b.input("wq", "f32", [8, 6]);
  const wk = b.input("wk", "f32", [6, 8]);
  const n = b.op("rmsnorm", [x, g], { eps: 1e-5 });
  let out = b.op("add", [
    b.op("matmul", [n, wq], { ta: false, tb: false }),
    b.op("matmul", [n, wk], { ta: false, tb: true }),
  ]);
  if (extraReader === "add")
    out = b.op("add", [out, b.op("matmul", [b.op("add", [n, x]), wq], { ta: false, tb: false })]);
  if (extraReader === "transposed") b.output("t", b.op("matmul", [n, x], { ta: true, tb: false }));
  b.output("y", out);
  return b.graph;
}

function feeds(graph: Graph): Record<string, Tensor> {
  let seed = 3;
  return Object.fromEntries(
    graph.nodes
      .filter((n) => n.op === "input")
      .map((n) => [
        String(n.attrs.name),
        fromValues(
          n.type.shape,
          seededValues(
            n.type.shape.reduce((a, d) => a * d, 1),
            seed++,
          ),
        ),
      ]),
  );
}

describe("folding norms into products", () => {
  it("folds a norm whose readers are all untransposed products, and computes the same", () => {
    const graph = normThenProducts("none");
    const folded = foldNormsIntoProducts(graph);
    expect(ops(folded).filter((op) => op === "rmsnorm")).toEqual([]);
    expect(ops(folded).filter((op) => op === "rmsnorm_matmul")).toHaveLength(2);
    expect(verifyGraph(folded)).toEqual([]);
    const before = interpret(graph, feeds(graph), new Map())[graph.outputs.y].data;
    const after = interpret(folded, feeds(folded), new Map())[folded.outputs.y].data;
    expect(after.length).toBe(before.length);
    for (let i = 0; i < before.length; i++) expect(after[i]).toBeCloseTo(before[i], 12);
  });

  it("leaves a norm with any other reader, or read by a transposed product, alone", () => {
    for (const extra of ["add", "transposed"] as const) {
      const graph = normThenProducts(extra);
      expect(foldNormsIntoProducts(graph)).toBe(graph);
    }
  });

  it("runs only in programs without a backward", () => {
    const model = tinySpec({ vocab: 32, dim: 16, layers: 2, residual: FULL });
    const forward = lowerModel(model, { batch: 2, seq: 12 });
    const withBackward = compileGraph(differentiate(forward));
    expect(withBackward.kernels.some((k) => k.ops[0] === "rmsnorm_matmul")).toBe(false);
    const forwardOnly = compileGraph(forward);
    expect(forwardOnly.kernels.some((k) => k.ops[0] === "rmsnorm_matmul")).toBe(true);
    expect(forwardOnly.kernels.length).toBeLessThan(compileGraph(forward, { fuse: false }).kernels.length);
    // the parameter layout is the training program's, so both can share one param pool
    const training = compileGraph(differentiate(forward));
    const slot = (exe: typeof training, name: string) => {
      const id = exe.params.find((p) => p.name === name)!.value;
      const value = exe.values.find((v) => v.id === id)!;
      return [exe.pools[value.pool].usage, value.offset, value.size];
    };
    expect(forwardOnly.params.map((p) => p.name)).toEqual(training.params.map((p) => p.name));
    for (const p of training.params) expect(slot(forwardOnly, p.name)).toEqual(slot(training, p.name));
  });

  it("a folded product takes matmul's tuning entry of its class when it has none of its own", () => {
    const graph = normThenProducts("none");
    const folded = foldNormsIntoProducts(graph);
    const variants = kernelTemplate("rmsnorm_matmul")!.variants!;
    const classes = folded.nodes
      .filter((n) => n.op === "rmsnorm_matmul")
      .map((n) => variants.shapeClass(n, folded));
    const products = (exe: ReturnType<typeof compileGraph>) =>
      exe.kernels.filter((k) => k.ops[0] === "rmsnorm_matmul").map((k) => exe.modules[k.module]);
    // 15 rows: rows4 by default
    for (const code of products(compileGraph(graph))) expect(code).toContain("const SLICES: u32 = 4u;");
    const viaMatmul = new Map(classes.map((c) => [tuningKey("matmul", c), "128x64"]));
    for (const code of products(compileGraph(graph, { tuning: viaMatmul })))
      expect(code).toContain("const TILE_M: u32 = 128u;");
    // its own entry wins
    const own = new Map([
      ...viaMatmul,
      ...classes.map((c) => [tuningKey("rmsnorm_matmul", c), "32x32"] as const),
    ]);
    for (const code of products(compileGraph(graph, { tuning: own })))
      expect(code).toContain("const TILE_M: u32 = 32u;");
  });

  it("folds a decoding step's norms: each sublayer's projections read its norm", () => {
    const model = tinySpec({ vocab: 32, dim: 16, layers: 2 });
    const step = lowerDecodeStep(model, { batch: 1 });
    const folded = foldNormsIntoProducts(step);
    const norms = ops(step).filter((op) => op === "rmsnorm").length;
    expect(ops(folded).filter((op) => op === "rmsnorm")).toHaveLength(0);
    expect(ops(folded).filter((op) => op === "rmsnorm_matmul").length).toBeGreaterThanOrEqual(norms);
    const params = initParams(step.params, 1);
    const values = new Map([...params].map(([name, data]) => [name, Float64Array.from(data)]));
    const inputs = feeds(step);
    inputs.tokens = fromInts([1, 1], [5]);
    inputs.position = fromInts([1], [3]);
    const before = interpret(step, inputs, values)[step.outputs.logits].data;
    const after = interpret(folded, inputs, values)[folded.outputs.logits].data;
    for (let i = 0; i < before.length; i++) expect(after[i]).toBeCloseTo(before[i], 10);
  });
});
