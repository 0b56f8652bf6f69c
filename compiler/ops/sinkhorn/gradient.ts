// Sinkhorn's gradient goes through every iteration in one kernel, which recomputes the iterates
// from x rather than keeping them: the graph holds only x and dy.

import type { GradRule } from "../../passes/grad-rules/types.js";

export const sinkhornGrad: GradRule = (ctx) => {
  const { iterations } = ctx.node.attrs;
  return [ctx.emit("sinkhorn_grad", [ctx.node.inputs[0], ctx.dy], { iterations })];
};
