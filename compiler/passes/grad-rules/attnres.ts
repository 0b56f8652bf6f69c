// AttnRes backward for one aggregation. The gradients of all sources come packed [S,B,T,D] so a
// kernel can read each source once per token; query and key-norm gain get their own reductions.

import type { GradRule } from "./types.js";

export const attnresGrad: GradRule = (ctx) => {
  const { sources, score, key_norm, eps } = ctx.node.attrs;
  const count = sources as number;
  const attrs = { sources, score, key_norm, eps };
  const operands = [...ctx.node.inputs, ctx.dy];
  const packed = ctx.emit("attnres_grad_sources", operands, attrs);
  const grads = Array.from({ length: count }, (_, i) => ctx.emit("slice", [packed], { index: i }));
  grads.push(ctx.emit("attnres_grad_query", operands, attrs));
  if (key_norm === true) grads.push(ctx.emit("attnres_grad_gain", operands, attrs));
  return grads;
};

export const attnresStaticGrad: GradRule = (ctx) => {
  const { sources, score } = ctx.node.attrs;
  const count = sources as number;
  const attrs = { sources, score };
  const operands = [...ctx.node.inputs, ctx.dy];
  const packed = ctx.emit("attnres_static_grad_sources", operands, attrs);
  const grads = Array.from({ length: count }, (_, i) => ctx.emit("slice", [packed], { index: i }));
  grads.push(ctx.emit("attnres_static_grad_logits", operands, attrs));
  return grads;
};
