// The op catalog: for every op, its operands, its attributes, and the rule giving its result type.
// The verifier, the printer, the CPU interpreter, code generation and autodiff all key off this table.
// Semantics are stated here once; every implementation (float64 reference, WGSL) must match them.

import type { Attrs, TensorType } from "./ir.js";
import { numel, sameShape, typeToString } from "./ir.js";

export class ShapeError extends Error {}

export interface OpDef {
  /** what the op computes, in one or two lines */
  doc: string;
  /** number of operands, or "variadic" (attrs say how many) */
  arity: number | "variadic";
  /** attributes the op requires */
  attrs: string[];
  /** result type from operand types and attrs; throws ShapeError when they do not fit */
  infer(inputs: TensorType[], attrs: Attrs): TensorType;
  /** elementwise ops are fusable into a single kernel with their neighbours */
  elementwise?: boolean;
}

export function fail(msg: string): never {
  throw new ShapeError(msg);
}

export function f32(shape: number[]): TensorType {
  return { dtype: "f32", shape };
}

export function expectF32(t: TensorType, what: string): void {
  if (t.dtype !== "f32") fail(`${what} must be f32, got ${typeToString(t)}`);
}

export function last(shape: readonly number[]): number {
  if (shape.length === 0) fail("expected a tensor of rank >= 1, got a scalar");
  return shape[shape.length - 1];
}

export function sameAs(inputs: TensorType[]): TensorType {
  const [a, ...rest] = inputs;
  expectF32(a, "operand");
  for (const b of rest)
    if (!sameShape(a.shape, b.shape)) fail(`shape mismatch: ${typeToString(a)} vs ${typeToString(b)}`);
  return f32([...a.shape]);
}

export function num(attrs: Attrs, key: string): number {
  const v = attrs[key];
  if (typeof v !== "number") fail(`attribute ${key} must be a number`);
  return v;
}

/** rows of a 2-D view: all leading dimensions flattened */
export function rowsOf(shape: readonly number[]): number {
  return numel(shape.slice(0, -1));
}

