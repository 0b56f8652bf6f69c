// Small helpers shared by the float64 references of the backward ops.

import type { Node } from "../../ir/ir.js";
import type { Tensor } from "../tensor.js";
import { zerosF } from "../tensor.js";

export type ReferenceOp = (inputs: Tensor[], node: Node) => Tensor;

export function floats(t: Tensor): Float64Array {
  if (!(t.data instanceof Float64Array)) throw new Error(`expected an f32 tensor, got ${t.type.dtype}`);
  return t.data;
}

export function ints(t: Tensor): Int32Array {
  if (!(t.data instanceof Int32Array)) throw new Error(`expected an i32 tensor, got ${t.type.dtype}`);
  return t.data;
}

export function resultOf(node: Node): Tensor {
  return zerosF(node.type.shape);
}

export function lastDim(t: Tensor): number {
  return t.type.shape[t.type.shape.length - 1];
}

export function attrNumber(node: Node, key: string): number {
  const v = node.attrs[key];
  if (typeof v !== "number") throw new Error(`${node.op}: attribute ${key} must be a number`);
  return v;
}

export function sigmoid(x: number): number {
  return x >= 0 ? 1 / (1 + Math.exp(-x)) : Math.exp(x) / (1 + Math.exp(x));
}

/** softmax, elementwise sigmoid or (static weights only) identity of `logits`: the depth normalisers */
export function normaliseScores(logits: number[], score: unknown): number[] {
  if (score === "sigmoid") return logits.map(sigmoid);
  if (score === "linear") return [...logits];
  const max = Math.max(...logits);
  const e = logits.map((l) => Math.exp(l - max));
  const sum = e.reduce((a, b) => a + b, 0);
  return e.map((x) => x / sum);
}

/** d(logits) from d(alpha) through the normaliser's Jacobian */
export function scoreBackward(alpha: number[], dAlpha: number[], score: unknown): number[] {
  if (score === "sigmoid") return alpha.map((a, i) => dAlpha[i] * a * (1 - a));
  if (score === "linear") return [...dAlpha];
  let dot = 0;
  alpha.forEach((a, i) => (dot += a * dAlpha[i]));
  return alpha.map((a, i) => a * (dAlpha[i] - dot));
}
