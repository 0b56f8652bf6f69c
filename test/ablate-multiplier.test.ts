import { describe, expect, it } from "vitest";
import {
  fitPowerLaw,
  fittedMultiplier,
  fittedMultipliers,
  interpolatedMultiplier,
  multiplierOverSeeds,
  type ComputePoint,
} from "../ablate/report/multiplier.js";

// Baseline L_b(C) = 10 C^-0.1; the variant reaches at C what the baseline reaches at 1.25 C.
const baselineLoss = (c: number) => 10 * c ** -0.1;
const variantLoss = (c: number) => baselineLoss(1.25 * c);
// Evaluations at 1e12 * 2^k: 1.25 * C_variant never lands on one, so the interpolation is exercised.
const grid = Array.from({ length: 21 }, (_, k) => 1e12 * 2 ** k);
const baselineCurve: ComputePoint[] = grid.map((flops) => ({ flops, loss: baselineLoss(flops) }));

describe("interpolatedMultiplier", () => {
  it("recovers the known multiplier of a shifted power law", () => {
    for (const flops of [3e13, 1e15, 7.7e16]) {
      const r = interpolatedMultiplier(baselineCurve, { flops, loss: variantLoss(flops) });
      expect(r.multiplier).toBeDefined();
      expect(Math.abs(r.multiplier! - 1.25)).toBeLessThan(1e-6);
    }
  });

  it("gives 1 for the baseline against itself and below 1 for a worse variant", () => {
    const same = interpolatedMultiplier(baselineCurve, { flops: 1e15, loss: baselineLoss(1e15) });
    expect(same.multiplier).toBeCloseTo(1, 9);
    const worse = interpolatedMultiplier(baselineCurve, { flops: 1e15, loss: baselineLoss(0.5e15) });
    expect(worse.multiplier).toBeCloseTo(0.5, 9);
  });

  it("hits an evaluation exactly, including the first one", () => {
    const r = interpolatedMultiplier(baselineCurve, { flops: 5e11, loss: baselineLoss(1e12) });
    expect(r.multiplier).toBe(2);
  });

  it("gives a reason and a lower bound when the baseline never gets that low", () => {
    const last = grid[grid.length - 1];
    const r = interpolatedMultiplier(baselineCurve, { flops: last, loss: baselineLoss(last) - 0.01 });
    expect(r.multiplier).toBeUndefined();
    if (r.multiplier !== undefined) return;
    expect(r.reason).toMatch(/^the baseline never reaches val loss \d\.\d{4} within its 1\.05e18 FLOPs$/);
    expect(r.lowerBound).toBe(1);
  });

  it("gives a reason and an upper bound when the baseline starts below the variant", () => {
    const r = interpolatedMultiplier(baselineCurve, { flops: 1e15, loss: baselineLoss(1e11) });
    expect(r.multiplier).toBeUndefined();
    if (r.multiplier !== undefined) return;
    expect(r.reason).toMatch(/already below val loss .* at its first evaluation/);
    expect(r.upperBound).toBeCloseTo(1e12 / 1e15, 18);
    expect(r.lowerBound).toBeUndefined();
  });

  it("uses the best loss so far on a non-monotone curve", () => {
    // Loss rises from 4 to 4.5 and comes back: the best-so-far curve is 5, 4, 4, 3.8, 3.
    const bumpy: ComputePoint[] = [
      { flops: 1e15, loss: 5 },
      { flops: 2e15, loss: 4 },
      { flops: 4e15, loss: 4.5 },
      { flops: 8e15, loss: 3.8 },
      { flops: 16e15, loss: 3 },
    ];
    // 4.4 is first reached between 1e15 and 2e15, not on the way down from the bump at 4e15.
    // Expected: exp(ln 1e15 + t ln 2) with t = ln(5/4.4) / ln(5/4), by hand (python: 1.4874849202372633e15).
    expect(interpolatedMultiplier(bumpy, { flops: 1e15, loss: 4.4 }).multiplier).toBeCloseTo(
      1.4874849202372633,
      12,
    );
    // 3.9 lies between the plateau at 4 (last held at 4e15) and 3.8 at 8e15 (python: 5.631772440027081e15).
    expect(interpolatedMultiplier(bumpy, { flops: 1e15, loss: 3.9 }).multiplier).toBeCloseTo(
      5.631772440027081,
      12,
    );
    // 4.2 on the way up the bump does not count: the baseline was at 4 by 2e15.
    const r = interpolatedMultiplier(bumpy, { flops: 1e15, loss: 4.2 });
    expect(r.multiplier!).toBeLessThan(2);
  });

  it("drops the step-0 evaluation and skips diverged points", () => {
    const withStart: ComputePoint[] = [{ flops: 0, loss: 5.55 }, ...baselineCurve];
    const r = interpolatedMultiplier(withStart, { flops: 1e15, loss: variantLoss(1e15) });
    expect(Math.abs(r.multiplier! - 1.25)).toBeLessThan(1e-6);
    const withNaN = baselineCurve.map((p, k) => (k === 10 ? { ...p, loss: NaN } : p));
    expect(
      interpolatedMultiplier(withNaN, { flops: 1e15, loss: variantLoss(1e15) }).multiplier,
    ).toBeDefined();
    const diverged = interpolatedMultiplier(baselineCurve, { flops: 1e15, loss: NaN });
    expect(diverged.multiplier).toBeUndefined();
  });

  it("refuses a curve out of compute order", () => {
    expect(() => interpolatedMultiplier([...baselineCurve].reverse(), { flops: 1e15, loss: 3 })).toThrow(
      /increasing compute order/,
    );
  });
});

