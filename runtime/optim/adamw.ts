// CPU reference of one AdamW step over the flat parameter layout: global-norm gradient clipping,
// Adam moments with bias correction, decoupled weight decay where the decay mask says so.
// Written against Float64Array (the oracle) or Float32Array (rounds as the GPU kernel stores).

import type { OptimizerSpec } from "../../format/spec.js";
import { decays } from "./layout.js";

export type FloatArray = Float32Array | Float64Array;

export type AdamwHyper = Pick<OptimizerSpec, "beta1" | "beta2" | "eps" | "weightDecay" | "clip">;

export interface AdamwBuffers {
  params: FloatArray;
  grads: FloatArray;
  m: FloatArray;
  v: FloatArray;
}

export function globalGradNorm(grads: ArrayLike<number>): number {
  let sum = 0;
  for (let i = 0; i < grads.length; i++) sum += grads[i] * grads[i];
  return Math.sqrt(sum);
}

/** the factor min(1, clip / norm) gradients are scaled by; clip = 0 disables clipping */
export function clipFactor(norm: number, clip: number): number {
  return clip > 0 && norm > clip ? clip / norm : 1;
}

/**
 * One update in place at 1-based step `t` with learning rate `lr`:
 * g = grad * clipFactor; m = b1 m + (1-b1) g; v = b2 v + (1-b2) g^2;
 * p = p (1 - lr wd [decays]) - lr (m / (1-b1^t)) / (sqrt(v / (1-b2^t)) + eps).
 * Returns the unclipped global gradient norm.
 */
export function adamwStep(
  buffers: AdamwBuffers,
  mask: Uint32Array,
  hyper: AdamwHyper,
  t: number,
  lr: number,
): number {
  if (!Number.isInteger(t) || t < 1) throw new Error(`AdamW step must be a positive integer, got ${t}`);
  const { params, grads, m, v } = buffers;
  const norm = globalGradNorm(grads);
  const scale = clipFactor(norm, hyper.clip);
  const correction1 = 1 - Math.pow(hyper.beta1, t);
  const correction2 = 1 - Math.pow(hyper.beta2, t);
  for (let i = 0; i < params.length; i++) {
    const g = grads[i] * scale;
    m[i] = hyper.beta1 * m[i] + (1 - hyper.beta1) * g;
    v[i] = hyper.beta2 * v[i] + (1 - hyper.beta2) * g * g;
    const decayed = decays(mask, i) ? params[i] * (1 - lr * hyper.weightDecay) : params[i];
    params[i] = decayed - (lr * (m[i] / correction1)) / (Math.sqrt(v[i] / correction2) + hyper.eps);
  }
  return norm;
}
