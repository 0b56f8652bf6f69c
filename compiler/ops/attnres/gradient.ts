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
  // a query or gain shared by tokens (or heads) sums its per-token terms over what it is shared by
  const sumToShape = (perToken: number, operand: number) => {
    const rank = ctx.type(operand).shape.length;
    return rank === ctx.type(perToken).shape.length
      ? perToken
      : ctx.emit("reduce_leading", [perToken], { keep: rank });
  };
  grads.push(sumToShape(ctx.emit("slice", [packed], { index: count }), ctx.node.inputs[count]));
  if (key_norm === true)
    grads.push(sumToShape(ctx.emit("slice", [packed], { index: count + 1 }), ctx.node.inputs[count + 1]));
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
