import { describe, expect, it } from "vitest";
import { meanRatio, relativeChange, summarize, tCritical, welchInterval } from "../ablate/report/stats.js";

describe("summarize", () => {
  it("uses the sample standard deviation (n - 1)", () => {
    // 2, 4, 4, 4, 5, 5, 7, 9: mean 5, sum of squared deviations 32, so sample variance 32 / 7.
    const s = summarize([2, 4, 4, 4, 5, 5, 7, 9]);
    expect(s).toEqual({ n: 8, mean: 5, std: Math.sqrt(32 / 7), min: 2, max: 9 });
  });

  it("gives std 0 for one value and refuses none", () => {
    expect(summarize([3.5])).toEqual({ n: 1, mean: 3.5, std: 0, min: 3.5, max: 3.5 });
    expect(() => summarize([])).toThrow(/no values/);
  });
});

describe("tCritical", () => {
  it("matches published t-table values", () => {
    // Two-sided 95%: t_{0.975, 10} = 2.228138852, t_{0.975, 1} = 12.70620474, t_{0.975, 8} = 2.306004135
    // (NIST/SEMATECH e-Handbook, table 1.3.6.7.2; more digits from scipy.stats.t.ppf).
    expect(tCritical(10)).toBeCloseTo(2.228138852, 8);
    expect(tCritical(1)).toBeCloseTo(12.70620474, 7);
    expect(tCritical(8)).toBeCloseTo(2.306004135, 8);
    // Two-sided 90% uses the 0.95 quantile: t_{0.95, 8} = 1.859548038.
    expect(tCritical(8, 0.9)).toBeCloseTo(1.859548038, 8);
  });

  it("rejects a level outside (0, 1)", () => {
    expect(() => tCritical(5, 95)).toThrow(/level/);
  });
});

describe("welchInterval", () => {
  it("matches a case worked by hand", () => {
    // a = 1..5, b = 4..8: both sample variances 2.5, so se = sqrt(2.5/5 + 2.5/5) = 1 and
    // df = 1^2 / (0.5^2/4 + 0.5^2/4) = 8; diff = 6 - 3 = 3; interval 3 -/+ t_{0.975, 8} * 1.
    const w = welchInterval([1, 2, 3, 4, 5], [4, 5, 6, 7, 8])!;
    expect(w.diff).toBe(3);
    expect(w.se).toBeCloseTo(1, 14);
    expect(w.df).toBeCloseTo(8, 12);
    expect(w.low).toBeCloseTo(3 - 2.306004135, 8);
    expect(w.high).toBeCloseTo(3 + 2.306004135, 8);
  });

  it("matches the published Welch examples (Wikipedia, 'Welch's t-test', examples 1 and 2)", () => {
    // Data sets A1, A2 of the article's examples. Expected: scipy 1.17.1
    // ttest_ind(A2, A1, equal_var=False) statistic, df and confidence_interval(0.95);
    // the article's rounded t = 2.46 (example 1) and 1.57 (example 2) agree.
    const a1 = [27.5, 21.0, 19.0, 23.6, 17.0, 17.9, 16.9, 20.1, 21.9, 22.6, 23.1, 19.6, 19.0, 21.7, 21.4];
    const a2 = [27.1, 22.0, 20.8, 23.4, 23.4, 23.5, 25.8, 22.0, 24.8, 20.2, 21.9, 22.1, 22.9, 20.5, 24.4];
    const w1 = welchInterval(a1, a2)!;
    expect(w1.diff).toBeCloseTo(2.166666666666668, 12);
    expect(w1.se).toBeCloseTo(0.8824245100137552, 12);
    expect(w1.diff / w1.se).toBeCloseTo(2.455356398286006, 12);
    expect(w1.df).toBeCloseTo(24.988529290231416, 10);
    expect(w1.low).toBeCloseTo(0.3492370661924069, 9);
    expect(w1.high).toBeCloseTo(3.984096267140929, 9);

    const b1 = [17.2, 20.9, 22.6, 18.1, 21.7, 21.4, 23.5, 24.2, 14.7, 21.8];
    const b2 = [
      21.5, 22.8, 21.0, 23.0, 21.6, 23.6, 22.5, 20.7, 23.4, 21.8, 20.7, 21.7, 21.5, 22.5, 23.6, 21.5, 22.5,
      23.5, 21.5, 21.8,
    ];
    const w2 = welchInterval(b1, b2)!;
    expect(w2.diff / w2.se).toBeCloseTo(1.5654335235985037, 12);
    expect(w2.df).toBeCloseTo(9.904741248650831, 10);
    expect(w2.low).toBeCloseTo(-0.6484213253751658, 9);
    expect(w2.high).toBeCloseTo(3.698421325375163, 9);
  });

  it("is variant minus baseline: swapping the sides negates the interval", () => {
    const w = welchInterval([4, 5, 6, 7, 8], [1, 2, 3, 4, 5])!;
    expect(w.diff).toBe(-3);
    expect(w.low).toBeCloseTo(-3 - 2.306004135, 8);
  });

  it("narrows when the confidence level drops", () => {
    const w90 = welchInterval([1, 2, 3, 4, 5], [4, 5, 6, 7, 8], 0.9)!;
    expect(w90.high - w90.diff).toBeCloseTo(1.859548038, 8);
  });

  it("is undefined without a variance estimate on either side, or with no variance at all", () => {
    expect(welchInterval([1], [2, 3, 4])).toBeUndefined();
    expect(welchInterval([1, 2, 3], [2])).toBeUndefined();
    expect(welchInterval([2, 2, 2], [3, 3])).toBeUndefined();
    // One side constant is fine: the other side's variance carries the interval (df = nb - 1).
    const w = welchInterval([2, 2, 2], [1, 2, 3])!;
    expect(w.df).toBeCloseTo(2, 12);
    expect(w.se).toBeCloseTo(Math.sqrt(1 / 3), 14);
  });
});

describe("ratios", () => {
  it("divides the variant mean by the baseline mean", () => {
    expect(meanRatio([2, 4], [3, 3])).toBe(1);
    expect(meanRatio([4, 4], [3, 3])).toBe(0.75);
    expect(relativeChange([4, 4], [3, 3])).toBeCloseTo(-0.25, 15);
    expect(() => meanRatio([0, 0], [1])).toThrow(/baseline mean is 0/);
  });
});
