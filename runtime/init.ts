// Seeded parameter initialisation. Each parameter's values depend only on (seed, name, shape), never
// on which other parameters exist, so two model variants sharing a parameter start from identical
// values and an ablation compares like with like.

import { numel, type Init, type Param } from "../format/archx.js";

/** FNV-1a over the UTF-16 code units: a stable 32-bit fingerprint of a parameter's identity */
function hashString(text: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    hash ^= text.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return hash >>> 0;
}

/** splitmix32: tiny, fast, and every 32-bit state gives a well-mixed independent stream */
function splitmix32(initial: number): () => number {
  let state = initial >>> 0;
  return () => {
    state = (state + 0x9e3779b9) >>> 0;
    let z = state;
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
    return (z ^ (z >>> 16)) >>> 0;
  };
}

/** uniform in the open interval (0, 1), so Box–Muller never takes log(0) */
function uniformOpen(next: () => number): number {
  return (next() + 0.5) / 2 ** 32;
}

export function paramStream(seed: number, name: string, shape: readonly number[]): () => number {
  const identity = hashString(`${name}:${shape.join("x")}`);
  const mixed = splitmix32(identity ^ Math.imul(seed >>> 0, 0x9e3779b1))();
  return splitmix32(mixed);
}

function fill(values: Float32Array, init: Init, next: () => number): void {
  switch (init.kind) {
    case "zeros":
      values.fill(0);
      return;
    case "ones":
      values.fill(1);
      return;
    case "values":
      values.set(init.values);
      return;
    case "normal":
      // Box–Muller yields two independent normals per pair of uniforms
      for (let i = 0; i < values.length; i += 2) {
        const radius = Math.sqrt(-2 * Math.log(uniformOpen(next)));
        const angle = 2 * Math.PI * uniformOpen(next);
        values[i] = init.std * radius * Math.cos(angle);
        if (i + 1 < values.length) values[i + 1] = init.std * radius * Math.sin(angle);
      }
      return;
  }
}

export function initParam(param: Param, seed: number): Float32Array {
  const values = new Float32Array(numel(param.shape));
  fill(values, param.init, paramStream(seed, param.name, param.shape));
  return values;
}

export function initParams(params: Param[], seed: number): Map<string, Float32Array> {
  return new Map(params.map((p) => [p.name, initParam(p, seed)]));
}
