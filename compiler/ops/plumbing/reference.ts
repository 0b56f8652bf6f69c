// Float64 references of the plumbing ops, as definition.ts states them.

import { numel } from "../../ir/ir.js";
import type { ReferenceOp } from "../../reference/backward/common.js";
import { attrNumber, floats, resultOf } from "../../reference/backward/common.js";

export const fillRef: ReferenceOp = (_inputs, node) => {
  const out = resultOf(node);
  floats(out).fill(attrNumber(node, "value"));
  return out;
};

export const reshapeRef: ReferenceOp = ([x], node) => ({
  type: { dtype: x.type.dtype, shape: [...node.type.shape] },
  data: x.data.slice(),
});

export const reduceLeadingRef: ReferenceOp = ([x], node) => {
  const out = resultOf(node);
  const o = floats(out);
  const xs = floats(x);
  const inner = numel(node.type.shape);
  for (let i = 0; i < xs.length; i++) o[i % inner] += xs[i];
  return out;
};

export const sliceRef: ReferenceOp = ([x], node) => {
  const inner = numel(node.type.shape);
  const start = attrNumber(node, "index") * inner;
  return {
    type: { dtype: x.type.dtype, shape: [...node.type.shape] },
    data: x.data.slice(start, start + inner),
  };
};
