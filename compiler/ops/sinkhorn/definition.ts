// Sinkhorn–Knopp normalisation of per-token square matrices, as mHC (manifold-constrained
// hyper-connections) needs it: logits become a doubly stochastic mixing matrix, and training
// backpropagates through every iteration. The backward op is what gradient.ts emits.

import type { Attrs, TensorType } from "../../ir/ir.js";
import { withUpstream } from "../../ir/grad-shapes.js";
import { expectF32, f32, fail, type OpDef } from "../../ir/ops.js";

/**
 * The kernels keep a whole matrix (and, backward, its gradient) in private memory, which WGSL
 * bounds (8 KiB per function); mHC uses n = 4.
 */
export const MAX_SINKHORN_N = 16;

function sinkhornType(x: TensorType, a: Attrs): TensorType {
  const iterations = a.iterations;
  if (typeof iterations !== "number" || !Number.isInteger(iterations) || iterations < 1)
    fail("sinkhorn iterations must be an integer >= 1");
  expectF32(x, "sinkhorn operand");
  const rank = x.shape.length;
  if (rank < 2) fail("sinkhorn takes x[..., n, n] of rank >= 2");
  const n = x.shape[rank - 1];
  if (x.shape[rank - 2] !== n) fail(`sinkhorn needs square matrices, got [${x.shape.join(",")}]`);
  if (n < 1) fail("sinkhorn needs n >= 1");
  if (n > MAX_SINKHORN_N) fail(`sinkhorn supports n <= ${MAX_SINKHORN_N}, got ${n}`);
  return f32([...x.shape]);
}

export const SINKHORN_FORWARD_OPS = {
  sinkhorn: {
    doc:
      "Sinkhorn–Knopp on exp(x) for each matrix of x[..., n, n] (1 <= n <= 16), in the log domain: L = x; " +
      "`iterations` times { L[i,j] -= log sum_i' exp(L[i',j]) (each column); then " +
      "L[i,j] -= log sum_j' exp(L[i,j']) (each row) }; result exp(L), of x's shape. Rows sum to 1, " +
      "columns approximately",
    arity: 1,
    attrs: ["iterations"],
    infer: ([x], a) => sinkhornType(x, a),
  },
} satisfies Record<string, OpDef>;

export const SINKHORN_BACKWARD_OPS = {
  sinkhorn_grad: {
    doc:
      "dx of sinkhorn through every iteration; operands x, dy [..., n, n]. Backward from dL = dy * exp(L_final), " +
      "each step L_out = L_in - lse_axis(L_in) in reverse: dL_in = dL_out - softmax_axis(L_in) * sum_axis(dL_out)",
    arity: 2,
    attrs: ["iterations"],
    infer: (inputs, a) => withUpstream("sinkhorn", inputs, a, SINKHORN_FORWARD_OPS.sinkhorn).out,
  },
} satisfies Record<string, OpDef>;
