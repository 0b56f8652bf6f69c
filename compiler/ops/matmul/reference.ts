// Float64 reference of matmul, with its transposes and broadcast batch dimensions, as definition.ts states it.

import { rowsOf } from "../../ir/ops.js";
import { lastDim, type ReferenceOp } from "../../reference/ops.js";
import { zerosF } from "../../reference/tensor.js";
import { rmsnormReference } from "../norms/reference.js";

export const matmulReference: ReferenceOp = ([a, b], node) => {
  const ta = node.attrs.ta === true;
  const tb = node.attrs.tb === true;
  const aRows = rowsOf(a.type.shape);
  const aCols = lastDim(a);
  const bRows = rowsOf(b.type.shape);
  const bCols = lastDim(b);
  const m = ta ? aCols : aRows;
  const k = ta ? aRows : aCols;
  const n = tb ? bRows : bCols;
  // element (i, kk) of op(A) and (kk, j) of op(B) in the stored row-major views
  const aAt = (i: number, kk: number) => (ta ? a.data[kk * aCols + i] : a.data[i * aCols + kk]);
  const bAt = (kk: number, j: number) => (tb ? b.data[j * bCols + kk] : b.data[kk * bCols + j]);
  const out = zerosF(node.type.shape);
  for (let i = 0; i < m; i++)
    for (let j = 0; j < n; j++) {
      let sum = 0;
      for (let kk = 0; kk < k; kk++) sum += aAt(i, kk) * bAt(kk, j);
      out.data[i * n + j] = sum;
    }
  return out;
};

/** rmsnorm_matmul: the norm's reference, then the product's, exactly as the op is defined */
export const rmsnormMatmulReference: ReferenceOp = ([x, gain, w], node) => {
  const normed = rmsnormReference([x, gain], {
    ...node,
    op: "rmsnorm",
    type: x.type,
    attrs: { eps: node.attrs.eps },
  });
  return matmulReference([normed, w], {
    ...node,
    op: "matmul",
    attrs: { ta: false, tb: node.attrs.tb === true },
  });
};
