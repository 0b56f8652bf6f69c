// The attention-residual family, whole: the ops' definitions and shape rules (definition.ts), their
// gradient rules (gradient.ts), WGSL kernels (kernel.ts, kernel-static.ts, kernel-backward.ts, with
// the source reader in sources.ts), float64 references (reference.ts, reference-backward.ts) and
// FLOP counts (flops.ts), gathered here into the family's entries of the op registry.

import { ANCHOR_ONLY } from "../../passes/fusion-rules.js";
import { emittedOp, type OpEntry } from "../op-entry.js";
import { ATTNRES_BACKWARD_OPS as B, ATTNRES_FORWARD_OPS as F } from "./definition.js";
import { attnresFlops } from "./flops.js";
import { attnresGrad, attnresStaticGrad } from "./gradient.js";
import {
  attnresGradSourcesTemplate,
  attnresStaticGradLogitsTemplate,
  attnresStaticGradSourcesTemplate,
} from "./kernel-backward.js";
import { attnresStaticTemplate } from "./kernel-static.js";
import { attnresTemplate } from "./kernel.js";
import {
  attnresGradSourcesRef,
  attnresStaticGradLogitsRef,
  attnresStaticGradSourcesRef,
} from "./reference-backward.js";
import { attnresReference, attnresStaticReference } from "./reference.js";

export const ATTNRES_OPS = {
  attnres: {
    def: F.attnres,
    gradient: attnresGrad,
    fusion: ANCHOR_ONLY,
    kernel: attnresTemplate,
    reference: attnresReference,
    flops: attnresFlops,
  },
  attnres_static: {
    def: F.attnres_static,
    gradient: attnresStaticGrad,
    fusion: ANCHOR_ONLY,
    kernel: attnresStaticTemplate,
    reference: attnresStaticReference,
    flops: attnresFlops,
  },
  attnres_grad_sources: emittedOp(B.attnres_grad_sources, attnresGradSourcesTemplate, attnresGradSourcesRef),
  attnres_static_grad_sources: emittedOp(
    B.attnres_static_grad_sources,
    attnresStaticGradSourcesTemplate,
    attnresStaticGradSourcesRef,
  ),
  attnres_static_grad_logits: emittedOp(
    B.attnres_static_grad_logits,
    attnresStaticGradLogitsTemplate,
    attnresStaticGradLogitsRef,
  ),
} satisfies Record<keyof typeof F | keyof typeof B, OpEntry>;
