// The plumbing autodiff emits, whole: definitions (definition.ts), WGSL kernels (kernel.ts) and
// float64 references (reference.ts), as registry entries. None is differentiated or fused.

import { emittedOp, type OpEntry } from "../op-entry.js";
import { PLUMBING_OPS_DEFS as B } from "./definition.js";
import { fillTemplate, reduceLeadingTemplate, reshapeTemplate, sliceTemplate } from "./kernel.js";
import { fillRef, reduceLeadingRef, reshapeRef, sliceRef } from "./reference.js";

export const PLUMBING_OPS = {
  fill: emittedOp(B.fill, fillTemplate, fillRef),
  reshape: emittedOp(B.reshape, reshapeTemplate, reshapeRef),
  reduce_leading: emittedOp(B.reduce_leading, reduceLeadingTemplate, reduceLeadingRef),
  slice: emittedOp(B.slice, sliceTemplate, sliceRef),
} satisfies Record<string, OpEntry>;
