// What the compiler needs of one op: the parts an op-registry entry holds (registry.ts). An op
// family (compiler/ops/<family>/index.ts) builds its entries from these types.

import { uncounted, type FlopRule } from "../analysis/flops.js";
import type { KernelTemplate } from "../codegen/template.js";
import type { OpDef } from "../ir/ops.js";
import { UNFUSED, type FusionRule } from "../passes/fusion-rules.js";
import type { GradRule } from "../passes/grad-rules/types.js";
import type { ReferenceOp } from "../reference/backward/common.js";

/** the op is never differentiated: a leaf (input, param) or an op that autodiff emits */
export const NOT_DIFFERENTIATED = "not differentiated";
/** the op has no kernel or reference of its own: inputs and parameters are bound, not computed */
export const NO_KERNEL = "bound, not computed";

export interface OpEntry {
  def: OpDef;
  gradient: GradRule | typeof NOT_DIFFERENTIATED;
  fusion: FusionRule;
  kernel: KernelTemplate | typeof NO_KERNEL;
  reference: ReferenceOp | typeof NO_KERNEL;
  flops: FlopRule;
}

/** an op that autodiff emits: its own kernel, never fused into and never differentiated */
export function emittedOp(def: OpDef, kernel: KernelTemplate, reference: ReferenceOp): OpEntry {
  return { def, gradient: NOT_DIFFERENTIATED, fusion: UNFUSED, kernel, reference, flops: uncounted };
}
