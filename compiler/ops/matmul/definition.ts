// Matrix multiplication over the last two dimensions, with optional transposes: operands, attributes
// and shape rule. Its gradient is two more matmuls (gradient.ts), so it has no backward op.

import { typeToString } from "../../ir/ir.js";
import { fail, f32, expectF32, last, rowsOf, type OpDef } from "../../ir/ops.js";

export const MATMUL_FORWARD_OPS = {
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
} satisfies Record<string, OpDef>;
