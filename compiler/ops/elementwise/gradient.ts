// Gradients of the elementwise ops. add's right operand may broadcast over leading dims, so its
// gradient sums those dims back out.

import type { GradRule } from "../../passes/grad-rules/types.js";

export const addGrad: GradRule = (ctx) => {
  const [a, b] = ctx.node.inputs;
  const rankA = ctx.type(a).shape.length;
  const rankB = ctx.type(b).shape.length;
  const db = rankB === rankA ? ctx.dy : ctx.emit("reduce_leading", [ctx.dy], { keep: rankB });
  return [ctx.dy, db];
};

export const mulGrad: GradRule = (ctx) => {
  const [a, b] = ctx.node.inputs;
  return [ctx.emit("mul", [ctx.dy, b]), ctx.emit("mul", [ctx.dy, a])];
};

export const scaleGrad: GradRule = (ctx) => [ctx.emit("scale", [ctx.dy], { factor: ctx.node.attrs.factor })];

export const geluGrad: GradRule = (ctx) => [ctx.emit("gelu_grad", [ctx.node.inputs[0], ctx.dy])];

export const siluGrad: GradRule = (ctx) => [ctx.emit("silu_grad", [ctx.node.inputs[0], ctx.dy])];
