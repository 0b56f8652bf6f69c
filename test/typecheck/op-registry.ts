// Compiled by test/diagnostic-params.test.ts with the other fixtures: each @ts-expect-error must
// be an error, so an op left out of the registry, or an entry missing a part, cannot compile.
import type { OpName } from "../../compiler/ir/catalog.js";
import { OP_REGISTRY, type OpEntry } from "../../compiler/ops/registry.js";

type Registry = { readonly [op in OpName]: OpEntry };

const { slice: _dropped, ...withoutSlice } = OP_REGISTRY;
// @ts-expect-error an op of the catalog ("slice") has no entry
export const missingOp: Registry = withoutSlice;

const { reference: _noReference, ...matmulWithoutReference } = OP_REGISTRY.matmul;
// @ts-expect-error an entry without its float64 reference
export const missingPart: OpEntry = matmulWithoutReference;

// @ts-expect-error an op that the catalog does not define
export const unknownOp: Registry = { ...OP_REGISTRY, softmax_anything: OP_REGISTRY.add };

export const complete: Registry = OP_REGISTRY;
