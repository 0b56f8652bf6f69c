// Gradients of rmsnorm and layernorm: one op for dx (a row reduction then an elementwise pass)
// and one column reduction per affine parameter.

import type { GradRule } from "../../passes/grad-rules/types.js";

export const rmsnormGrad: GradRule = (ctx) => {
  const [x, gain] = ctx.node.inputs;
  const eps = ctx.node.attrs.eps;
  return [
    ctx.emit("rmsnorm_grad_x", [x, gain, ctx.dy], { eps }),
    ctx.emit("rmsnorm_grad_gain", [x, ctx.dy], { eps }),
  ];
};

export const layernormGrad: GradRule = (ctx) => {
  const [x, gain] = ctx.node.inputs;
  const eps = ctx.node.attrs.eps;
  return [
    ctx.emit("layernorm_grad_x", [x, gain, ctx.dy], { eps }),
    ctx.emit("layernorm_grad_gain", [x, ctx.dy], { eps }),
    ctx.emit("reduce_leading", [ctx.dy], { keep: 1 }),
  ];
};
