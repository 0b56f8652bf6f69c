// Float64 references of the elementwise ops, as definition.ts states them.

import { attrNumber, mapElementwise, sigmoid, type ReferenceOp } from "../../reference/ops.js";
import { zerosF } from "../../reference/tensor.js";

export const addReference: ReferenceOp = ([a, b], node) => {
  const out = zerosF(node.type.shape);
  const period = b.data.length; // b is a suffix of a's shape (or a scalar), so it repeats every numel(b) elements
  for (let i = 0; i < out.data.length; i++) out.data[i] = a.data[i] + b.data[i % period];
  return out;
};

export const mulReference: ReferenceOp = ([a, b], node) => {
  const out = zerosF(node.type.shape);
  const period = b.data.length; // broadcast like add's b
  for (let i = 0; i < out.data.length; i++) out.data[i] = a.data[i] * b.data[i % period];
  return out;
};

export const scaleReference: ReferenceOp = ([a], node) => {
  const factor = attrNumber(node, "factor");
  return mapElementwise(a, node, (v) => v * factor);
};

const GELU_C = Math.sqrt(2 / Math.PI);

export const geluReference: ReferenceOp = ([x], node) =>
  mapElementwise(x, node, (v) => 0.5 * v * (1 + Math.tanh(GELU_C * (v + 0.044715 * v * v * v))));

export const siluReference: ReferenceOp = ([x], node) => mapElementwise(x, node, (v) => v * sigmoid(v));

export const tanhReference: ReferenceOp = ([x], node) => mapElementwise(x, node, Math.tanh);

export const sigmoidReference: ReferenceOp = ([x], node) => mapElementwise(x, node, sigmoid);
