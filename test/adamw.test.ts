import { describe, expect, it } from "vitest";
import type { Param } from "../compiler/ir/ir.js";
import { adamwStep, clipFactor } from "../runtime/optim/adamw.js";
import { decayMask, decays, flatLayout } from "../runtime/optim/layout.js";
import { learningRate } from "../runtime/optim/schedule.js";

const HYPER = { beta1: 0.9, beta2: 0.95, eps: 1e-8, weightDecay: 0.1, clip: 0 };

function param(name: string, shape: number[], decay: boolean): Param {
  return { name, shape, init: { kind: "zeros" }, decay, group: "test" };
}

describe("flat parameter layout", () => {
  it("aligns segments and marks only decayed elements", () => {
    const layout = flatLayout([param("w", [2, 3], true), param("g", [5], false), param("u", [40], true)], 4);
    expect(layout.segments.map((s) => [s.offset, s.size])).toEqual([
      [0, 6],
      [8, 5],
      [16, 40],
    ]);
    expect(layout.total).toBe(56);
    const mask = decayMask(layout);
    const flags = Array.from({ length: layout.total }, (_, i) => decays(mask, i));
    expect(flags.slice(0, 16)).toEqual([...Array(6).fill(true), false, false, ...Array(8).fill(false)]);
    expect(flags.slice(16).every((f) => f)).toBe(true);
  });
});

describe("AdamW reference step", () => {
  it("matches a hand-computed first and second step, decaying only where the mask says", () => {
    const buffers = {
      params: Float64Array.from([1, -2]),
      grads: Float64Array.from([0.5, -0.25]),
      m: new Float64Array(2),
      v: new Float64Array(2),
    };
    const mask = Uint32Array.from([0b01]);
    adamwStep(buffers, mask, HYPER, 1, 0.1);
    // t=1: bias-corrected m/sqrt(v) is g/|g|, so each element moves by lr against its gradient's sign
    expect(buffers.params[0]).toBeCloseTo(1 * (1 - 0.1 * 0.1) - 0.1, 7);
    expect(buffers.params[1]).toBeCloseTo(-2 + 0.1, 7);
    expect(buffers.m[0]).toBeCloseTo(0.05, 12);
    expect(buffers.v[1]).toBeCloseTo(0.05 * 0.0625, 12);
    adamwStep(buffers, mask, HYPER, 2, 0.1);
    // t=2 with the same gradient: the corrected moments are again g and g^2
    expect(buffers.params[0]).toBeCloseTo(0.89 * 0.99 - 0.1, 7);
    expect(buffers.params[1]).toBeCloseTo(-1.8, 7);
    expect(buffers.m[0]).toBeCloseTo((1 - 0.81) * 0.5, 12);
  });

  it("clips by the global gradient norm before the moments, and reports the unclipped norm", () => {
    const run = (clip: number) => {
      const buffers = {
        params: new Float64Array(2),
        grads: Float64Array.from([3, 4]),
        m: new Float64Array(2),
        v: new Float64Array(2),
      };
      const norm = adamwStep(buffers, new Uint32Array(1), { ...HYPER, clip }, 1, 0.01);
      return { norm, m: Array.from(buffers.m), v: Array.from(buffers.v) };
    };
    const clipped = run(1);
    expect(clipped.norm).toBeCloseTo(5, 12);
    expect(clipped.m[0]).toBeCloseTo(0.1 * 0.6, 12);
    expect(clipped.m[1]).toBeCloseTo(0.1 * 0.8, 12);
    expect(clipped.v[1]).toBeCloseTo(0.05 * 0.64, 12);
    expect(run(0).m[0]).toBeCloseTo(0.1 * 3, 12);
    expect(run(10).m[0]).toBeCloseTo(0.1 * 3, 12);
    expect(clipFactor(0, 1)).toBe(1);
  });

  it("float32 storage stays within float32 rounding of the float64 oracle", () => {
    let state = 12345;
    const rand = () => ((state = (Math.imul(state, 1103515245) + 12345) >>> 0) / 2 ** 32) * 2 - 1;
    const n = 37;
    const init = Array.from({ length: n }, rand);
    const make = <T extends Float32Array | Float64Array>(ctor: new (n: number) => T) => ({
      params: Object.assign(new ctor(n), init),
      grads: new ctor(n),
      m: new ctor(n),
      v: new ctor(n),
    });
    const exact = make(Float64Array);
    const single = make(Float32Array);
    const mask = Uint32Array.from([0x5555_5555, 0x1f]);
    for (let t = 1; t <= 5; t++) {
      const g = Array.from({ length: n }, rand);
      exact.grads.set(g);
      single.grads.set(g);
      adamwStep(exact, mask, { ...HYPER, clip: 1 }, t, 1e-2);
      adamwStep(single, mask, { ...HYPER, clip: 1 }, t, 1e-2);
    }
    for (let i = 0; i < n; i++) expect(Math.abs(single.params[i] - exact.params[i])).toBeLessThan(1e-5);
  });
});

describe("learning-rate schedule", () => {
  const cosine = { kind: "cosine" as const, warmup: 4, minLrRatio: 0.1 };

  it("warms up linearly to the peak", () => {
    expect([0, 1, 2, 3].map((s) => learningRate(s, 1, cosine, 20))).toEqual([0.25, 0.5, 0.75, 1]);
    expect(learningRate(4, 1, cosine, 20)).toBeCloseTo(1, 12);
  });

  it("decays by a cosine to the floor at the last step, monotonically", () => {
    const lrs = Array.from({ length: 21 }, (_, s) => learningRate(s, 2, cosine, 21));
    expect(lrs[20]).toBeCloseTo(0.2, 12);
    expect(lrs[4 + 8]).toBeCloseTo(1.1, 12); // halfway through the 16 decay steps
    for (let s = 5; s < 21; s++) expect(lrs[s]).toBeLessThan(lrs[s - 1]);
    expect(learningRate(50, 2, cosine, 21)).toBeCloseTo(0.2, 12);
  });

  it("holds the peak after warmup when constant", () => {
    const constant = { kind: "constant" as const, warmup: 2, minLrRatio: 0 };
    expect([0, 1, 2, 99].map((s) => learningRate(s, 3, constant, 100))).toEqual([1.5, 3, 3, 3]);
  });
});
