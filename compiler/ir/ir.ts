// The tensor IR: one graph of single-output nodes in topological order, with static shapes.
// Node i produces value i. Inputs and parameters are nodes too (ops "input" and "param").
// Forward graphs, backward graphs (after autodiff) and fused graphs are all this one structure.

// value types and parameter initialisers are part of the executable format, which the IR shares
import type { DType, Init } from "../../format/archx.js";
export type { DType, Init };

export interface TensorType {
  dtype: DType;
  shape: number[]; // [] is a scalar
}

export type AttrValue = number | string | boolean | number[];
export type Attrs = Record<string, AttrValue>;

export interface Param {
  name: string; // dotted path, e.g. "layers.3.attn.wq"; stable across variants that share it
  shape: number[];
  init: Init;
  /** AdamW weight decay applies (false for norms, biases, pseudo-queries, AttnRes gains) */
  decay: boolean;
  /** component for `archc inspect`: "embedding", "attention", "mlp", "norm", "attnres", "head", "position" */
  group: string;
}

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
}

export function numel(shape: readonly number[]): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

export function typeToString(t: TensorType): string {
  return `${t.dtype}[${t.shape.join(",")}]`;
}

export function sameShape(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}
