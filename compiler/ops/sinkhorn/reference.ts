// Float64 reference of sinkhorn, exactly as definition.ts states it: the oracle for kernel.ts.

import { attrNumber, lastDim, type ReferenceOp } from "../../reference/ops.js";
import { zerosF } from "../../reference/tensor.js";

export type SinkhornAxis = "column" | "row";

/** the axis the step-th normalisation (0-based) runs along: columns first, then rows */
export const stepAxis = (step: number): SinkhornAxis => (step % 2 === 0 ? "column" : "row");

/** flat index of the k-th element of line `line` of an n×n matrix along `axis` */
export const lineIndex = (axis: SinkhornAxis, n: number, line: number, k: number): number =>
  axis === "column" ? k * n + line : line * n + k;

/** log sum exp of each line of `m` (n×n, row-major) along `axis`, shifted by the line's maximum */
export function lineLogSumExp(m: Float64Array, n: number, axis: SinkhornAxis): Float64Array {
  const lse = new Float64Array(n);
  for (let line = 0; line < n; line++) {
    let peak = -Infinity;
    for (let k = 0; k < n; k++) peak = Math.max(peak, m[lineIndex(axis, n, line, k)]);
    let total = 0;
    for (let k = 0; k < n; k++) total += Math.exp(m[lineIndex(axis, n, line, k)] - peak);
    lse[line] = peak + Math.log(total);
  }
  return lse;
}

/** one normalisation step, in place: every line of `axis` minus its log sum exp */
export function normaliseLines(m: Float64Array, n: number, axis: SinkhornAxis): void {
  const lse = lineLogSumExp(m, n, axis);
  for (let line = 0; line < n; line++)
    for (let k = 0; k < n; k++) m[lineIndex(axis, n, line, k)] -= lse[line];
}

export const sinkhornReference: ReferenceOp = ([x], node) => {
  const iterations = attrNumber(node, "iterations");
  const n = lastDim(x);
  const out = zerosF(node.type.shape);
  for (let base = 0; base < x.data.length; base += n * n) {
    const m = Float64Array.from(x.data.subarray(base, base + n * n));
    for (let step = 0; step < 2 * iterations; step++) normaliseLines(m, n, stepAxis(step));
    for (let k = 0; k < n * n; k++) out.data[base + k] = Math.exp(m[k]);
  }
  return out;
};
