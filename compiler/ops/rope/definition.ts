// Rotary positions: the rope op and its gradient, operands, attributes and shape rules.

import { fail, f32, num, type OpDef } from "../../ir/ops.js";

export const ROPE_FORWARD_OPS = {
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
} satisfies Record<string, OpDef>;

export const ROPE_BACKWARD_OPS = {
  rope_grad: {
    doc: "dx of rope: dy rotated back, by angle -t * theta^(-2i/head_dim) (rotations are orthogonal)",
    arity: 1,
    attrs: ["heads", "head_dim", "theta"],
    infer: ([dy], a) => ROPE_FORWARD_OPS.rope.infer([dy], a),
  },
} satisfies Record<string, OpDef>;
