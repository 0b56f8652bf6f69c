// The op registry (compiler/ops/registry.ts) holds every op of the catalog with all of its parts.
// Its type already makes a missing op or part a compile error (test/typecheck/op-registry.ts
// checks that); these tests check the same at run time, that the passes read the registry, and
// that what a pass finds no longer depends on which modules happened to be imported first.

import { describe, expect, it } from "vitest";
import {
  BACKWARD_CATALOG,
  DECODE_CATALOG,
  FORWARD_CATALOG,
  OPS,
  PASS_CATALOG,
} from "../compiler/ir/catalog.js";
import {
  fusionRule,
  gradientRule,
  kernelTemplate,
  NO_KERNEL,
  NOT_DIFFERENTIATED,
  OP_REGISTRY,
  referenceOp,
} from "../compiler/ops/registry.js";
import { ANCHOR_ONLY, ELEMENTWISE, UNFUSED } from "../compiler/passes/fusion-rules.js";
import { evaluateNode } from "../compiler/reference/evaluate.js";
import { fromValues } from "../compiler/reference/tensor.js";

const LEAVES = ["input", "param"];

describe("the op registry", () => {
  it("lists exactly the ops of the catalog, each with its own definition", () => {
    expect(Object.keys(OP_REGISTRY).sort()).toEqual(Object.keys(OPS).sort());
    for (const [op, entry] of Object.entries(OP_REGISTRY)) expect(entry.def, op).toBe(OPS[op]);
  });

  it("gives every computing op a kernel and a float64 reference, and the leaves neither", () => {
    for (const [op, entry] of Object.entries(OP_REGISTRY)) {
      const leaf = LEAVES.includes(op);
      expect(entry.kernel === NO_KERNEL, op).toBe(leaf);
      expect(entry.reference === NO_KERNEL, op).toBe(leaf);
      expect(kernelTemplate(op) === undefined, op).toBe(leaf);
      expect(referenceOp(op) === undefined, op).toBe(leaf);
    }
  });

  it("differentiates every computing forward op, and none of the ops autodiff emits", () => {
    for (const op of Object.keys(FORWARD_CATALOG))
      expect(gradientRule(op) !== undefined, op).toBe(!LEAVES.includes(op));
    for (const op of [
      ...Object.keys(BACKWARD_CATALOG),
      ...Object.keys(DECODE_CATALOG),
      ...Object.keys(PASS_CATALOG),
    ]) {
      expect((OP_REGISTRY as Record<string, { gradient: unknown }>)[op].gradient, op).toBe(
        NOT_DIFFERENTIATED,
      );
      expect(gradientRule(op), op).toBeUndefined();
    }
  });

  it("fuses elementwise ops into anchors, and nothing into the loss or backward kernels", () => {
    for (const op of ["add", "mul", "scale", "gelu", "silu"]) expect(fusionRule(op), op).toBe(ELEMENTWISE);
    for (const op of ["matmul", "rmsnorm", "attention", "attnres", "embedding"])
      expect(fusionRule(op), op).toBe(ANCHOR_ONLY);
    for (const op of ["cross_entropy", ...Object.keys(BACKWARD_CATALOG), ...LEAVES])
      expect(fusionRule(op), op).toBe(UNFUSED);
  });

  it("evaluates a backward op with nothing else imported (the tables are no longer merged by import)", () => {
    const packed = fromValues([2, 3], [1, 2, 3, 4, 5, 6]);
    const node = {
      id: 1,
      op: "slice",
      inputs: [0],
      attrs: { index: 1 },
      type: { dtype: "f32" as const, shape: [3] },
      scope: "",
    };
    expect([...evaluateNode(node, [packed]).data]).toEqual([4, 5, 6]);
  });
});
