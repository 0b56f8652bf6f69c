// Float64 reference of sinkhorn_grad. Unlike the kernel, which recomputes each iterate from x, it
// keeps every iterate and takes the softmax of each step's input afresh, so the two share no trick.

import type { ReferenceOp } from "../../reference/backward/common.js";
import { attrNumber, floats, lastDim, resultOf } from "../../reference/backward/common.js";
import { lineIndex, lineLogSumExp, normaliseLines, stepAxis } from "./reference.js";

/** dx of one matrix at `base`, written into `dx` */
function matrixBackward(
  x: Float64Array,
  dy: Float64Array,
  dx: Float64Array,
  base: number,
  n: number,
  iterations: number,
): void {
  const steps = 2 * iterations;
  // iterates[s] is the input of step s; iterates[steps] the final L
  const iterates = [Float64Array.from(x.subarray(base, base + n * n))];
  for (let s = 0; s < steps; s++) {
    const next = Float64Array.from(iterates[s]);
    normaliseLines(next, n, stepAxis(s));
    iterates.push(next);
  }
  const g = iterates[steps].map((l, k) => dy[base + k] * Math.exp(l));
  for (let s = steps - 1; s >= 0; s--) {
    const axis = stepAxis(s);
    const input = iterates[s];
    const lse = lineLogSumExp(input, n, axis);
    for (let line = 0; line < n; line++) {
      let sum = 0;
      for (let k = 0; k < n; k++) sum += g[lineIndex(axis, n, line, k)];
      for (let k = 0; k < n; k++) {
        const at = lineIndex(axis, n, line, k);
        g[at] -= Math.exp(input[at] - lse[line]) * sum;
      }
    }
  }
  dx.set(g, base);
}

export const sinkhornGradRef: ReferenceOp = ([x, dy], node) => {
  const iterations = attrNumber(node, "iterations");
  const n = lastDim(x);
  const out = resultOf(node);
  for (let base = 0; base < x.data.length; base += n * n)
    matrixBackward(floats(x), floats(dy), floats(out), base, n, iterations);
  return out;
};
