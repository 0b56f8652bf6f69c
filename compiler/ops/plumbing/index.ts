// The plumbing autodiff emits, whole: definitions (definition.ts), WGSL kernels (kernel.ts) and
// float64 references (reference.ts), as registry entries. None is fused; only reshape, which
// lowering also emits, is differentiated (its gradient is the reshape back).

import { emittedOp, type OpEntry } from "../op-entry.js";
import type { GradRule } from "../../passes/grad-rules/types.js";
import { UNFUSED } from "../../passes/fusion-rules.js";
import { uncounted } from "../../analysis/flops.js";
import { PLUMBING_FORWARD_OPS as F, PLUMBING_OPS_DEFS as B } from "./definition.js";
import { fillTemplate, reduceLeadingTemplate, reshapeTemplate, sliceTemplate } from "./kernel.js";
import { fillRef, reduceLeadingRef, reshapeRef, sliceRef } from "./reference.js";

const reshapeGrad: GradRule = (ctx) => [
  ctx.emit("reshape", [ctx.dy], { shape: [...ctx.type(ctx.node.inputs[0]).shape] }),
];

export const PLUMBING_OPS = {
  fill: emittedOp(B.fill, fillTemplate, fillRef),
  reshape: {
    def: F.reshape,
    gradient: reshapeGrad,
    fusion: UNFUSED,
    kernel: reshapeTemplate,
    reference: reshapeRef,
    flops: uncounted,
  },
  reduce_leading: emittedOp(B.reduce_leading, reduceLeadingTemplate, reduceLeadingRef),
  slice: emittedOp(B.slice, sliceTemplate, sliceRef),
} satisfies Record<string, OpEntry>;
