// Elementwise ops (add with suffix broadcasting, mul, scale, gelu, silu) and the pointwise
// derivatives their gradients use: operands, attributes and shape rules.

import { sameShape, typeToString } from "../../ir/ir.js";
import { elementwiseGrad } from "../../ir/grad-shapes.js";
import { fail, f32, expectF32, sameAs, num, type OpDef } from "../../ir/ops.js";

export const ELEMENTWISE_FORWARD_OPS = {
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
} satisfies Record<string, OpDef>;

export const ELEMENTWISE_BACKWARD_OPS = {
  gelu_grad: elementwiseGrad("gelu"),
  silu_grad: elementwiseGrad("silu"),
} satisfies Record<string, OpDef>;