export const FORWARD_OPS = {
  input: {
    doc: "a graph input fed at run time (attrs: name, dtype, shape)",
    arity: 0,
    attrs: ["name", "dtype", "shape"],
    infer: (_i, a) => ({ dtype: a.dtype === "i32" ? "i32" : "f32", shape: [...(a.shape as number[])] }),
  },
  param: {
    doc: "a trainable parameter (attrs: name, shape); its initialiser is in Graph.params",
    arity: 0,
    attrs: ["name", "shape"],
    infer: (_i, a) => f32([...(a.shape as number[])]),
  },
  embedding: {
    doc: "out[..., d] = table[ids[...], d]; ids outside [0, V) are a run-time error on the CPU and read row 0 on the GPU",
    arity: 2,
    attrs: [],
    infer: ([table, ids]) => {
      expectF32(table, "embedding table");
      if (ids.dtype !== "i32") fail("embedding ids must be i32");
      if (table.shape.length !== 2) fail("embedding table must be [V, D]");
      return f32([...ids.shape, table.shape[1]]);
    },
  },
  add_positions: {
    doc: "out[b, t, d] = x[b, t, d] + table[t, d] (learned absolute positions; table is [context, D], t < context)",
    arity: 2,
    attrs: [],
    infer: ([x, table]) => {
      if (x.shape.length !== 3 || table.shape.length !== 2)
        fail("add_positions takes x[B,T,D] and table[C,D]");
      if (table.shape[1] !== x.shape[2] || table.shape[0] < x.shape[1])
        fail("position table does not cover x");
      return f32([...x.shape]);
    },
  },
  matmul: {
    doc:
      "2-D product over flattened views. A = a viewed [rows(a), last(a)] (transposed if ta), " +
      "B = b viewed [rows(b), last(b)] (transposed if tb). out = A·B; when !ta the result keeps a's leading dims, else it is [last(a), N]",
    arity: 2,
    attrs: ["ta", "tb"],
    infer: ([a, b], attrs) => {
      expectF32(a, "matmul lhs");
      expectF32(b, "matmul rhs");
      const ta = attrs.ta === true;
      const tb = attrs.tb === true;
      const [m, k] = ta ? [last(a.shape), rowsOf(a.shape)] : [rowsOf(a.shape), last(a.shape)];
      const [k2, n] = tb ? [last(b.shape), rowsOf(b.shape)] : [rowsOf(b.shape), last(b.shape)];
      if (k !== k2)
        fail(`matmul inner dimensions differ: ${k} vs ${k2} (${typeToString(a)} x ${typeToString(b)})`);
      return f32(ta ? [m, n] : [...a.shape.slice(0, -1), n]);
    },
  },
  add: {
    doc: "out = a + b; b has a's shape, or is a suffix of it and broadcasts over the leading dims",
    arity: 2,
    attrs: [],
    elementwise: true,
    infer: ([a, b]) => {
      expectF32(a, "add lhs");
      expectF32(b, "add rhs");
      const suffix = a.shape.slice(a.shape.length - b.shape.length);
      if (b.shape.length > a.shape.length || !sameShape(suffix, b.shape))
        fail(`add: ${typeToString(b)} does not broadcast to ${typeToString(a)}`);
      return f32([...a.shape]);
    },
  },
  mul: { doc: "out = a * b (same shapes)", arity: 2, attrs: [], elementwise: true, infer: sameAs },
  scale: {
    doc: "out = a * factor",
    arity: 1,
    attrs: ["factor"],
    elementwise: true,
    infer: (i, a) => (num(a, "factor"), sameAs(i)),
  },
  gelu: {
    doc: "out = 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3)))  (the tanh form, as GPT-2)",
    arity: 1,
    attrs: [],
    elementwise: true,
    infer: sameAs,
  },
  silu: { doc: "out = x / (1 + exp(-x))", arity: 1, attrs: [], elementwise: true, infer: sameAs },
  rmsnorm: {
    doc: "over the last dim: out = x / sqrt(mean(x^2) + eps) * gain",
    arity: 2,
    attrs: ["eps"],
    infer: ([x, g], a) => {
      num(a, "eps");
      expectF32(x, "rmsnorm input");
      if (g.shape.length !== 1 || g.shape[0] !== last(x.shape)) fail("rmsnorm gain must be [D]");
      return f32([...x.shape]);
    },
  },
  layernorm: {
    doc: "over the last dim: out = (x - mean) / sqrt(var + eps) * gain + bias (biased variance)",
    arity: 3,
    attrs: ["eps"],
    infer: ([x, g, b], a) => {
      num(a, "eps");
      const d = last(x.shape);
      if (g.shape.length !== 1 || g.shape[0] !== d || b.shape.length !== 1 || b.shape[0] !== d)
        fail("layernorm gain and bias must be [D]");
      return f32([...x.shape]);
    },
  },
  rope: {
    doc:
      "rotary positions on x[B,T,heads*head_dim]; within each head, pairs (i, i + head_dim/2) for i < head_dim/2 " +
      "rotate by angle a = t * theta^(-2i/head_dim), t the position in T: (x_i, x_j) -> (x_i cos a - x_j sin a, x_i sin a + x_j cos a)",
    arity: 1,
    attrs: ["heads", "head_dim", "theta"],
    infer: ([x], a) => {
      const h = num(a, "heads");
      const hd = num(a, "head_dim");
      num(a, "theta");
      if (x.shape.length !== 3 || x.shape[2] !== h * hd) fail("rope takes x[B,T,heads*head_dim]");
      if (hd % 2 !== 0) fail("rope needs an even head_dim");
      return f32([...x.shape]);
    },
  },
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
  cross_entropy: {
    doc: "mean over all positions of -log softmax(logits)[target]; logits[..., V], targets i32[...]; result is a scalar",
    arity: 2,
    attrs: [],
    infer: ([logits, targets]) => {
      expectF32(logits, "logits");
      if (targets.dtype !== "i32") fail("targets must be i32");
      if (!sameShape(logits.shape.slice(0, -1), targets.shape))
        fail("targets must match the logits' leading dims");
      return f32([]);
    },
  },
} satisfies Record<string, OpDef>;
