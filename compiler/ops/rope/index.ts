// Rotary positions, whole: definition and shape rules (definition.ts), gradient rule (gradient.ts),
// WGSL kernels (kernel.ts, kernel-backward.ts) and float64 references (reference.ts,
// reference-backward.ts), gathered into the family's entries of the op registry.

import { uncounted } from "../../analysis/flops.js";
import { ANCHOR_ONLY, UNFUSED } from "../../passes/fusion-rules.js";
import { NOT_DIFFERENTIATED, type OpEntry } from "../op-entry.js";
import { ROPE_BACKWARD_OPS as B, ROPE_FORWARD_OPS as F } from "./definition.js";
import { ropeGrad } from "./gradient.js";
import { ropeGradTemplate } from "./kernel-backward.js";
import { ropeTemplate } from "./kernel.js";
import { ropeGradRef } from "./reference-backward.js";
import { ropeReference } from "./reference.js";

export const ROPE_OPS = {
  rope: {
    def: F.rope,
    gradient: ropeGrad,
    fusion: ANCHOR_ONLY,
    kernel: ropeTemplate,
    reference: ropeReference,
    flops: uncounted,
  },
  rope_grad: {
    def: B.rope_grad,
    gradient: NOT_DIFFERENTIATED,
    fusion: UNFUSED,
    kernel: ropeGradTemplate,
    reference: ropeGradRef,
    flops: uncounted,
  },
} satisfies Record<string, OpEntry>;