describe("fitPowerLaw", () => {
  it("recovers a and b exactly from noise-free data", () => {
    const fit = fitPowerLaw(baselineCurve);
    expect(fit.a).toBeCloseTo(10, 9);
    expect(fit.b).toBeCloseTo(0.1, 12);
    expect(fit.r2).toBeCloseTo(1, 12);
  });

  it("has r2 below 1 on noisy data", () => {
    const noisy = baselineCurve.map((p, k) => ({ ...p, loss: p.loss * (k % 2 === 0 ? 1.02 : 0.98) }));
    const fit = fitPowerLaw(noisy);
    expect(fit.r2).toBeLessThan(0.999);
    expect(fit.b).toBeCloseTo(0.1, 2);
  });

  it("needs two distinct compute values and positive numbers", () => {
    expect(() => fitPowerLaw([{ flops: 1e12, loss: 3 }])).toThrow(/at least 2 points with distinct compute/);
    expect(() =>
      fitPowerLaw([
        { flops: 1e12, loss: 3 },
        { flops: 1e12, loss: 2 },
      ]),
    ).toThrow(/distinct/);
    expect(() => fitPowerLaw([{ flops: 0, loss: 5.5 }, ...baselineCurve])).toThrow(/step-0/);
  });
});

describe("fittedMultiplier", () => {
  it("recovers the known multiplier at every compute", () => {
    const baselineFit = fitPowerLaw(baselineCurve);
    const variantFit = fitPowerLaw(grid.map((flops) => ({ flops, loss: variantLoss(flops) })));
    for (const { multiplier } of fittedMultipliers(baselineFit, variantFit, [1e12, 1e15, 1e18])) {
      expect(Math.abs(multiplier - 1.25)).toBeLessThan(1e-9);
    }
  });

  it("follows the formula when the exponents differ", () => {
    // L_v = 8 C^-0.12 at C = 1e15; the baseline 10 C^-0.1 needs C' = (L_v / 10)^(-1/0.1).
    const c = 1e15;
    const expected = ((8 * c ** -0.12) / 10) ** (-1 / 0.1) / c;
    const m = fittedMultiplier({ a: 10, b: 0.1, r2: 1 }, { a: 8, b: 0.12, r2: 1 }, c);
    expect(m / expected).toBeCloseTo(1, 10);
    expect(() => fittedMultiplier({ a: 10, b: 0, r2: 1 }, { a: 8, b: 0.1, r2: 1 }, c)).toThrow(
      /does not improve/,
    );
  });
});

describe("multiplierOverSeeds", () => {
  it("averages the measurable seeds and counts the rest", () => {
    const r = multiplierOverSeeds([1.2, undefined, 1.4]);
    expect(r.mean).toBeCloseTo(1.3, 14);
    expect(r.std).toBeCloseTo(Math.sqrt(0.02), 14);
    expect({ n: r.n, notMeasurable: r.notMeasurable }).toEqual({ n: 2, notMeasurable: 1 });
    expect(multiplierOverSeeds([undefined])).toEqual({
      mean: undefined,
      std: undefined,
      n: 0,
      notMeasurable: 1,
    });
  });
});
