// Table lookups: their gradients scatter-add rows back into the table.

import type { GradRule } from "../../passes/grad-rules/types.js";

export const embeddingGrad: GradRule = (ctx) => {
  const [table, ids] = ctx.node.inputs;
  const vocab = ctx.type(table).shape[0];
  return [ctx.emit("embedding_grad", [ids, ctx.dy], { vocab }), null];
};

export const addPositionsGrad: GradRule = (ctx) => {
  const table = ctx.node.inputs[1];
  const context = ctx.type(table).shape[0];
  return [ctx.dy, ctx.emit("add_positions_grad_table", [ctx.dy], { context })];
};
