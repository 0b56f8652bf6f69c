// Matrix multiplication over the last two dimensions, with optional transposes: operands, attributes
// and shape rule. Its gradient is two more matmuls (gradient.ts), so it has no backward op. And
// rmsnorm_matmul, the product of an RMS-normed operand, which a compile pass makes of an rmsnorm
// whose every reader is a product (passes/norm-prologue.ts) in programs with no backward.

import { typeToString } from "../../ir/ir.js";
import { fail, f32, expectF32, last, num, rowsOf, type OpDef } from "../../ir/ops.js";

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

export const MATMUL_FUSED_OPS = {
  rmsnorm_matmul: {
    doc:
      "rmsnorm(x, gain, eps) · w without the normed x stored: out[i, j] = r_i sum_k x[i,k] gain[k] W[k,j], " +
      "r_i = 1/sqrt(mean_k x[i,k]^2 + eps); x is a (never transposed), w is b of matmul (transposed if tb)",
    arity: 3,
    attrs: ["eps", "tb"],
    infer: ([x, gain, w], attrs) => {
      num(attrs, "eps");
      if (gain.shape.length !== 1 || gain.shape[0] !== last(x.shape)) fail("rmsnorm_matmul gain must be [K]");
      return MATMUL_FORWARD_OPS.matmul.infer([x, w], { ta: false, tb: attrs.tb === true });
    },
  },
} satisfies Record<string, OpDef>;

/** the node's product operands: a and b of matmul, x and w of rmsnorm_matmul (ids) */
export function productOperands(node: { op: string; inputs: number[] }): { a: number; b: number } {
  return node.op === "rmsnorm_matmul"
    ? { a: node.inputs[0], b: node.inputs[2] }
    : { a: node.inputs[0], b: node.inputs[1] };
}
