// Flash-style attention backward: the softmax is recomputed from q and k rather than stored, and
// the forward output o gives the row term dy·o. dk and dv come packed in one node and are split
// with slice views, since every IR node has a single result.

import type { GradRule } from "../../passes/grad-rules/types.js";

export const attentionGrad: GradRule = (ctx) => {
  const [q, k, v] = ctx.node.inputs;
  const { heads, kv_heads, head_dim } = ctx.node.attrs;
  const attrs = { heads, kv_heads, head_dim };
  const operands = [q, k, v, ctx.node.id, ctx.dy];
  const dq = ctx.emit("attention_grad_q", operands, attrs);
  const dkv = ctx.emit("attention_grad_kv", operands, attrs);
  return [dq, ctx.emit("slice", [dkv], { index: 0 }), ctx.emit("slice", [dkv], { index: 1 })];
};
