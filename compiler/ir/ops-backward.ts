// Catalog entries for the ops that only autodiff emits: gradient kernels and the plumbing
// around them (constant fills, reshapes, reductions over broadcast dims, views into packed results).
// Merged with the forward ops by compiler/ir/catalog.ts, so ops.ts never depends on this file.

import type { Attrs, TensorType } from "./ir.js";
import { numel, sameShape, typeToString } from "./ir.js";
import type { OpDef } from "./ops.js";
import { FORWARD_OPS, ShapeError } from "./ops.js";

function fail(msg: string): never {
  throw new ShapeError(msg);
}

function f32(shape: number[]): TensorType {
  return { dtype: "f32", shape };
}

function num(attrs: Attrs, key: string): number {
  const v = attrs[key];
  if (typeof v !== "number") fail(`attribute ${key} must be a number`);
  return v;
}

function shapeAttr(attrs: Attrs, key: string): number[] {
  const v = attrs[key];
  if (!Array.isArray(v) || v.some((d) => !Number.isInteger(d) || d < 0))
    fail(`attribute ${key} must be a shape`);
  return [...v];
}

function expectShape(t: TensorType, shape: readonly number[], what: string): void {
  if (t.dtype !== "f32" || !sameShape(t.shape, shape))
    fail(`${what} must be f32[${shape.join(",")}], got ${typeToString(t)}`);
}

/** checks the forward operands with the forward op's own rule and returns the forward result type */
function forwardType(op: string, inputs: TensorType[], attrs: Attrs): TensorType {
  const def = (FORWARD_OPS as Record<string, OpDef>)[op];
  if (!def) fail(`internal: forward op ${op} is not in the catalog`);
  return def.infer(inputs, attrs);
}

/**
 * gradient ops whose operands are the forward operands followed by the upstream gradient dy: checks
 * the forward operands with the forward op's own rule (`def`, looked up among the ops of this
 * catalog by default; an op family passes its own) and returns the forward result type
 */
export function withUpstream(
  op: string,
  inputs: TensorType[],
  attrs: Attrs,
  def: OpDef | undefined = (FORWARD_OPS as Record<string, OpDef>)[op],
): { forward: TensorType[]; out: TensorType } {
  if (!def) fail(`internal: forward op ${op} is not in the catalog`);
  if (inputs.length < 2) fail(`${op} gradient needs the forward operands and dy`);
  const forward = inputs.slice(0, -1);
  const out = def.infer(forward, attrs);
  expectShape(inputs[inputs.length - 1], out.shape, `${op} gradient dy`);
  return { forward, out };
}

function elementwiseGrad(forwardOp: string): OpDef {
  return {
    doc: `dx = dy * ${forwardOp}'(x); operands x, dy of one shape`,
    arity: 2,
    attrs: [],
    elementwise: true,
    infer: ([x, dy]) => {
      expectShape(x, x.shape, `${forwardOp}_grad x`);
      expectShape(dy, x.shape, `${forwardOp}_grad dy`);
      return f32([...x.shape]);
    },
  };
}

