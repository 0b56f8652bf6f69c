// matmul over flattened 2-D views. With A, B the (possibly transposed) views and Y = A·B:
// dA = dY·Bᵀ and dB = Aᵀ·dY; an operand stored transposed receives the transpose of its view's
// gradient, which is again a single matmul with the flags chosen so no transpose is materialised.

import type { GradRule } from "../../passes/grad-rules/types.js";
import { viewAs } from "../../passes/grad-rules/types.js";

export const matmulGrad: GradRule = (ctx) => {
  const [a, b] = ctx.node.inputs;
  const ta = ctx.node.attrs.ta === true;
  const tb = ctx.node.attrs.tb === true;
  const dy = ctx.dy;
  let da: number;
  let db: number;
  if (!ta && !tb) {
    da = ctx.emit("matmul", [dy, b], { ta: false, tb: true });
    db = ctx.emit("matmul", [a, dy], { ta: true, tb: false });
  } else if (!ta && tb) {
    da = ctx.emit("matmul", [dy, b], { ta: false, tb: false });
    db = ctx.emit("matmul", [dy, a], { ta: true, tb: false });
  } else if (ta && !tb) {
    da = ctx.emit("matmul", [b, dy], { ta: false, tb: true });
    db = ctx.emit("matmul", [a, dy], { ta: false, tb: false });
  } else {
    da = ctx.emit("matmul", [b, dy], { ta: true, tb: true });
    db = ctx.emit("matmul", [dy, a], { ta: true, tb: true });
  }
  return [viewAs(ctx, da, ctx.type(a).shape), viewAs(ctx, db, ctx.type(b).shape)];
};
