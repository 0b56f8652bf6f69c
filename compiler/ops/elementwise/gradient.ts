// Gradients of the elementwise ops. add's and mul's right operand may broadcast over leading dims
// (or be one scalar), so its gradient sums those dims back out.

import { numel, sameShape } from "../../ir/ir.js";
import type { GradContext, GradRule } from "../../passes/grad-rules/types.js";

/** sums `full` (a's shape) down to b's shape: over the leading dims, or over everything for a scalar */
function sumToOperand(ctx: GradContext, full: number, b: number): number {
  const fullShape = ctx.type(full).shape;
  const bShape = ctx.type(b).shape;
  if (sameShape(fullShape, bShape)) return full;
  const suffix = fullShape.slice(fullShape.length - bShape.length);
  if (sameShape(suffix, bShape)) return ctx.emit("reduce_leading", [full], { keep: bShape.length });
  // a scalar [1] against a tensor whose last dim is not 1: view as [n, 1] and sum the rows
  const column = ctx.emit("reshape", [full], { shape: [numel(fullShape), 1] });
  return ctx.emit("reduce_leading", [column], { keep: 1 });
}

export const addGrad: GradRule = (ctx) => [ctx.dy, sumToOperand(ctx, ctx.dy, ctx.node.inputs[1])];

export const mulGrad: GradRule = (ctx) => {
  const [a, b] = ctx.node.inputs;
  return [ctx.emit("mul", [ctx.dy, b]), sumToOperand(ctx, ctx.emit("mul", [ctx.dy, a]), b)];
};

export const scaleGrad: GradRule = (ctx) => [ctx.emit("scale", [ctx.dy], { factor: ctx.node.attrs.factor })];

export const geluGrad: GradRule = (ctx) => [ctx.emit("gelu_grad", [ctx.node.inputs[0], ctx.dy])];

export const siluGrad: GradRule = (ctx) => [ctx.emit("silu_grad", [ctx.node.inputs[0], ctx.dy])];

export const tanhGrad: GradRule = (ctx) => [ctx.emit("tanh_grad", [ctx.node.inputs[0], ctx.dy])];

export const sigmoidGrad: GradRule = (ctx) => [ctx.emit("sigmoid_grad", [ctx.node.inputs[0], ctx.dy])];
