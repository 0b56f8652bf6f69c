// The complete op catalog: the forward ops (ops.ts), the ops autodiff emits (ops-backward.ts) and
// those of the op families that keep their definitions in their own folder (compiler/ops/<family>/)
// in one table, built once here rather than registered into another module's table, so what it
// holds never depends on which module was imported first.

import type { Attrs, TensorType } from "./ir.js";
import { ATTENTION_FORWARD_OPS, ATTENTION_BACKWARD_OPS } from "../ops/attention/definition.js";
import { ATTNRES_FORWARD_OPS, ATTNRES_BACKWARD_OPS } from "../ops/attnres/definition.js";
import { ELEMENTWISE_FORWARD_OPS, ELEMENTWISE_BACKWARD_OPS } from "../ops/elementwise/definition.js";
import { LOOKUP_FORWARD_OPS, LOOKUP_BACKWARD_OPS } from "../ops/lookup/definition.js";
import { MATMUL_FORWARD_OPS, MATMUL_FUSED_OPS } from "../ops/matmul/definition.js";
import { NORMS_FORWARD_OPS, NORMS_BACKWARD_OPS } from "../ops/norms/definition.js";
import { ROPE_FORWARD_OPS, ROPE_BACKWARD_OPS } from "../ops/rope/definition.js";
import { SINKHORN_FORWARD_OPS, SINKHORN_BACKWARD_OPS } from "../ops/sinkhorn/definition.js";
import { STREAMS_FORWARD_OPS, STREAMS_BACKWARD_OPS } from "../ops/streams/definition.js";
import { PLUMBING_FORWARD_OPS, PLUMBING_OPS_DEFS } from "../ops/plumbing/definition.js";
import { DECODE_OPS_DEFS } from "../ops/decode/definition.js";
import { FORWARD_OPS, ShapeError, type OpDef } from "./ops.js";

/** the forward ops: those lowering emits, which autodiff differentiates (and the leaves) */
export const FORWARD_CATALOG: Readonly<Record<string, OpDef>> = {
  ...FORWARD_OPS,
  ...ATTENTION_FORWARD_OPS,
  ...ATTNRES_FORWARD_OPS,
  ...ELEMENTWISE_FORWARD_OPS,
  ...LOOKUP_FORWARD_OPS,
  ...MATMUL_FORWARD_OPS,
  ...NORMS_FORWARD_OPS,
  ...ROPE_FORWARD_OPS,
  ...SINKHORN_FORWARD_OPS,
  ...PLUMBING_FORWARD_OPS,
  ...STREAMS_FORWARD_OPS,
};

/** the ops autodiff emits */
export const BACKWARD_CATALOG: Readonly<Record<string, OpDef>> = {
  ...ATTENTION_BACKWARD_OPS,
  ...ATTNRES_BACKWARD_OPS,
  ...ELEMENTWISE_BACKWARD_OPS,
  ...LOOKUP_BACKWARD_OPS,
  ...NORMS_BACKWARD_OPS,
  ...ROPE_BACKWARD_OPS,
  ...SINKHORN_BACKWARD_OPS,
  ...STREAMS_BACKWARD_OPS,
  ...PLUMBING_OPS_DEFS,
};

/** the name of every op of the IR */
export type OpName =
  | keyof typeof FORWARD_OPS
  | keyof typeof ATTENTION_FORWARD_OPS
  | keyof typeof ATTENTION_BACKWARD_OPS
  | keyof typeof ATTNRES_FORWARD_OPS
  | keyof typeof ATTNRES_BACKWARD_OPS
  | keyof typeof ELEMENTWISE_FORWARD_OPS
  | keyof typeof ELEMENTWISE_BACKWARD_OPS
  | keyof typeof LOOKUP_FORWARD_OPS
  | keyof typeof LOOKUP_BACKWARD_OPS
  | keyof typeof MATMUL_FORWARD_OPS
  | keyof typeof NORMS_FORWARD_OPS
  | keyof typeof NORMS_BACKWARD_OPS
  | keyof typeof ROPE_FORWARD_OPS
  | keyof typeof ROPE_BACKWARD_OPS
  | keyof typeof SINKHORN_FORWARD_OPS
  | keyof typeof SINKHORN_BACKWARD_OPS
  | keyof typeof STREAMS_FORWARD_OPS
  | keyof typeof STREAMS_BACKWARD_OPS
  | keyof typeof PLUMBING_FORWARD_OPS
  | keyof typeof PLUMBING_OPS_DEFS
  | keyof typeof DECODE_OPS_DEFS
  | keyof typeof MATMUL_FUSED_OPS;

/**
 * the ops lowering emits instead of add_positions, rope and attention when it lowers a model for
 * decoding one position at a time (ir/lower/decode.ts): never differentiated
 */
export const DECODE_CATALOG: Readonly<Record<string, OpDef>> = DECODE_OPS_DEFS;

/** the ops compile passes make of others (passes/norm-prologue.ts): never differentiated */
export const PASS_CATALOG: Readonly<Record<string, OpDef>> = MATMUL_FUSED_OPS;

export const OPS: Readonly<Record<string, OpDef>> = {
  ...FORWARD_CATALOG,
  ...BACKWARD_CATALOG,
  ...DECODE_CATALOG,
  ...PASS_CATALOG,
};

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
