// The complete op catalog: the forward ops (ops.ts), the ops autodiff emits (ops-backward.ts) and
// those of the op families that keep their definitions in their own folder (compiler/ops/<family>/)
// in one table, built once here rather than registered into another module's table, so what it
// holds never depends on which module was imported first.

import type { Attrs, TensorType } from "./ir.js";
import { ATTNRES_BACKWARD_OPS, ATTNRES_FORWARD_OPS } from "../ops/attnres/definition.js";
import { BACKWARD_OPS } from "./ops-backward.js";
import { FORWARD_OPS, ShapeError, type OpDef } from "./ops.js";

/** the forward ops: those lowering emits, which autodiff differentiates */
export const FORWARD_CATALOG: Readonly<Record<string, OpDef>> = { ...FORWARD_OPS, ...ATTNRES_FORWARD_OPS };

/** the ops autodiff emits */
export const BACKWARD_CATALOG: Readonly<Record<string, OpDef>> = { ...BACKWARD_OPS, ...ATTNRES_BACKWARD_OPS };

/** the name of every op of the IR */
export type OpName =
  | keyof typeof FORWARD_OPS
  | keyof typeof BACKWARD_OPS
  | keyof typeof ATTNRES_FORWARD_OPS
  | keyof typeof ATTNRES_BACKWARD_OPS;

export const OPS: Readonly<Record<string, OpDef>> = { ...FORWARD_CATALOG, ...BACKWARD_CATALOG };

export function inferType(op: string, inputs: TensorType[], attrs: Attrs): TensorType {
  const def = OPS[op];
  if (!def) throw new ShapeError(`unknown op '${op}'`);
  for (const key of def.attrs) if (!(key in attrs)) throw new ShapeError(`${op}: missing attribute '${key}'`);
  if (def.arity !== "variadic" && inputs.length !== def.arity)
    throw new ShapeError(`${op} takes ${def.arity} operands, got ${inputs.length}`);
  return def.infer(inputs, attrs);
}

export { ShapeError, rowsOf } from "./ops.js";
export type { OpDef } from "./ops.js";