export const BACKWARD_OPS = {
  fill: {
    doc: "a constant tensor: every element equals `value` (the loss seed, zero gradients of unused parameters)",
    arity: 0,
    attrs: ["shape", "value"],
    infer: (_i, a) => (num(a, "value"), f32(shapeAttr(a, "shape"))),
  },
  reshape: {
    doc: "the same elements in row-major order under another shape of equal size",
    arity: 1,
    attrs: ["shape"],
    infer: ([x], a) => {
      const shape = shapeAttr(a, "shape");
      if (numel(shape) !== numel(x.shape))
        fail(`reshape: ${typeToString(x)} has no view as [${shape.join(",")}]`);
      return { dtype: x.dtype, shape };
    },
  },
  reduce_leading: {
    doc: "sum over all but the last `keep` dims: out[j...] = sum_i x[i..., j...] (undoes add's broadcast)",
    arity: 1,
    attrs: ["keep"],
    infer: ([x], a) => {
      const keep = num(a, "keep");
      if (!Number.isInteger(keep) || keep < 0 || keep > x.shape.length)
        fail(`reduce_leading: cannot keep ${keep} dims of ${typeToString(x)}`);
      return f32(x.shape.slice(x.shape.length - keep));
    },
  },
  slice: {
    doc: "out = x[index]: one entry along the leading dim (views into packed multi-result gradients)",
    arity: 1,
    attrs: ["index"],
    infer: ([x], a) => {
      const index = num(a, "index");
      if (x.shape.length === 0 || !Number.isInteger(index) || index < 0 || index >= x.shape[0])
        fail(`slice: index ${index} outside ${typeToString(x)}`);
      return { dtype: x.dtype, shape: x.shape.slice(1) };
    },
  },
  gelu_grad: elementwiseGrad("gelu"),
  silu_grad: elementwiseGrad("silu"),
  rmsnorm_grad_x: {
    doc: "dx of rmsnorm: with r = 1/sqrt(mean(x^2)+eps), u = dy*gain: dx = r u - r^3 x mean(u x); operands x, gain, dy",
    arity: 3,
    attrs: ["eps"],
    infer: ([x, g, dy], a) => withUpstream("rmsnorm", [x, g, dy], a).out,
  },
  rmsnorm_grad_gain: {
    doc: "dgain of rmsnorm: sum over rows of dy * x r; operands x, dy; result [D]",
    arity: 2,
    attrs: ["eps"],
    infer: ([x, dy], a) => {
      expectShape(dy, x.shape, "rmsnorm_grad_gain dy");
      return f32([x.shape[x.shape.length - 1]]);
    },
  },
  layernorm_grad_x: {
    doc:
      "dx of layernorm: with xh = (x-mean) rstd, u = dy*gain: dx = rstd (u - mean(u) - xh mean(u xh)); " +
      "operands x, gain, dy",
    arity: 3,
    attrs: ["eps"],
    infer: ([x, g, dy], a) => {
      expectShape(g, [x.shape[x.shape.length - 1]], "layernorm_grad_x gain");
      expectShape(dy, x.shape, "layernorm_grad_x dy");
      return f32([...x.shape]);
    },
  },
  layernorm_grad_gain: {
    doc: "dgain of layernorm: sum over rows of dy * (x-mean) rstd; operands x, dy; result [D]",
    arity: 2,
    attrs: ["eps"],
    infer: ([x, dy], a) => {
      num(a, "eps");
      expectShape(dy, x.shape, "layernorm_grad_gain dy");
      return f32([x.shape[x.shape.length - 1]]);
    },
  },
  rope_grad: {
    doc: "dx of rope: dy rotated back, by angle -t * theta^(-2i/head_dim) (rotations are orthogonal)",
    arity: 1,
    attrs: ["heads", "head_dim", "theta"],
    infer: ([dy], a) => forwardType("rope", [dy], a),
  },
  attention_grad_q: {
    doc:
      "dq of causal attention, recomputing the softmax P from q and k: dS = P (dy·v_s - dy·o), dq_t = sum_s dS_ts k_s / sqrt(hd); " +
      "operands q, k, v, o (the forward output), dy",
    arity: 5,
    attrs: ["heads", "kv_heads", "head_dim"],
    infer: ([q, k, v, o, dy], a) => {
      const out = forwardType("attention", [q, k, v], a);
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
      const out = forwardType("attention", [q, k, v], a);
      expectShape(o, out.shape, "attention_grad_kv o");
      expectShape(dy, out.shape, "attention_grad_kv dy");
      return f32([2, ...k.shape]);
    },
  },
  embedding_grad: {
    doc: "dtable[v, d] = sum over positions p with ids[p] = v of dy[p, d]; operands ids, dy; result [vocab, D]",
    arity: 2,
    attrs: ["vocab"],
    infer: ([ids, dy], a) => {
      const vocab = num(a, "vocab");
      if (ids.dtype !== "i32") fail("embedding_grad ids must be i32");
      if (dy.shape.length !== ids.shape.length + 1 || !sameShape(dy.shape.slice(0, -1), ids.shape))
        fail(`embedding_grad: dy ${typeToString(dy)} does not match ids ${typeToString(ids)}`);
      return f32([vocab, dy.shape[dy.shape.length - 1]]);
    },
  },
  add_positions_grad_table: {
    doc: "dtable[t, d] = sum_b dy[b, t, d] for t < T, and 0 for T <= t < context; operand dy[B,T,D]; result [context, D]",
    arity: 1,
    attrs: ["context"],
    infer: ([dy], a) => {
      const context = num(a, "context");
      if (dy.shape.length !== 3 || dy.shape[1] > context)
        fail("add_positions_grad_table takes dy[B,T,D] with T <= context");
      return f32([context, dy.shape[2]]);
    },
  },
  cross_entropy_grad: {
    doc: "dlogits = (softmax(logits) - onehot(target)) / N * dloss, N the number of positions; operands logits, targets, dloss",
    arity: 3,
    attrs: [],
    infer: ([logits, targets, dloss]) => {
      forwardType("cross_entropy", [logits, targets], {});
      expectShape(dloss, [], "cross_entropy_grad dloss");
      return f32([...logits.shape]);
    },
  },
} satisfies Record<string, OpDef>;
