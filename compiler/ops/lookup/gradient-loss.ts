import type { GradRule } from "../../passes/grad-rules/types.js";

export const crossEntropyGrad: GradRule = (ctx) => {
  const [logits, targets] = ctx.node.inputs;
  return [ctx.emit("cross_entropy_grad", [logits, targets, ctx.dy]), null];
};
