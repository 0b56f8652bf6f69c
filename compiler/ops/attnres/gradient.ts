// AttnRes backward for one aggregation: one kernel reads each source once per token and writes
// every gradient, packed (see attnres_grad_sources); a [D] query's or gain's gradient is then the
// sum of its per-token entries over the tokens.

import type { GradRule } from "../../passes/grad-rules/types.js";

export const attnresGrad: GradRule = (ctx) => {
  const { sources, score, key_norm, eps } = ctx.node.attrs;
  const count = sources as number;
  const attrs = { sources, score, key_norm, eps };
  const operands = [...ctx.node.inputs, ctx.dy];
  const packed = ctx.emit("attnres_grad_sources", operands, attrs);
  const grads = Array.from({ length: count }, (_, i) => ctx.emit("slice", [packed], { index: i }));
  const perTokenQuery = ctx.type(ctx.node.inputs[count]).shape.length > 1;
  const queryPerToken = ctx.emit("slice", [packed], { index: count });
  grads.push(perTokenQuery ? queryPerToken : ctx.emit("reduce_leading", [queryPerToken], { keep: 1 }));
  if (key_norm === true)
    grads.push(ctx.emit("reduce_leading", [ctx.emit("slice", [packed], { index: count + 1 })], { keep: 1 }));
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
