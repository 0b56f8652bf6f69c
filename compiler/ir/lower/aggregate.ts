// The AttnRes depth aggregation of one sublayer (or of the final output), with its parameters in
// scope "<current>.res": a zero pseudo-query, a key-norm gain, or static logits, per the spec's switches.

import type { ResidualSpec } from "../../../format/spec.js";
import type { LowerContext } from "./sublayers.js";

export const ATTNRES_EPS = 1e-6;

export type AttnResSpec = Extract<ResidualSpec, { kind: "attn" }>;

export function lowerAggregation(ctx: LowerContext, res: AttnResSpec, sources: number[]): number {
  const { b, model } = ctx;
  const d = model.dim;
  const count = sources.length;
  return b.scoped("res", () => {
    if (res.weights === "static") {
      const logits = b.param("logits", [count], { kind: "zeros" }, { decay: false, group: "attnres" });
      return b.op("attnres_static", [...sources, logits], { sources: count, score: res.score });
    }
    let query: number;
    if (res.query === "projected") {
      // the query depends on the input through the most recent source
      const proj = b.param("proj", [d, d], { kind: "zeros" }, { decay: true, group: "attnres" });
      query = b.op("matmul", [sources[count - 1], proj], { ta: false, tb: false });
    } else {
      query = b.param("query", [d], { kind: "zeros" }, { decay: false, group: "attnres" });
    }
    const operands = [...sources, query];
    if (res.keyNorm)
      operands.push(b.param("key_gain", [d], { kind: "ones" }, { decay: false, group: "attnres" }));
    return b.op("attnres", operands, {
      sources: count,
      score: res.score,
      key_norm: res.keyNorm,
      eps: ATTNRES_EPS,
    });
  });
}
