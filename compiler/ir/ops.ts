// What an op definition is (OpDef: operands, attributes, the rule giving the result type), the
// helpers shape rules share, and the two leaves, input and param. Every other op is defined by its
// family (compiler/ops/<family>/definition.ts); catalog.ts gathers them all. Semantics are stated
// in those definitions once; every implementation (float64 reference, WGSL) must match them.

import type { Attrs, TensorType } from "./ir.js";
import { numel, sameShape, typeToString } from "./ir.js";

export class ShapeError extends Error {}

export interface OpDef {
  /** what the op computes, in one or two lines */
  doc: string;
  /** number of operands, or "variadic" (attrs say how many) */
  arity: number | "variadic";
  /** attributes the op requires */
  attrs: string[];
  /** result type from operand types and attrs; throws ShapeError when they do not fit */
  infer(inputs: TensorType[], attrs: Attrs): TensorType;
  /** elementwise ops are fusable into a single kernel with their neighbours */
  elementwise?: boolean;
}

export function fail(msg: string): never {
  throw new ShapeError(msg);
}

export function f32(shape: number[]): TensorType {
  return { dtype: "f32", shape };
}

export function expectF32(t: TensorType, what: string): void {
  if (t.dtype !== "f32") fail(`${what} must be f32, got ${typeToString(t)}`);
}

export function last(shape: readonly number[]): number {
  if (shape.length === 0) fail("expected a tensor of rank >= 1, got a scalar");
  return shape[shape.length - 1];
}

export function sameAs(inputs: TensorType[]): TensorType {
  const [a, ...rest] = inputs;
  expectF32(a, "operand");
  for (const b of rest)
    if (!sameShape(a.shape, b.shape)) fail(`shape mismatch: ${typeToString(a)} vs ${typeToString(b)}`);
  return f32([...a.shape]);
}

export function num(attrs: Attrs, key: string): number {
  const v = attrs[key];
  if (typeof v !== "number") fail(`attribute ${key} must be a number`);
  return v;
}

/** rows of a 2-D view: all leading dimensions flattened */
export function rowsOf(shape: readonly number[]): number {
  return numel(shape.slice(0, -1));
}

export const FORWARD_OPS = {
  input: {
    doc: "a graph input fed at run time (attrs: name, dtype, shape)",
    arity: 0,
    attrs: ["name", "dtype", "shape"],
    infer: (_i, a) => ({ dtype: a.dtype === "i32" ? "i32" : "f32", shape: [...(a.shape as number[])] }),
  },
  param: {
    doc: "a trainable parameter (attrs: name, shape); its initialiser is in Graph.params",
    arity: 0,
    attrs: ["name", "shape"],
    infer: (_i, a) => f32([...(a.shape as number[])]),
  },
} satisfies Record<string, OpDef>;
