// Elementwise ops (add and mul with suffix or scalar broadcasting, scale, gelu, silu, tanh, sigmoid) and the pointwise
// derivatives their gradients use: operands, attributes and shape rules.

import { sameShape, typeToString } from "../../ir/ir.js";
import { elementwiseGrad } from "../../ir/grad-shapes.js";
import { fail, f32, expectF32, sameAs, num, type OpDef } from "../../ir/ops.js";

/** b has a's shape, or is a suffix of it (broadcast over the leading dims), or is one scalar [1] */
function broadcastsOnto(op: string): OpDef["infer"] {
  return ([a, b]) => {
    expectF32(a, `${op} lhs`);
    expectF32(b, `${op} rhs`);
    const suffix = a.shape.slice(a.shape.length - b.shape.length);
    const scalar = b.shape.length === 1 && b.shape[0] === 1;
    if (!scalar && (b.shape.length > a.shape.length || !sameShape(suffix, b.shape)))
      fail(`${op}: ${typeToString(b)} does not broadcast to ${typeToString(a)}`);
    return f32([...a.shape]);
  };
}

export const ELEMENTWISE_FORWARD_OPS = {
  add: {
    doc: "out = a + b; b has a's shape, or is a suffix of it and broadcasts over the leading dims, or is a scalar [1]",
    arity: 2,
    attrs: [],
    elementwise: true,
    infer: broadcastsOnto("add"),
  },
  mul: {
    doc: "out = a * b; b has a's shape, or is a suffix of it, or a scalar [1] (a learned scale)",
    arity: 2,
    attrs: [],
    elementwise: true,
    infer: broadcastsOnto("mul"),
  },
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
  tanh: { doc: "out = tanh(x)", arity: 1, attrs: [], elementwise: true, infer: sameAs },
  sigmoid: { doc: "out = 1 / (1 + exp(-x))", arity: 1, attrs: [], elementwise: true, infer: sameAs },
} satisfies Record<string, OpDef>;

export const ELEMENTWISE_BACKWARD_OPS = {
  gelu_grad: elementwiseGrad("gelu"),
  silu_grad: elementwiseGrad("silu"),
  tanh_grad: elementwiseGrad("tanh"),
  sigmoid_grad: elementwiseGrad("sigmoid"),
} satisfies Record<string, OpDef>;
