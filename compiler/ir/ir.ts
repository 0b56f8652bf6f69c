// The tensor IR: one graph of single-output nodes in topological order, with static shapes.
// Node i produces value i. Inputs and parameters are nodes too (ops "input" and "param").
// Forward graphs, backward graphs (after autodiff) and fused graphs are all this one structure.

// value types and parameter initialisers are part of the executable format, which the IR shares
import type { DType, Init, Param } from "../../format/archx.js";
export type { DType, Init, Param };
export { numel } from "../../format/archx.js";

export interface TensorType {
  dtype: DType;
  shape: number[]; // [] is a scalar
}

export type AttrValue = number | string | boolean | number[];
export type Attrs = Record<string, AttrValue>;

export interface Node {
  id: number;
  op: string; // a key of OPS in ops.ts
  inputs: number[]; // value ids, all < id
  attrs: Attrs;
  type: TensorType;
  /** where it came from, e.g. "layers.2.mlp"; for dumps, kernel names and error messages */
  scope: string;
}

export interface Graph {
  name: string;
  params: Param[];
  nodes: Node[];
  /** named results: "logits", "loss", and after autodiff "grad.<param>" */
  outputs: Record<string, number>;
  /**
   * a decoding graph's key and value caches (lower/decode.ts): input `input` holds the earlier
   * positions, and output `present` is this position's row, which the runtime writes into it
   */
  caches?: DecodeCache[];
}

export interface DecodeCache {
  input: string;
  present: string;
}

export function typeToString(t: TensorType): string {
  return `${t.dtype}[${t.shape.join(",")}]`;
}

export function sameShape(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}
