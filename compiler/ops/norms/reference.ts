// Float64 references of RMSNorm and LayerNorm over the last dimension, as definition.ts states them.

import { rowsOf } from "../../ir/ops.js";
import { lastDim, attrNumber, inverseRms, type ReferenceOp } from "../../reference/ops.js";
import { zerosF } from "../../reference/tensor.js";

export const rmsnormReference: ReferenceOp = ([x, gain], node) => {
  const eps = attrNumber(node, "eps");
  const d = lastDim(x);
  const out = zerosF(node.type.shape);
  for (let r = 0; r < rowsOf(x.type.shape); r++) {
    const inv = inverseRms(x.data, r * d, d, eps);
    for (let j = 0; j < d; j++) out.data[r * d + j] = x.data[r * d + j] * inv * gain.data[j];
  }
  return out;
};

export const layernormReference: ReferenceOp = ([x, gain, bias], node) => {
  const eps = attrNumber(node, "eps");
  const d = lastDim(x);
  const out = zerosF(node.type.shape);
  for (let r = 0; r < rowsOf(x.type.shape); r++) {
    const base = r * d;
    let mean = 0;
    for (let j = 0; j < d; j++) mean += x.data[base + j];
    mean /= d;
    let variance = 0;
    for (let j = 0; j < d; j++) variance += (x.data[base + j] - mean) ** 2;
    variance /= d;
    const inv = 1 / Math.sqrt(variance + eps);
    for (let j = 0; j < d; j++)
      out.data[base + j] = (x.data[base + j] - mean) * inv * gain.data[j] + bias.data[j];
  }
  return out;
};
