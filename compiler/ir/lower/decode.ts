// Lowering for decoding one position at a time: the graph of one step takes each sequence's newest
// token and the position it sits at, and returns the next-token logits. The three ops that look
// across positions become their decoding forms (compiler/ops/decode): learned positions and rope
// read the position from an input, and attention reads the earlier positions' keys and values from
// caches. Each attention sublayer gets two cache inputs, "cache.<scope>.k" and ".v" ([context, B,
// kv width], position-major so that one position's row is one contiguous range for every sequence),
// and returns this position's key and value as outputs "present.<scope>.k" and ".v", which the
// runtime writes into the caches after the step (Graph.caches says which goes where).
//
// Everything else is the model's own lowering at seq 1: an AttnRes aggregation mixes one token's
// depth sources, and Block AttnRes keeps one running partial per block, exactly as in training.

import type { Attrs, DecodeCache } from "../ir.js";
import type { LowerContext } from "./sublayers.js";

export interface DecodeLowering {
  /** the i32[1] input holding the decoded position */
  position: number;
  /** sequences decoded side by side, all at the same position */
  batch: number;
  /** positions a cache holds: the model's context */
  context: number;
  caches: DecodeCache[];
}

export function ropeAt(ctx: LowerContext, decode: DecodeLowering, x: number, attrs: Attrs): number {
  return ctx.b.op("rope_at", [x, decode.position], attrs);
}

/** attention over the caches and this position's key and value; registers the caches and presents */
export function cachedAttention(
  ctx: LowerContext,
  decode: DecodeLowering,
  [q, k, v]: [number, number, number],
  attrs: { heads: number; kv_heads: number; head_dim: number },
): number {
  const { b } = ctx;
  const cacheShape = [decode.context, decode.batch, attrs.kv_heads * attrs.head_dim];
  const [kCache, vCache] = (["k", "v"] as const).map((which, i) => {
    const input = `cache.${b.scope}.${which}`;
    const present = `present.${b.scope}.${which}`;
    decode.caches.push({ input, present });
    b.output(present, i === 0 ? k : v);
    return b.input(input, "f32", cacheShape);
  });
  return b.op("cached_attention", [q, k, v, kCache, vCache, decode.position], attrs);
}
