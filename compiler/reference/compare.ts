// Checking a kernel against the float64 reference: seeded inputs and the error bounded. Shared by
// the GPU tests (test/gpu-harness.ts) and `archc tune` (bench/tune/measure.ts), so a variant the
// tuner accepts meets exactly the bound the tests hold every kernel to.

/** normal-ish values in (-scale, scale) from a seeded LCG: never zeros, same every run */
export function seededValues(n: number, seed: number, scale = 1): Float32Array {
  let state = (seed * 2654435761) >>> 0;
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    out[i] = (state / 2 ** 32 - 0.5) * 2 * scale;
  }
  return out;
}

/**
 * max |gpu - ref| / max(max |ref|, 1e-6): a norm-wise relative error that does not blow up on
 * elements that happen to be near zero; Infinity when the lengths differ or a value is not finite
 */
export function relativeError(gpu: ArrayLike<number>, reference: ArrayLike<number>): number {
  if (gpu.length !== reference.length) return Infinity;
  let diff = 0;
  let magnitude = 0;
  for (let i = 0; i < reference.length; i++) {
    diff = Math.max(diff, Math.abs(gpu[i] - reference[i]));
    magnitude = Math.max(magnitude, Math.abs(reference[i]));
  }
  return Number.isFinite(diff) ? diff / Math.max(magnitude, 1e-6) : Infinity;
}
