// Pointwise derivatives of gelu, silu, tanh and sigmoid, the oracle for kernel-backward.ts.

import type { ReferenceOp } from "../../reference/backward/common.js";
import { floats, resultOf, sigmoid } from "../../reference/backward/common.js";

const GELU_K = Math.sqrt(2 / Math.PI);

export function geluDerivative(x: number): number {
  const u = GELU_K * (x + 0.044715 * x * x * x);
  const t = Math.tanh(u);
  return 0.5 * (1 + t) + 0.5 * x * (1 - t * t) * GELU_K * (1 + 3 * 0.044715 * x * x);
}

export function siluDerivative(x: number): number {
  const s = sigmoid(x);
  return s * (1 + x * (1 - s));
}

function pointwise(derivative: (x: number) => number): ReferenceOp {
  return ([x, dy], node) => {
    const out = resultOf(node);
    const o = floats(out);
    const xs = floats(x);
    const g = floats(dy);
    for (let i = 0; i < o.length; i++) o[i] = g[i] * derivative(xs[i]);
    return out;
  };
}

export const geluGradRef = pointwise(geluDerivative);
export const siluGradRef = pointwise(siluDerivative);
export const tanhGradRef = pointwise((x) => 1 - Math.tanh(x) ** 2);
export const sigmoidGradRef = pointwise((x) => sigmoid(x) * (1 - sigmoid(x)));
