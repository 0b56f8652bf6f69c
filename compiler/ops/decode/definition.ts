// Decoding one position at a time: the ops that replace the three position-aware forward ops
// (add_positions, rope, attention) when a model is lowered for token-by-token decoding. Each reads
// the decoded position from an i32[1] operand, so one compiled step serves every position, and
// attention reads the earlier positions' keys and values from caches the runtime keeps
// (format/archx.ts `caches`). They are never differentiated. A position outside [0, context) is
// clamped into it (the decoder refuses to step past the context, so only a bug gets there).

import type { TensorType } from "../../ir/ir.js";
import { fail, f32, num, type OpDef } from "../../ir/ops.js";

function expectPosition(position: TensorType, op: string): void {
  if (position.dtype !== "i32" || position.shape.length !== 1 || position.shape[0] !== 1)
    fail(`${op} takes the decoded position as i32[1]`);
}

export const DECODE_OPS_DEFS = {
  add_position_at: {
    doc: "out[b, 0, d] = x[b, 0, d] + table[p, d], p = position[0] (learned positions, one decoded token per sequence)",
    arity: 3,
    attrs: [],
    infer: ([x, table, position]) => {
      expectPosition(position, "add_position_at");
      if (
        x.shape.length !== 3 ||
        x.shape[1] !== 1 ||
        table.shape.length !== 2 ||
        table.shape[1] !== x.shape[2]
      )
        fail("add_position_at takes x[B,1,D] and table[C,D]");
      return f32([...x.shape]);
    },
  },
  rope_at: {
    doc: "rope of x[B,1,heads*head_dim] at position p = position[0]: the rotation rope applies at t = p",
    arity: 2,
    attrs: ["heads", "head_dim", "theta"],
    infer: ([x, position], a) => {
      expectPosition(position, "rope_at");
      const h = num(a, "heads");
      const hd = num(a, "head_dim");
      num(a, "theta");
      if (x.shape.length !== 3 || x.shape[1] !== 1 || x.shape[2] !== h * hd)
        fail("rope_at takes x[B,1,heads*head_dim]");
      if (hd % 2 !== 0) fail("rope_at needs an even head_dim");
      return f32([...x.shape]);
    },
  },
  cached_attention: {
    doc:
      "attention of one decoded position p = position[0] over positions 0..p: q, k, v[B,1,·] are this position's, " +
      "k_cache, v_cache[C,B,KV*hd] hold positions s < p (rows s >= p are not read); " +
      "out[b,0,h,:] = sum_{s<=p} softmax_s(q·k_s / sqrt(hd)) v_s with k_p = k, v_p = v",
    arity: 6,
    attrs: ["heads", "kv_heads", "head_dim"],
    infer: ([q, k, v, kCache, vCache, position], a) => {
      expectPosition(position, "cached_attention");
      const h = num(a, "heads");
      const kv = num(a, "kv_heads");
      const hd = num(a, "head_dim");
      if (h % kv !== 0) fail("heads must be a multiple of kv_heads");
      if (q.shape.length !== 3 || q.shape[1] !== 1 || q.shape[2] !== h * hd)
        fail("cached_attention q must be [B,1,heads*head_dim]");
      const batch = q.shape[0];
      for (const t of [k, v])
        if (t.shape.length !== 3 || t.shape[0] !== batch || t.shape[1] !== 1 || t.shape[2] !== kv * hd)
          fail("cached_attention k and v must be [B,1,kv_heads*head_dim]");
      for (const t of [kCache, vCache])
        if (t.shape.length !== 3 || t.shape[1] !== batch || t.shape[2] !== kv * hd || t.dtype !== "f32")
          fail("cached_attention caches must be [context,B,kv_heads*head_dim]");
      if (kCache.shape[0] !== vCache.shape[0]) fail("cached_attention caches must hold the same context");
      return f32([...q.shape]);
    },
  },
} satisfies Record<string, OpDef>;
