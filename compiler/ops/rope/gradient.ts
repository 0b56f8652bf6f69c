// rope is a rotation per (position, pair), so its Jacobian's transpose is the inverse rotation.

import type { GradRule } from "../../passes/grad-rules/types.js";

export const ropeGrad: GradRule = (ctx) => {
  const { heads, head_dim, theta } = ctx.node.attrs;
  return [ctx.emit("rope_grad", [ctx.dy], { heads, head_dim, theta })];
};
