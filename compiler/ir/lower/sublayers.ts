// The residual branches f_l(Norm_l(h)): the PreNorm, attention and the MLP, each under its own
// scope so that parameter names are stable ("layers.3.attn.wq").

import type { GraphBuilder } from "../builder.js";
import type { ModelSpec, SublayerSpec } from "../../../format/spec.js";
import { cachedAttention, ropeAt, type DecodeLowering } from "./decode.js";

const MATRIX_STD = 0.02;

export interface LowerContext {
  b: GraphBuilder;
  model: ModelSpec;
  /** std of output projections (wo, w2): 0.02 / sqrt(2 L), L the number of sublayers */
  outputStd: number;
  /** set when lowering one decoded position (lower/decode.ts) rather than whole sequences */
  decode?: DecodeLowering;
}

function matrix(ctx: LowerContext, local: string, shape: number[], group: string, std = MATRIX_STD): number {
  return ctx.b.param(local, shape, { kind: "normal", std }, { decay: true, group });
}

/** the PreNorm (or final norm) in scope "<current>.norm" */
export function lowerNorm(ctx: LowerContext, x: number): number {
  const { b, model } = ctx;
  return b.scoped("norm", () => {
    const d = model.dim;
    const gain = b.param("gain", [d], { kind: "ones" }, { decay: false, group: "norm" });
    if (model.norm.kind === "rmsnorm") return b.op("rmsnorm", [x, gain], { eps: model.norm.eps });
    const bias = b.param("bias", [d], { kind: "zeros" }, { decay: false, group: "norm" });
    return b.op("layernorm", [x, gain, bias], { eps: model.norm.eps });
  });
}

function project(ctx: LowerContext, x: number, weight: number): number {
  return ctx.b.op("matmul", [x, weight], { ta: false, tb: false });
}

function lowerAttention(
  ctx: LowerContext,
  n: number,
  spec: Extract<SublayerSpec, { kind: "attention" }>,
): number {
  const { b, model } = ctx;
  const d = model.dim;
  const qWidth = spec.heads * spec.headDim;
  const kvWidth = spec.kvHeads * spec.headDim;
  let q = project(ctx, n, matrix(ctx, "wq", [d, qWidth], "attention"));
  let k = project(ctx, n, matrix(ctx, "wk", [d, kvWidth], "attention"));
  const v = project(ctx, n, matrix(ctx, "wv", [d, kvWidth], "attention"));
  if (model.position.kind === "rope") {
    const theta = model.position.theta;
    const rope = (x: number, heads: number) =>
      ctx.decode
        ? ropeAt(ctx, ctx.decode, x, { heads, head_dim: spec.headDim, theta })
        : b.op("rope", [x], { heads, head_dim: spec.headDim, theta });
    q = rope(q, spec.heads);
    k = rope(k, spec.kvHeads);
  }
  const heads = { heads: spec.heads, kv_heads: spec.kvHeads, head_dim: spec.headDim };
  const o = ctx.decode
    ? cachedAttention(ctx, ctx.decode, [q, k, v], heads)
    : b.op("attention", [q, k, v], heads);
  return project(ctx, o, matrix(ctx, "wo", [qWidth, d], "attention", ctx.outputStd));
}

function lowerMlp(ctx: LowerContext, n: number, spec: Extract<SublayerSpec, { kind: "mlp" }>): number {
  const { b, model } = ctx;
  const d = model.dim;
  let hidden: number;
  if (spec.mlp === "gelu") {
    hidden = b.op("gelu", [project(ctx, n, matrix(ctx, "w1", [d, spec.hidden], "mlp"))]);
  } else {
    const gate = b.op("silu", [project(ctx, n, matrix(ctx, "wg", [d, spec.hidden], "mlp"))]);
    const up = project(ctx, n, matrix(ctx, "wu", [d, spec.hidden], "mlp"));
    hidden = b.op("mul", [gate, up]);
  }
  return project(ctx, hidden, matrix(ctx, "w2", [spec.hidden, d], "mlp", ctx.outputStd));
}

/** out = f(Norm(h)), emitted in the caller's scope (the sublayer's own, e.g. "layers.0.attn") */
export function lowerSublayerBranch(ctx: LowerContext, h: number, spec: SublayerSpec): number {
  const n = lowerNorm(ctx, h);
  return spec.kind === "attention" ? lowerAttention(ctx, n, spec) : lowerMlp(ctx, n, spec);
}
