// The Sinkhorn family, whole: definitions and shape rules (definition.ts), the gradient rule
// (gradient.ts), WGSL kernels (kernel.ts, kernel-backward.ts) and float64 references
// (reference.ts, reference-backward.ts), gathered into the family's entries of the op registry.
// FLOPs are left uncounted: ~8·iterations·n² per matrix is a normalisation, like the softmaxes and
// norms analysis/flops.ts leaves out, and no FlopBreakdown category (matmul, attention, attnres) fits.

import { uncounted } from "../../analysis/flops.js";
import { ANCHOR_ONLY } from "../../passes/fusion-rules.js";
import { emittedOp, type OpEntry } from "../op-entry.js";
import { SINKHORN_BACKWARD_OPS as B, SINKHORN_FORWARD_OPS as F } from "./definition.js";
import { sinkhornGrad } from "./gradient.js";
import { sinkhornGradTemplate } from "./kernel-backward.js";
import { sinkhornTemplate } from "./kernel.js";
import { sinkhornGradRef } from "./reference-backward.js";
import { sinkhornReference } from "./reference.js";

export const SINKHORN_OPS = {
  sinkhorn: {
    def: F.sinkhorn,
    gradient: sinkhornGrad,
    fusion: ANCHOR_ONLY,
    kernel: sinkhornTemplate,
    reference: sinkhornReference,
    flops: uncounted,
  },
  sinkhorn_grad: emittedOp(B.sinkhorn_grad, sinkhornGradTemplate, sinkhornGradRef),
} satisfies Record<keyof typeof F | keyof typeof B, OpEntry>;
