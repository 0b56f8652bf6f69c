// RMSNorm and LayerNorm over the last dimension, and their gradients (dx, and the gain or gain and
// bias gradients): operands, attributes and shape rules.

import { expectShape, withUpstream } from "../../ir/grad-shapes.js";
import { fail, f32, expectF32, last, num, type OpDef } from "../../ir/ops.js";

export const NORMS_FORWARD_OPS = {
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
} satisfies Record<string, OpDef>;

export const NORMS_BACKWARD_OPS = {
  rmsnorm_grad_x: {
    doc: "dx of rmsnorm: with r = 1/sqrt(mean(x^2)+eps), u = dy*gain: dx = r u - r^3 x mean(u x); operands x, gain, dy",
    arity: 3,
    attrs: ["eps"],
    infer: ([x, g, dy], a) => withUpstream("rmsnorm", [x, g, dy], a, NORMS_FORWARD_OPS.rmsnorm).out,
  },
  rmsnorm_grad_gain: {
    doc: "each row's terms of dgain of rmsnorm, dy * x r (the gradient sums them over rows); operands x, dy; result x's shape",
    arity: 2,
    attrs: ["eps"],
    infer: ([x, dy], a) => {
      expectShape(dy, x.shape, "rmsnorm_grad_gain dy");
      return f32([...x.shape]);
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
    doc: "each row's terms of dgain of layernorm, dy * (x-mean) rstd (summed over rows by the gradient); operands x, dy; result x's shape",
    arity: 2,
    attrs: ["eps"],
    infer: ([x, dy], a) => {
      num(a, "eps");
      expectShape(dy, x.shape, "layernorm_grad_gain dy");
      return f32([...x.shape]);
    },
  },
} satisfies Record<string, OpDef>;
