// The complete float64 reference: registers the backward ops into REFERENCE_OPS so the interpreter
// (which dispatches through that table) can run graphs produced by autodiff. Import this module,
// not ops.ts, wherever backward graphs are interpreted.

import { BACKWARD_REFERENCE_OPS } from "./backward-ops.js";
import { REFERENCE_OPS } from "./ops.js";

Object.assign(REFERENCE_OPS, BACKWARD_REFERENCE_OPS);

export { REFERENCE_OPS, evaluateNode } from "./ops.js";
export type { ReferenceOp } from "./ops.js";
