// Gradients of rmsnorm and layernorm: one op for dx (a row reduction then an elementwise pass),
// and for the gain one op writing each row's terms (it needs the row's statistics, which one
// invocation per row computes once) summed over rows by reduce_leading.

import type { GradRule } from "../../passes/grad-rules/types.js";

export const rmsnormGrad: GradRule = (ctx) => {
  const [x, gain] = ctx.node.inputs;
  const eps = ctx.node.attrs.eps;
  return [
    ctx.emit("rmsnorm_grad_x", [x, gain, ctx.dy], { eps }),
    ctx.emit("reduce_leading", [ctx.emit("rmsnorm_grad_gain", [x, ctx.dy], { eps })], { keep: 1 }),
  ];
};

export const layernormGrad: GradRule = (ctx) => {
  const [x, gain] = ctx.node.inputs;
  const eps = ctx.node.attrs.eps;
  return [
    ctx.emit("layernorm_grad_x", [x, gain, ctx.dy], { eps }),
    ctx.emit("reduce_leading", [ctx.emit("layernorm_grad_gain", [x, ctx.dy], { eps })], { keep: 1 }),
    ctx.emit("reduce_leading", [ctx.dy], { keep: 1 }),
  ];
};
