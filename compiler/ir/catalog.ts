// The complete op catalog: forward ops from ops.ts with the backward ops registered into the same
// table. Import OPS from here (not ops.ts) wherever backward graphs may appear.

import { BACKWARD_OPS } from "./ops-backward.js";
import { OPS } from "./ops.js";

Object.assign(OPS, BACKWARD_OPS);

export { OPS, inferType, ShapeError, rowsOf } from "./ops.js";
export type { OpDef } from "./ops.js";
