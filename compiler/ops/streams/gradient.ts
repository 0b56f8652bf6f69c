// Gradients of the stream ops, written with the ops themselves: a read's state gradient spreads dy
// over the streams with the read weights (stream_mix from one stream); every weight gradient is a
// per-token Gram matrix of states (stream_gram), summed over tokens when the weight is static.

import { numel } from "../../ir/ir.js";
import type { GradContext, GradRule } from "../../passes/grad-rules/types.js";
import { viewAs } from "../../passes/grad-rules/types.js";

/** x [..., D] as one stream [..., 1, D] */
function oneStream(ctx: GradContext, x: number): number {
  const shape = ctx.type(x).shape;
  return viewAs(ctx, x, [...shape.slice(0, -1), 1, shape[shape.length - 1]]);
}

/** a per-token weight gradient [..., tail] back to the weight's own shape (summed over tokens if static) */
function toWeight(ctx: GradContext, perToken: number, weight: number): number {
  const target = ctx.type(weight).shape;
  const shape = ctx.type(perToken).shape;
  const isStatic = shape.length > 2 && numel(target) === numel(shape.slice(-2));
  const summed = isStatic ? ctx.emit("reduce_leading", [perToken], { keep: 2 }) : perToken;
  return viewAs(ctx, summed, target);
}

export const streamExpandGrad: GradRule = (ctx) => [ctx.emit("stream_read", [ctx.dy])];

export const streamReadGrad: GradRule = (ctx) => {
  const [x, w] = ctx.node.inputs;
  const n = ctx.type(x).shape.at(-2)!;
  if (w === undefined) return [ctx.emit("stream_expand", [ctx.dy], { streams: n })];
  // dX[k] = w_k dy: dy as one stream mixed out to n with the weights as a [1, n] matrix
  const dyStream = oneStream(ctx, ctx.dy);
  const wShape = ctx.type(w).shape;
  const asRow = viewAs(ctx, w, [...wShape.slice(0, -1), 1, n]);
  const dx = ctx.emit("stream_mix", [dyStream, asRow], { transpose: false });
  // dw_k = X_k · dy, per token [..., n, 1]
  const dw = toWeight(ctx, ctx.emit("stream_gram", [x, dyStream]), w);
  return [dx, dw];
};

export const streamWriteGrad: GradRule = (ctx) => {
  const [x, r, b, y] = ctx.node.inputs;
  const dx = ctx.emit("stream_mix", [ctx.dy, r], { transpose: true });
  const dr = toWeight(ctx, ctx.emit("stream_gram", [x, ctx.dy]), r);
  const db = toWeight(ctx, ctx.emit("stream_gram", [oneStream(ctx, y), ctx.dy]), b);
  // dy = sum_j b_j dX'_j: a read of dX' with weights b
  return [dx, dr, db, ctx.emit("stream_read", [ctx.dy, b])];
};
