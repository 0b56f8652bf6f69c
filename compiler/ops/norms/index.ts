// Normalisation, whole: RMSNorm and LayerNorm with their definitions (definition.ts), gradient rules
// (gradient.ts), WGSL kernels (kernel.ts, kernel-backward.ts) and float64 references (reference.ts,
// reference-backward.ts), as registry entries.

import { uncounted } from "../../analysis/flops.js";
import { ANCHOR_ONLY } from "../../passes/fusion-rules.js";
import { emittedOp, type OpEntry } from "../op-entry.js";
import { NORMS_BACKWARD_OPS as B, NORMS_FORWARD_OPS as F } from "./definition.js";
import { layernormGrad, rmsnormGrad } from "./gradient.js";
import {
  layernormGradGainTemplate,
  layernormGradXTemplate,
  rmsnormGradGainTemplate,
  rmsnormGradXTemplate,
} from "./kernel-backward.js";
import { layernormTemplate, rmsnormTemplate } from "./kernel.js";
import {
  layernormGradGainRef,
  layernormGradXRef,
  rmsnormGradGainRef,
  rmsnormGradXRef,
} from "./reference-backward.js";
import { layernormReference, rmsnormReference } from "./reference.js";

export const NORMS_OPS = {
  rmsnorm: {
    def: F.rmsnorm,
    gradient: rmsnormGrad,
    fusion: ANCHOR_ONLY,
    kernel: rmsnormTemplate,
    reference: rmsnormReference,
    flops: uncounted,
  },
  layernorm: {
    def: F.layernorm,
    gradient: layernormGrad,
    fusion: ANCHOR_ONLY,
    kernel: layernormTemplate,
    reference: layernormReference,
    flops: uncounted,
  },
  rmsnorm_grad_x: emittedOp(B.rmsnorm_grad_x, rmsnormGradXTemplate, rmsnormGradXRef),
  rmsnorm_grad_gain: emittedOp(B.rmsnorm_grad_gain, rmsnormGradGainTemplate, rmsnormGradGainRef),
  layernorm_grad_x: emittedOp(B.layernorm_grad_x, layernormGradXTemplate, layernormGradXRef),
  layernorm_grad_gain: emittedOp(B.layernorm_grad_gain, layernormGradGainTemplate, layernormGradGainRef),
} satisfies Record<string, OpEntry>;
