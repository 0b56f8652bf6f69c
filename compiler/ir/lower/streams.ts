// Hyper-connections (arXiv 2409.19606) and mHC (manifold-constrained hyper-connections): the
// residual state is n streams, X [B, T, n, D], starting as n copies of the embedding. Around each
// sublayer, a read mixes the streams into its input, and a write mixes them into new streams and
// adds the sublayer's output with a weight per stream: X' = R^T X + b y. The streams are summed
// for the final norm. Parameters live in scope "<sublayer>.hyper".

import type { ResidualSpec } from "../../../format/spec.js";
import type { NamedSublayer } from "./residual.js";
import type { LowerContext } from "./sublayers.js";
import { lowerSublayerBranch } from "./sublayers.js";

type HyperSpec = Extract<ResidualSpec, { kind: "hyper" }>;
type MhcSpec = Extract<ResidualSpec, { kind: "mhc" }>;

/** the dynamic parts start this small (both papers' scale initialisation) */
const DYNAMIC_SCALE = 0.01;
const STREAM_NORM_EPS = 1e-6;

const oneHot = (n: number, hot: number, on = 1, off = 0) =>
  Array.from({ length: n }, (_, k) => (k === hot ? on : off));
const identity = (n: number, on = 1, off = 0) =>
  Array.from({ length: n * n }, (_, i) => (Math.floor(i / n) === i % n ? on : off));

interface StreamWeights {
  read: number;
  mix: number;
  out: number;
}

function lowerStreams(
  ctx: LowerContext,
  streams: number,
  x0: number,
  sublayers: NamedSublayer[],
  weightsFor: (state: number, index: number) => StreamWeights,
): number {
  const { b } = ctx;
  let state = b.scoped("embed", () => b.op("stream_expand", [x0], { streams }));
  sublayers.forEach((s, index) =>
    b.scoped(s.scope, () => {
      const w = b.scoped("hyper", () => weightsFor(state, index));
      const input = b.scoped("hyper", () => b.op("stream_read", [state, w.read]));
      const out = lowerSublayerBranch(ctx, input, s.spec);
      state = b.scoped("hyper", () => b.op("stream_write", [state, w.mix, w.out, out]));
    }),
  );
  return b.scoped("final", () => b.op("stream_read", [state]));
}

/**
 * Static: read A_m = e_(l mod n), mixing A_r = I, output weights B = 1 (learned, no decay).
 * Dynamic adds, from the RMS-normalised streams H (one gain per sublayer):
 * A_m += s_a tanh(H W_m), A_r += s_a tanh(H W_r), B += s_b tanh(H W_b), W zero, s_a = s_b = 0.01.
 */
export function lowerHyperConnections(
  ctx: LowerContext,
  res: HyperSpec,
  x0: number,
  sublayers: NamedSublayer[],
): number {
  const { b, model } = ctx;
  const n = res.streams;
  const d = model.dim;
  const fixed = { decay: false, group: "hyper" };
  return lowerStreams(ctx, n, x0, sublayers, (state, index) => {
    const read = b.param("read", [n], { kind: "values", values: oneHot(n, index % n) }, fixed);
    const mix = b.param("mix", [n, n], { kind: "values", values: identity(n) }, fixed);
    const out = b.param("out", [n], { kind: "ones" }, fixed);
    if (!res.dynamic) return { read, mix, out };
    const gain = b.param("norm_gain", [d], { kind: "ones" }, fixed);
    const normed = b.op("rmsnorm", [state, gain], { eps: STREAM_NORM_EPS });
    const scaleA = b.param("scale_a", [1], { kind: "values", values: [DYNAMIC_SCALE] }, fixed);
    const scaleB = b.param("scale_b", [1], { kind: "values", values: [DYNAMIC_SCALE] }, fixed);
    // s tanh(H W) for a zero-initialised W [D, cols]: [B, T, n, cols]
    const dynamic = (name: string, cols: number, scale: number) => {
      const w = b.param(name, [d, cols], { kind: "zeros" }, { decay: true, group: "hyper" });
      return b.op("scaled_tanh", [b.op("matmul", [normed, w], { ta: false, tb: false }), scale]);
    };
    const perToken = (value: number) => {
      const shape = b.graph.nodes[value].type.shape;
      return b.op("reshape", [value], { shape: shape.slice(0, -1) });
    };
    return {
      read: b.op("add", [perToken(dynamic("w_read", 1, scaleA)), read]),
      mix: b.op("add", [dynamic("w_mix", n, scaleA), mix]),
      out: b.op("add", [perToken(dynamic("w_out", 1, scaleB)), out]),
    };
  });
}

/**
 * mHC: from x = RMSNorm(vec(X)) per token (a gain over n*D), with phi zero and alpha = 0.01:
 * read = sigmoid(alpha_pre x phi_pre + b_pre), out = 2 sigmoid(alpha_post x phi_post + b_post),
 * mix = Sinkhorn(alpha_res x phi_res + b_res). b_pre starts at +4 on stream (l mod n) and -4
 * elsewhere (a soft version of hyper-connections' one-hot read), b_post at 0 (every stream gets
 * the output once), b_res at 0 on the diagonal and -4 off it (near the identity, never an exact
 * permutation, so its gradient is not zero).
 */
export function lowerManifoldHyperConnections(
  ctx: LowerContext,
  res: MhcSpec,
  x0: number,
  sublayers: NamedSublayer[],
): number {
  const { b, model } = ctx;
  const n = res.streams;
  const width = n * model.dim;
  const fixed = { decay: false, group: "hyper" };
  return lowerStreams(ctx, n, x0, sublayers, (state, index) => {
    const shape = b.graph.nodes[state].type.shape;
    const rows = shape.slice(0, -2);
    const flat = b.op("reshape", [state], { shape: [...rows, width] });
    const gain = b.param("norm_gain", [width], { kind: "ones" }, fixed);
    const x = b.op("rmsnorm", [flat, gain], { eps: STREAM_NORM_EPS });
    const logits = (name: string, cols: number, bias: number[]) => {
      const phi = b.param(`phi_${name}`, [width, cols], { kind: "zeros" }, { decay: true, group: "hyper" });
      const alpha = b.param(`alpha_${name}`, [1], { kind: "values", values: [DYNAMIC_SCALE] }, fixed);
      const offset = b.param(`b_${name}`, [cols], { kind: "values", values: bias }, fixed);
      const projected = b.op("mul", [b.op("matmul", [x, phi], { ta: false, tb: false }), alpha]);
      return b.op("add", [projected, offset]);
    };
    const read = b.op("sigmoid", [logits("pre", n, oneHot(n, index % n, 4, -4))]);
    const out = b.op("scale", [b.op("sigmoid", [logits("post", n, oneHot(n, -1, 0, 0))])], { factor: 2 });
    const mixLogits = b.op("reshape", [logits("res", n * n, identity(n, 0, -4))], { shape: [...rows, n, n] });
    const mix = b.op("sinkhorn", [mixLogits], { iterations: res.iterations });
    return { read, mix, out };
  });
}
