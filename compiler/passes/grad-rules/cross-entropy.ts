import type { GradRule } from "./types.js";

export const crossEntropyGrad: GradRule = (ctx) => {
  const [logits, targets] = ctx.node.inputs;
  return [ctx.emit("cross_entropy_grad", [logits, targets, ctx.dy]), null];
};
