// Structure of the graphs autodiff produces: what is kept, what is added, what is refused.

import { describe, expect, it } from "vitest";
import { GraphBuilder } from "../compiler/ir/builder.js";
import { lowerModel } from "../compiler/ir/lower.js";
import { verifyGraph } from "../compiler/ir/verify.js";
import type { ModelSpec, ResidualSpec } from "../format/spec.js";
import { AutodiffError, differentiate } from "../compiler/passes/autodiff.js";
import { attnResidual, tinySpec } from "./golden/specs.js";

const NORMAL = { kind: "normal", std: 1 } as const;
const OPTS = { decay: true, group: "test" };

function model(residual: ResidualSpec): ModelSpec {
  return tinySpec({
    name: "m",
    block: "l",
    vocab: 5,
    context: 4,
    dim: 8,
    layers: 2,
    heads: 2,
    kvHeads: 1,
    headDim: 4,
    hidden: 8,
    position: { kind: "rope", theta: 100 },
    tied: true,
    residual,
  });
}

describe("differentiate", () => {
  it("keeps the forward nodes and outputs and adds one grad output per parameter, typed like it", () => {
    const forward = lowerModel(model(attnResidual()), { batch: 2, seq: 3 });
    const graph = differentiate(forward);
    expect(graph.nodes.slice(0, forward.nodes.length)).toEqual(forward.nodes);
    expect(graph.outputs.loss).toBe(forward.outputs.loss);
    expect(graph.outputs.logits).toBe(forward.outputs.logits);
    for (const p of forward.params)
      expect(graph.nodes[graph.outputs[`grad.${p.name}`]].type.shape).toEqual(p.shape);
    expect(Object.keys(graph.outputs)).toHaveLength(2 + forward.params.length);
    expect(verifyGraph(graph)).toEqual([]);
  });

  it("passes the verifier for the baseline and a Block AttnRes variant", () => {
    for (const r of [
      { kind: "add" as const },
      attnResidual({ blocks: 2, keyNorm: false, score: "sigmoid", weights: "static" }),
    ])
      expect(verifyGraph(differentiate(lowerModel(model(r), { batch: 1, seq: 4 })))).toEqual([]);
  });

  it("emits no gradient work for values that do not depend on a parameter", () => {
    const b = new GraphBuilder("g");
    const x = b.input("x", "f32", [3, 4]);
    const w = b.param("w", [4, 2], NORMAL, OPTS);
    const targets = b.input("t", "i32", [3]);
    b.output("loss", b.op("cross_entropy", [b.op("matmul", [x, w], { ta: false, tb: false }), targets]));
    const graph = differentiate(b.graph);
    const backward = graph.nodes.slice(b.graph.nodes.length);
    // seed, cross_entropy_grad, and dW = xᵀ·dY; no dX = dY·Wᵀ
    expect(backward.map((n) => n.op)).toEqual(["fill", "cross_entropy_grad", "matmul"]);
    expect(verifyGraph(graph)).toEqual([]);
  });

  it("gives an unused parameter a zero gradient", () => {
    const b = new GraphBuilder("g");
    const w = b.param("w", [2, 3], NORMAL, OPTS);
    b.param("unused", [5], NORMAL, OPTS);
    const targets = b.input("t", "i32", [2]);
    b.output("loss", b.op("cross_entropy", [w, targets]));
    const graph = differentiate(b.graph);
    const zero = graph.nodes[graph.outputs["grad.unused"]];
    expect(zero.op).toBe("fill");
    expect(zero.attrs).toEqual({ shape: [5], value: 0 });
  });

  it("sums the gradients of a value read twice", () => {
    const b = new GraphBuilder("g");
    const w = b.param("w", [2, 3], NORMAL, OPTS);
    const targets = b.input("t", "i32", [2]);
    b.output("loss", b.op("cross_entropy", [b.op("mul", [w, w]), targets]));
    const graph = differentiate(b.graph);
    const grad = graph.nodes[graph.outputs["grad.w"]];
    expect(grad.op).toBe("add");
    expect(grad.inputs.map((i) => graph.nodes[i].op)).toEqual(["mul", "mul"]);
  });

  it("refuses a non-scalar loss, a missing loss and an op without a rule", () => {
    const b = new GraphBuilder("g");
    const w = b.param("w", [2, 3], NORMAL, OPTS);
    b.output("loss", w);
    expect(() => differentiate(b.graph)).toThrow(/must be a scalar/);
    expect(() => differentiate(b.graph, { loss: "nope" })).toThrow(/no output 'nope'/);
    const c = new GraphBuilder("g");
    const v = c.param("v", [3], NORMAL, OPTS);
    c.output("loss", c.op("reduce_leading", [v], { keep: 0 }));
    expect(() => differentiate(c.graph)).toThrow(AutodiffError);
  });

  it("names backward scopes after the forward scope they differentiate", () => {
    const graph = differentiate(lowerModel(model({ kind: "add" }), { batch: 1, seq: 2 }));
    const scopes = new Set(graph.nodes.filter((n) => n.op === "attention_grad_q").map((n) => n.scope));
    expect([...scopes].every((s) => s.startsWith("grad."))).toBe(true);
    expect(scopes.size).toBe(2);
  });
});
