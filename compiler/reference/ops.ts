// What the float64 references of the op families (compiler/ops/<family>/reference*.ts) share: the
// ReferenceOp signature and small numeric helpers. The references are written for clarity rather
// than speed: they are the oracle that GPU kernels and autodiff are tested against. Each receives
// its operands in catalog order and the node (for attrs and result type).

import type { Node } from "../ir/ir.js";
import type { Tensor } from "./tensor.js";
import { zerosF } from "./tensor.js";

export type ReferenceOp = (inputs: Tensor[], node: Node) => Tensor;

export function lastDim(t: Tensor): number {
  return t.type.shape[t.type.shape.length - 1];
}

export function attrNumber(node: Node, key: string): number {
  const v = node.attrs[key];
  if (typeof v !== "number")
    throw new Error(`${node.op} node %${node.id}: attribute ${key} must be a number`);
  return v;
}

export function mapElementwise(x: Tensor, node: Node, fn: (v: number) => number): Tensor {
  const out = zerosF(node.type.shape);
  for (let i = 0; i < out.data.length; i++) out.data[i] = fn(x.data[i]);
  return out;
}

export function sigmoid(v: number): number {
  return v >= 0 ? 1 / (1 + Math.exp(-v)) : Math.exp(v) / (1 + Math.exp(v));
}

/** softmax of a short list, shifted by its maximum so large logits do not overflow */
export function softmaxList(logits: number[]): number[] {
  const max = Math.max(...logits);
  const exps = logits.map((l) => Math.exp(l - max));
  const total = exps.reduce((a, b) => a + b, 0);
  return exps.map((e) => e / total);
}

export function inverseRms(data: ArrayLike<number>, offset: number, d: number, eps: number): number {
  let sumSquares = 0;
  for (let j = 0; j < d; j++) sumSquares += data[offset + j] * data[offset + j];
  return 1 / Math.sqrt(sumSquares / d + eps);
}

/** every computing op of the catalog; "input" and "param" are read by the interpreter instead */
