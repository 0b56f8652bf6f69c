import { describe, expect, it } from "vitest";
import type { Graph } from "../compiler/ir/ir.js";
import { lowerModel } from "../compiler/ir/lower.js";
import { verifyGraph } from "../compiler/ir/verify.js";
import { differentiate } from "../compiler/passes/autodiff.js";
import { blockRes, FULL, tinySpec } from "./golden/specs.js";

const fresh = (): Graph => structuredClone(lowerModel(tinySpec(), { batch: 1, seq: 4 }));

describe("verifyGraph catches broken invariants", () => {
  it("accepts a lowered graph", () => {
    expect(verifyGraph(fresh())).toEqual([]);
  });
  it("ids that are not indices", () => {
    const g = fresh();
    g.nodes[3].id = 99;
    expect(verifyGraph(g).join("\n")).toMatch(/id is 99/);
  });
  it("operands that are not earlier nodes", () => {
    const g = fresh();
    const n = g.nodes.find((x) => x.op === "matmul")!;
    n.inputs[0] = n.id + 1;
    expect(verifyGraph(g).join("\n")).toMatch(/not an earlier node/);
  });
  it("a stored type that disagrees with the catalog", () => {
    const g = fresh();
    g.nodes.find((x) => x.op === "gelu" || x.op === "silu")!.type.shape = [1];
    expect(verifyGraph(g).join("\n")).toMatch(/op catalog gives/);
  });
  it("param nodes without entries, entries without nodes, and shape mismatches", () => {
    const g = fresh();
    g.params.push({ name: "ghost", shape: [2], init: { kind: "zeros" }, decay: false, group: "norm" });
    g.params.find((p) => p.name === "head.w")!.shape = [3, 3];
    const problems = verifyGraph(g).join("\n");
    expect(problems).toMatch(/ghost is declared but never read/);
    expect(problems).toMatch(/head\.w is \[16,32\] but declared \[3,3\]/);
  });
  it("outputs to missing nodes and dead nodes", () => {
    const g = fresh();
    g.outputs.extra = 10_000;
    const loss = g.outputs.loss;
    delete g.outputs.loss;
    const problems = verifyGraph(g).join("\n");
    expect(problems).toMatch(/output extra refers to missing node/);
    expect(problems).toMatch(new RegExp(`%${loss} \\(cross_entropy\\) is dead`));
  });
});

describe("verifyGraph: outputs", () => {
  it("a loss output that is not a scalar", () => {
    const g = fresh();
    g.outputs.loss = g.outputs.logits;
    expect(verifyGraph(g).join("\n")).toMatch(/output loss .* is not a scalar/);
  });
});

describe("verifyGraph at the autodiff boundary", () => {
  const residuals = {
    add: { kind: "add" } as const,
    full: FULL,
    "block projected": blockRes(2, { query: "projected" }),
    "block static": blockRes(1, { weights: "static" }),
  };
  for (const [label, residual] of Object.entries(residuals))
    it(`forward + backward graph of ${label} verifies`, () => {
      const forward = lowerModel(tinySpec({ layers: 4, residual, tied: true }), { batch: 1, seq: 4 });
      const full = differentiate(forward);
      expect(full.nodes.length).toBeGreaterThan(forward.nodes.length);
      expect(verifyGraph(full)).toEqual([]);
    });
});
