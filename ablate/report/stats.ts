// Summary statistics and confidence intervals for comparing ablation variants over seeds.
import tQuantile from "@stdlib/stats-base-dists-t-quantile";

export interface Summary {
  n: number;
  mean: number;
  /** Sample standard deviation (divides by n - 1); 0 when n = 1 because one seed shows no spread. */
  std: number;
  min: number;
  max: number;
}

/** Summarizes every value given; the caller decides what to drop (diverged runs, NaN) before calling. */
export function summarize(xs: number[]): Summary {
  if (xs.length === 0) throw new Error("summarize: no values");
  const n = xs.length;
  const mean = xs.reduce((s, x) => s + x, 0) / n;
  return { n, mean, std: Math.sqrt(sampleVariance(xs, mean)), min: Math.min(...xs), max: Math.max(...xs) };
}

/** Unbiased sample variance; 0 for a single value. */
function sampleVariance(xs: number[], mean: number): number {
  if (xs.length < 2) return 0;
  return xs.reduce((s, x) => s + (x - mean) ** 2, 0) / (xs.length - 1);
}

/** Two-sided quantile of Student's t: the t with P(|T| <= t) = level for `df` degrees of freedom. */
export function tCritical(df: number, level = 0.95): number {
  if (!(level > 0 && level < 1)) throw new Error(`confidence level must be in (0, 1), got ${level}`);
  if (!(df > 0)) throw new Error(`degrees of freedom must be positive, got ${df}`);
  return tQuantile(1 - (1 - level) / 2, df);
}

export interface WelchInterval {
  /** mean(b) - mean(a): the variant minus the baseline when called as (baseline, variant). */
  diff: number;
  low: number;
  high: number;
  /** Welch–Satterthwaite degrees of freedom (not an integer in general). */
  df: number;
  /** Standard error of the difference, sqrt(var(a)/na + var(b)/nb). */
  se: number;
}

/**
 * Confidence interval for mean(b) - mean(a) without assuming equal variances (Welch's t interval).
 *
 * Returns undefined when either side has fewer than two values: its variance cannot be estimated, and
 * assuming it to be 0 would give an interval narrower than the data supports. That includes the case
 * where only one side has a single seed; report the difference without an interval then.
 * Also undefined when both sample variances are 0: the standard error is 0 and the Welch–Satterthwaite
 * df is 0/0, so there is no t distribution to take a quantile from (the seeds agree exactly, which
 * in practice means the runs did not depend on the seed).
 */
export function welchInterval(a: number[], b: number[], level = 0.95): WelchInterval | undefined {
  if (a.length < 2 || b.length < 2) return undefined;
  const sa = summarize(a);
  const sb = summarize(b);
  const va = sa.std ** 2 / sa.n; // squared standard error of each mean
  const vb = sb.std ** 2 / sb.n;
  if (va === 0 && vb === 0) return undefined;
  const se = Math.sqrt(va + vb);
  const df = (va + vb) ** 2 / (va ** 2 / (sa.n - 1) + vb ** 2 / (sb.n - 1));
  const diff = sb.mean - sa.mean;
  const half = tCritical(df, level) * se;
  return { diff, low: diff - half, high: diff + half, df, se };
}

/** mean(b) / mean(a): the variant relative to the baseline when called as (baseline, variant). */
export function meanRatio(a: number[], b: number[]): number {
  const ma = summarize(a).mean;
  if (ma === 0) throw new Error("meanRatio: the baseline mean is 0");
  return summarize(b).mean / ma;
}

/** mean(b) / mean(a) - 1, as a signed relative change (-0.02 = 2% lower than the baseline). */
export function relativeChange(a: number[], b: number[]): number {
  return meanRatio(a, b) - 1;
}
