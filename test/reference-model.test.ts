import { describe, expect, it } from "vitest";
import type { Graph } from "../compiler/ir/ir.js";
import { lowerModel } from "../compiler/ir/lower.js";
import { initParams, paramStream } from "../runtime/init.js";
import { interpret, runOutputs } from "../compiler/reference/interpreter.js";
import type { Tensor } from "../compiler/reference/tensor.js";
import { fromInts } from "../compiler/reference/tensor.js";
import { blockRes, FULL, tinySpec } from "./golden/specs.js";

const batch = 2;
const seq = 6;

function tokenFeeds(vocab: number, seed: number): Record<string, Tensor> {
  const next = paramStream(seed, "tokens", [batch, seq]);
  const ids = () => Array.from({ length: batch * seq }, () => next() % vocab);
  return { tokens: fromInts([batch, seq], ids()), targets: fromInts([batch, seq], ids()) };
}

/** every parameter drawn U(-a, a), ones/zeros ignored: a deterministic but non-degenerate model */
function uniformParams(graph: Graph, a: number, seed: number): Map<string, Float64Array> {
  return new Map(
    graph.params.map((p) => {
      const next = paramStream(seed, p.name, p.shape);
      const values = new Float64Array(p.shape.reduce((x, y) => x * y, 1));
      for (let i = 0; i < values.length; i++) values[i] = (next() / 2 ** 32) * 2 * a - a;
      return [p.name, values];
    }),
  );
}

describe("CPU interpreter on whole models", () => {
  for (const [label, residual] of [
    ["baseline", { kind: "add" } as const],
    ["Full", FULL],
    ["Block N=2", blockRes(2)],
  ] as const) {
    it(`${label}: default init gives loss close to ln(256)`, () => {
      const spec = tinySpec({ vocab: 256, dim: 32, heads: 4, layers: 2, residual });
      const graph = lowerModel(spec, { batch, seq });
      const { loss, logits } = runOutputs(graph, tokenFeeds(256, 1), initParams(graph.params, 42));
      expect(logits.type.shape).toEqual([batch, seq, 256]);
      expect(Math.abs(loss.data[0] - Math.log(256))).toBeLessThan(0.05);
    });
  }

  it("uniform-random init: finite, deterministic, and sensitive to the parameters", () => {
    const graph = lowerModel(tinySpec({ vocab: 64, residual: FULL }), { batch, seq });
    const feeds = tokenFeeds(64, 3);
    const first = runOutputs(graph, feeds, uniformParams(graph, 0.3, 5)).loss.data[0];
    const again = runOutputs(graph, feeds, uniformParams(graph, 0.3, 5)).loss.data[0];
    const other = runOutputs(graph, feeds, uniformParams(graph, 0.3, 6)).loss.data[0];
    expect(Number.isFinite(first)).toBe(true);
    expect(again).toBe(first);
    expect(other).not.toBe(first);
    expect(Math.abs(first - Math.log(64))).toBeGreaterThan(1e-3);
  });

  it("logits at position t do not depend on tokens after t (causality end to end)", () => {
    const graph = lowerModel(tinySpec({ vocab: 64, residual: blockRes(1) }), { batch: 1, seq });
    const params = uniformParams(graph, 0.3, 9);
    const a = fromInts([1, seq], [1, 2, 3, 4, 5, 6]);
    const b = fromInts([1, seq], [1, 2, 3, 40, 50, 60]);
    const targets = fromInts([1, seq], [0, 0, 0, 0, 0, 0]);
    const la = runOutputs(graph, { tokens: a, targets }, params).logits.data;
    const lb = runOutputs(graph, { tokens: b, targets }, params).logits.data;
    expect(Array.from(la.slice(0, 3 * 64))).toEqual(Array.from(lb.slice(0, 3 * 64)));
    expect(Array.from(la.slice(3 * 64))).not.toEqual(Array.from(lb.slice(3 * 64)));
  });
});

describe("AttnRes semantics through the interpreter", () => {
  it("with zero pseudo-queries, each Full aggregation is the plain mean of its sources", () => {
    const graph = lowerModel(tinySpec({ vocab: 32, layers: 2, residual: FULL }), { batch, seq });
    const params = uniformParams(graph, 0.3, 4);
    for (const p of graph.params)
      if (p.name.endsWith("res.query")) params.set(p.name, new Float64Array(p.shape[0]));
    const values = interpret(graph, tokenFeeds(32, 2), params);
    const aggregations = graph.nodes.filter((n) => n.op === "attnres");
    expect(aggregations).toHaveLength(5);
    for (const node of aggregations) {
      const s = node.attrs.sources as number;
      const sources = node.inputs.slice(0, s).map((i) => values[i].data);
      const out = values[node.id].data;
      for (let j = 0; j < out.length; j += 7) {
        const mean = sources.reduce((acc, src) => acc + src[j], 0) / s;
        expect(out[j]).toBeCloseTo(mean, 12);
      }
    }
  });

  it("Block N=1 with zero queries: the final output is the mean of x0 and the sum of all sublayer outputs", () => {
    const graph = lowerModel(tinySpec({ vocab: 32, layers: 2, residual: blockRes(1) }), { batch, seq });
    const params = uniformParams(graph, 0.3, 8);
    for (const p of graph.params)
      if (p.name.endsWith("res.query")) params.set(p.name, new Float64Array(p.shape[0]));
    const values = interpret(graph, tokenFeeds(32, 2), params);
    const x0 = values[graph.nodes.find((n) => n.op === "embedding")!.id].data;
    const outputs = graph.nodes
      .filter((n) => n.op === "matmul" && /\.(wo|w2)$/.test(String(graph.nodes[n.inputs[1]].attrs.name)))
      .map((n) => values[n.id].data);
    expect(outputs).toHaveLength(4);
    const final = values[graph.nodes.filter((n) => n.op === "attnres").at(-1)!.id].data;
    for (let j = 0; j < final.length; j += 5) {
      const sum = outputs.reduce((acc, o) => acc + o[j], 0);
      expect(final[j]).toBeCloseTo((x0[j] + sum) / 2, 12);
    }
  });
});

describe("interpreter input checking", () => {
  const graph = lowerModel(tinySpec(), { batch: 1, seq: 2 });
  const params = initParams(graph.params, 1);
  const targets = fromInts([1, 2], [0, 1]);
  it("names a missing feed, a wrongly shaped feed and a missing parameter", () => {
    expect(() => runOutputs(graph, { targets }, params)).toThrow(/no feed for input 'tokens'/);
    expect(() => runOutputs(graph, { tokens: fromInts([2, 1], [0, 1]), targets }, params)).toThrow(
      /input 'tokens'/,
    );
    const partial = new Map(params);
    partial.delete("head.w");
    expect(() => runOutputs(graph, { tokens: targets, targets }, partial)).toThrow(/head\.w/);
  });
  it("rejects token ids outside the vocabulary", () => {
    expect(() => runOutputs(graph, { tokens: fromInts([1, 2], [0, 32]), targets }, params)).toThrow(
      /outside \[0, 32\)/,
    );
  });
});
