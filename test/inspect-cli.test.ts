import { describe, expect, it } from "vitest";
import { UserError } from "../cli/common.js";
import { graphShape, positiveInteger } from "../cli/load-model.js";
import { lowerForCli } from "../cli/lower-for-cli.js";
import { tinySpec } from "./golden/specs.js";

describe("CLI shape flags", () => {
  it("defaults to batch 1 and the model's context", () => {
    expect(graphShape(tinySpec({ context: 12 }), {})).toEqual({ batch: 1, seq: 12 });
    expect(graphShape(tinySpec(), { batch: "4", seq: "8" })).toEqual({ batch: 4, seq: 8 });
  });
  it("rejects non-positive, fractional and oversized values as user errors", () => {
    for (const bad of ["0", "-1", "2.5", "x", ""]) expect(() => positiveInteger(bad, "--batch")).toThrow(UserError);
    expect(() => graphShape(tinySpec({ context: 16 }), { seq: "17" })).toThrow(/exceeds model tiny's context 16/);
  });
  it("turns a lowering rejection into a user error", () => {
    const spec = tinySpec({ layers: 2, residual: { kind: "attn", blocks: 3, keyNorm: true, score: "softmax", weights: "query", query: "vector" } });
    expect(() => lowerForCli(spec, { batch: 1, seq: 4 })).toThrow(UserError);
  });
});
