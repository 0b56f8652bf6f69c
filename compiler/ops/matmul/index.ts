// Matrix multiplication, whole: definition (definition.ts), gradient rule (gradient.ts), the tiled
// WGSL kernel (kernel.ts), float64 reference (reference.ts) and FLOPs (flops.ts), as registry entries.

import { ANCHOR_ONLY } from "../../passes/fusion-rules.js";
import type { OpEntry } from "../op-entry.js";
import { MATMUL_FORWARD_OPS as F } from "./definition.js";
import { matmulFlops } from "./flops.js";
import { matmulGrad } from "./gradient.js";
import { matmulTemplate } from "./kernel.js";
import { matmulReference } from "./reference.js";

export const MATMUL_OPS = {
  matmul: {
    def: F.matmul,
    gradient: matmulGrad,
    fusion: ANCHOR_ONLY,
    kernel: matmulTemplate,
    reference: matmulReference,
    flops: matmulFlops,
  },
} satisfies Record<string, OpEntry>;
