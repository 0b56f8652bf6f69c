// Matrix multiplication, whole: definition (definition.ts), gradient rule (gradient.ts), the tiled
// WGSL kernel (kernel.ts), float64 reference (reference.ts) and FLOPs (flops.ts), as registry entries.

import { ANCHOR_ONLY } from "../../passes/fusion-rules.js";
import type { OpEntry } from "../op-entry.js";
import { MATMUL_FORWARD_OPS as F, MATMUL_FUSED_OPS as FUSED } from "./definition.js";
import { matmulFlops } from "./flops.js";
import { matmulGrad } from "./gradient.js";
import { matmulTemplate, rmsnormMatmulTemplate } from "./kernel.js";
import { matmulReference, rmsnormMatmulReference } from "./reference.js";
import { NOT_DIFFERENTIATED } from "../op-entry.js";

export const MATMUL_OPS = {
  matmul: {
    def: F.matmul,
    gradient: matmulGrad,
    fusion: ANCHOR_ONLY,
    kernel: matmulTemplate,
    reference: matmulReference,
    flops: matmulFlops,
  },
  // made by a compile pass in programs with no backward (passes/norm-prologue.ts)
  rmsnorm_matmul: {
    def: FUSED.rmsnorm_matmul,
    gradient: NOT_DIFFERENTIATED,
    fusion: ANCHOR_ONLY,
    kernel: rmsnormMatmulTemplate,
    reference: rmsnormMatmulReference,
    flops: matmulFlops,
  },
} satisfies Record<string, OpEntry>;
