// rmsnorm and layernorm backward, row by row over the last dim.

import type { ReferenceOp } from "../../reference/backward/common.js";
import { attrNumber, floats, lastDim, resultOf } from "../../reference/backward/common.js";
import { inverseRms } from "../../reference/ops.js";

export const rmsnormGradXRef: ReferenceOp = ([x, gain, dy], node) => {
  const eps = attrNumber(node, "eps");
  const d = lastDim(x);
  const [xs, g, dys] = [floats(x), floats(gain), floats(dy)];
  const out = resultOf(node);
  const o = floats(out);
  for (let row = 0; row < xs.length / d; row++) {
    const base = row * d;
    let sq = 0;
    let dot = 0;
    for (let j = 0; j < d; j++) {
      sq += xs[base + j] * xs[base + j];
      dot += dys[base + j] * g[j] * xs[base + j];
    }
    const r = 1 / Math.sqrt(sq / d + eps);
    for (let j = 0; j < d; j++) o[base + j] = r * dys[base + j] * g[j] - (r * r * r * xs[base + j] * dot) / d;
  }
  return out;
};

export const rmsnormGradGainRef: ReferenceOp = ([x, dy], node) => {
  const eps = attrNumber(node, "eps");
  const d = lastDim(x);
  const [xs, dys] = [floats(x), floats(dy)];
  const out = resultOf(node);
  const o = floats(out);
  for (let row = 0; row < xs.length / d; row++) {
    const base = row * d;
    const r = inverseRms(xs, base, d, eps);
    for (let j = 0; j < d; j++) o[base + j] = dys[base + j] * xs[base + j] * r;
  }
  return out;
};

function normalisedRow(
  xs: Float64Array,
  base: number,
  d: number,
  eps: number,
): { xh: number[]; rstd: number } {
  let mean = 0;
  for (let j = 0; j < d; j++) mean += xs[base + j];
  mean /= d;
  let variance = 0;
  for (let j = 0; j < d; j++) variance += (xs[base + j] - mean) ** 2;
  const rstd = 1 / Math.sqrt(variance / d + eps);
  return { xh: Array.from({ length: d }, (_, j) => (xs[base + j] - mean) * rstd), rstd };
}

export const layernormGradXRef: ReferenceOp = ([x, gain, dy], node) => {
  const eps = attrNumber(node, "eps");
  const d = lastDim(x);
  const [xs, g, dys] = [floats(x), floats(gain), floats(dy)];
  const out = resultOf(node);
  const o = floats(out);
  for (let row = 0; row < xs.length / d; row++) {
    const base = row * d;
    const { xh, rstd } = normalisedRow(xs, base, d, eps);
    let meanU = 0;
    let meanUXh = 0;
    for (let j = 0; j < d; j++) {
      const u = dys[base + j] * g[j];
      meanU += u / d;
      meanUXh += (u * xh[j]) / d;
    }
    for (let j = 0; j < d; j++) o[base + j] = rstd * (dys[base + j] * g[j] - meanU - xh[j] * meanUXh);
  }
  return out;
};

export const layernormGradGainRef: ReferenceOp = ([x, dy], node) => {
  const eps = attrNumber(node, "eps");
  const d = lastDim(x);
  const [xs, dys] = [floats(x), floats(dy)];
  const out = resultOf(node);
  const o = floats(out);
  for (let row = 0; row < xs.length / d; row++) {
    const { xh } = normalisedRow(xs, row * d, d, eps);
    for (let j = 0; j < d; j++) o[row * d + j] = dys[row * d + j] * xh[j];
  }
  return out;
};
