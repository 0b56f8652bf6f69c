// DenseFormer (arXiv 2402.02622): each layer is a standard residual block, X_i = B_i(Y_{i-1}), and
// after layer i (1-based; every `period`-th layer) a depth-weighted average replaces its output:
// Y_i = sum_j a_ij X_j over X_0 (the embedding) and the earlier layer outputs X_j with
// j = i (mod dilation). The weights start as the identity (1 on X_i, 0 elsewhere), so training
// starts from the plain residual network. The average is attnres_static with linear scores.

import type { ResidualSpec } from "../../../format/spec.js";
import type { NamedSublayer } from "./residual.js";
import type { LowerContext } from "./sublayers.js";
import { lowerSublayerBranch } from "./sublayers.js";

type DenseSpec = Extract<ResidualSpec, { kind: "dense" }>;

/** the indices j <= i of the layer outputs X_j the average after layer i reads */
export function denseSources(layer: number, dilation: number): number[] {
  const sources: number[] = [];
  for (let j = layer % dilation; j <= layer; j += dilation) sources.push(j);
  return sources;
}

export function lowerDenseFormer(
  ctx: LowerContext,
  res: DenseSpec,
  x0: number,
  sublayers: NamedSublayer[],
): number {
  const { b } = ctx;
  const outputs = [x0]; // X_0, X_1, ...: what each layer's block produced, before any average
  let y = x0;
  ctx.model.layers.forEach((_, li) => {
    let h = y;
    for (const s of sublayers.filter((s) => s.layer === li))
      h = b.scoped(s.scope, () => b.op("add", [h, lowerSublayerBranch(ctx, h, s.spec)]));
    outputs.push(h);
    const i = li + 1;
    if (i % res.period !== 0) {
      y = h;
      return;
    }
    const sources = denseSources(i, res.dilation).map((j) => outputs[j]);
    y = b.scoped(`layers.${li}.dwa`, () => {
      const identity = sources.map((_, k) => (k === sources.length - 1 ? 1 : 0));
      const weights = b.param(
        "weights",
        [sources.length],
        { kind: "values", values: identity },
        { decay: false, group: "dwa" },
      );
      return b.op("attnres_static", [...sources, weights], { sources: sources.length, score: "linear" });
    });
  });
  return y;
}
