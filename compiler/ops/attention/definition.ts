// Causal multi-head attention with grouped KV heads: the op and its two gradients (dQ, and dK and
// dV packed), their operands, attributes and shape rules.

import { expectShape } from "../../ir/grad-shapes.js";
import { fail, f32, num, type OpDef } from "../../ir/ops.js";

export const ATTENTION_FORWARD_OPS = {
  attention: {
    doc:
      "causal multi-head attention: q[B,T,H*hd], k,v[B,T,KV*hd]; query head h reads kv head floor(h / (H/KV)); " +
      "out[b,t,h,:] = sum_{s<=t} softmax_s(q·k_s / sqrt(hd)) v_s",
    arity: 3,
    attrs: ["heads", "kv_heads", "head_dim"],
    infer: ([q, k, v], a) => {
      const h = num(a, "heads");
      const kv = num(a, "kv_heads");
      const hd = num(a, "head_dim");
      if (h % kv !== 0) fail("heads must be a multiple of kv_heads");
      if (q.shape.length !== 3 || q.shape[2] !== h * hd) fail("attention q must be [B,T,heads*head_dim]");
      for (const t of [k, v])
        if (
          t.shape.length !== 3 ||
          t.shape[0] !== q.shape[0] ||
          t.shape[1] !== q.shape[1] ||
          t.shape[2] !== kv * hd
        )
          fail("attention k and v must be [B,T,kv_heads*head_dim]");
      return f32([...q.shape]);
    },
  },
} satisfies Record<string, OpDef>;

export const ATTENTION_BACKWARD_OPS = {
  attention_grad_q: {
    doc:
      "dq of causal attention, recomputing the softmax P from q and k: dS = P (dy·v_s - dy·o), dq_t = sum_s dS_ts k_s / sqrt(hd); " +
      "operands q, k, v, o (the forward output), dy",
    arity: 5,
    attrs: ["heads", "kv_heads", "head_dim"],
    infer: ([q, k, v, o, dy], a) => {
      const out = ATTENTION_FORWARD_OPS.attention.infer([q, k, v], a);
      expectShape(o, out.shape, "attention_grad_q o");
      expectShape(dy, out.shape, "attention_grad_q dy");
      return out;
    },
  },
  attention_grad_kv: {
    doc:
      "dk and dv of causal attention packed as [2,B,T,KV*hd] (0: dk, 1: dv), summed over the query heads " +
      "sharing a kv head; dv_s = sum_t P_ts dy_t, dk_s = sum_t dS_ts q_t / sqrt(hd); operands q, k, v, o, dy",
    arity: 5,
    attrs: ["heads", "kv_heads", "head_dim"],
    infer: ([q, k, v, o, dy], a) => {
      const out = ATTENTION_FORWARD_OPS.attention.infer([q, k, v], a);
      expectShape(o, out.shape, "attention_grad_kv o");
      expectShape(dy, out.shape, "attention_grad_kv dy");
      return f32([2, ...k.shape]);
    },
  },
} satisfies Record<string, OpDef>;
