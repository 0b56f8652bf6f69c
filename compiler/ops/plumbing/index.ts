// The plumbing autodiff emits, whole: definitions (definition.ts), WGSL kernels (kernel.ts) and
// float64 references (reference.ts), as registry entries. None is differentiated or fused.

import { uncounted } from "../../analysis/flops.js";
import { UNFUSED } from "../../passes/fusion-rules.js";
import { NOT_DIFFERENTIATED, type OpEntry } from "../op-entry.js";
import { PLUMBING_OPS_DEFS as B } from "./definition.js";
import { fillTemplate, reduceLeadingTemplate, reshapeTemplate, sliceTemplate } from "./kernel.js";
import { fillRef, reduceLeadingRef, reshapeRef, sliceRef } from "./reference.js";

const backward = (
  def: OpEntry["def"],
  kernel: OpEntry["kernel"],
  reference: OpEntry["reference"],
): OpEntry => ({
  def,
  gradient: NOT_DIFFERENTIATED,
  fusion: UNFUSED,
  kernel,
  reference,
  flops: uncounted,
});

export const PLUMBING_OPS = {
  fill: backward(B.fill, fillTemplate, fillRef),
  reshape: backward(B.reshape, reshapeTemplate, reshapeRef),
  reduce_leading: backward(B.reduce_leading, reduceLeadingTemplate, reduceLeadingRef),
  slice: backward(B.slice, sliceTemplate, sliceRef),
} satisfies Record<string, OpEntry>;
