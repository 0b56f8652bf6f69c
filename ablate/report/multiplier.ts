// The compute multiplier: how much more training compute the baseline needs to reach the validation loss a
// variant reached. 1.25 means the variant is worth 25% more compute; below 1 means it is worse.
import { summarize } from "./stats.js";

/** One evaluation of a run: validation loss after `flops` training FLOPs. */
export interface ComputePoint {
  flops: number;
  loss: number;
}

export type MultiplierResult =
  | { multiplier: number }
  | {
      multiplier: undefined;
      /** Why the baseline curve cannot say, in words fit for a report. */
      reason: string;
      /** The multiplier is at least this (the baseline never got as low within its compute). */
      lowerBound?: number;
      /** The multiplier is at most this (the baseline was already as low at its first evaluation). */
      upperBound?: number;
    };

/**
 * Reads the compute the baseline needed to reach the variant's final loss off the baseline's curve, and
 * divides by the compute the variant used.
 *
 * The curve is taken as the best loss reached with at most C compute (the running minimum), because
 * validation loss is noisy and can rise for a while; the earliest compute at which the baseline was at
 * least as good is the fair comparison. Between the two evaluations that bracket the target, log loss
 * is interpolated linearly in log C: a power law L = a·C^-b is a straight line there, so the
 * interpolation is exact on power-law segments and is otherwise indistinguishable from interpolating
 * the loss itself on a fine grid.
 *
 * Evaluations with flops <= 0 (the step-0 evaluation) are dropped: log C is undefined there. Non-finite
 * baseline losses (a diverged evaluation) improve nothing but still count as compute spent.
 */
export function interpolatedMultiplier(baseline: ComputePoint[], variant: ComputePoint): MultiplierResult {
  if (!(variant.flops > 0)) throw new Error(`variant compute must be positive, got ${variant.flops}`);
  if (!Number.isFinite(variant.loss)) {
    return { multiplier: undefined, reason: `the variant's final val loss is ${variant.loss}` };
  }
  const curve = bestLossCurve(baseline);
  if (curve.length === 0) {
    return { multiplier: undefined, reason: "the baseline has no finite val loss at positive compute" };
  }
  const target = variant.loss;
  const first = curve[0];
  const last = curve[curve.length - 1];
  if (target < last.loss) {
    return {
      multiplier: undefined,
      reason: `the baseline never reaches val loss ${formatLoss(target)} within its ${formatFlops(last.flops)} FLOPs`,
      lowerBound: last.flops / variant.flops,
    };
  }
  if (target > first.loss) {
    return {
      multiplier: undefined,
      reason:
        `the baseline is already below val loss ${formatLoss(target)} at its first evaluation ` +
        `(${formatLoss(first.loss)} at ${formatFlops(first.flops)} FLOPs)`,
      upperBound: first.flops / variant.flops,
    };
  }
  // First evaluation at which the best loss so far is at most the target; the one before it is above.
  const i = curve.findIndex((p) => p.loss <= target);
  if (i === 0) return { multiplier: first.flops / variant.flops };
  const above = curve[i - 1];
  const below = curve[i];
  const t = (Math.log(above.loss) - Math.log(target)) / (Math.log(above.loss) - Math.log(below.loss));
  const logFlops = Math.log(above.flops) + t * (Math.log(below.flops) - Math.log(above.flops));
  return { multiplier: Math.exp(logFlops) / variant.flops };
}

/**
 * The running minimum of the finite losses at positive compute, one point per evaluation, so it is
 * non-increasing and its flops strictly increase.
 */
function bestLossCurve(points: ComputePoint[]): ComputePoint[] {
  const curve: ComputePoint[] = [];
  let best = Infinity;
  let previousFlops = -Infinity;
  for (const p of points) {
    if (!(p.flops > previousFlops)) {
      throw new Error(
        `baseline evaluations must be in increasing compute order (${p.flops} after ${previousFlops})`,
      );
    }
    previousFlops = p.flops;
    if (Number.isFinite(p.loss) && !(p.loss > 0)) throw new Error(`val loss must be positive, got ${p.loss}`);
    if (Number.isFinite(p.loss)) best = Math.min(best, p.loss);
    if (p.flops > 0 && best < Infinity) curve.push({ flops: p.flops, loss: best });
  }
  return curve;
}

/** L(C) = a·C^-b, fitted in log-log space; r2 is the coefficient of determination of that fit. */
export interface PowerLawFit {
  a: number;
  b: number;
  r2: number;
}

/**
 * Least-squares fit of log L = log a - b·log C. Needs at least two points with distinct positive compute
 * and positive losses; pass only the part of the curve that follows a power law (not the first steps).
 */
export function fitPowerLaw(points: ComputePoint[]): PowerLawFit {
  for (const p of points) {
    if (!(p.flops > 0) || !(p.loss > 0) || !Number.isFinite(p.flops) || !Number.isFinite(p.loss)) {
      throw new Error(
        `fitPowerLaw: compute and loss must be positive and finite, got flops=${p.flops} loss=${p.loss} ` +
          "(drop the step-0 evaluation and diverged points)",
      );
    }
  }
  if (new Set(points.map((p) => p.flops)).size < 2) {
    throw new Error(
      `fitPowerLaw: needs at least 2 points with distinct compute, got ${points.length} points`,
    );
  }
  const xs = points.map((p) => Math.log(p.flops));
  const ys = points.map((p) => Math.log(p.loss));
  const mx = xs.reduce((s, x) => s + x, 0) / xs.length;
  const my = ys.reduce((s, y) => s + y, 0) / ys.length;
  let sxy = 0;
  let sxx = 0;
  let syy = 0;
  for (let k = 0; k < xs.length; k++) {
    sxy += (xs[k] - mx) * (ys[k] - my);
    sxx += (xs[k] - mx) ** 2;
    syy += (ys[k] - my) ** 2;
  }
  const slope = sxy / sxx;
  const intercept = my - slope * mx;
  let residual = 0;
  for (let k = 0; k < xs.length; k++) residual += (ys[k] - (intercept + slope * xs[k])) ** 2;
  // A flat curve is fitted exactly by slope 0; call that r2 = 1 rather than 0/0.
  const r2 = syy === 0 ? 1 : 1 - residual / syy;
  return { a: Math.exp(intercept), b: -slope, r2 };
}

/**
 * At compute C the variant's fit reaches L_v = a_v·C^-b_v; the baseline's fit needs C' = (L_v / a_b)^(-1/b_b)
 * for that loss; the multiplier is C' / C. It depends on C unless the two exponents are equal.
 */
export function fittedMultiplier(baselineFit: PowerLawFit, variantFit: PowerLawFit, atFlops: number): number {
  if (!(baselineFit.b > 0)) {
    throw new Error(`the baseline fit does not improve with compute (b = ${baselineFit.b}); no multiplier`);
  }
  if (!(atFlops > 0)) throw new Error(`compute must be positive, got ${atFlops}`);
  const variantLoss = variantFit.a * atFlops ** -variantFit.b;
  // Computed in logs: C' itself can overflow when the exponents differ a lot.
  const logBaselineFlops = -(Math.log(variantLoss) - Math.log(baselineFit.a)) / baselineFit.b;
  return Math.exp(logBaselineFlops - Math.log(atFlops));
}

/** The fitted multiplier at each compute of a sweep, e.g. at every evaluation of the variant. */
export function fittedMultipliers(
  baselineFit: PowerLawFit,
  variantFit: PowerLawFit,
  flops: number[],
): { flops: number; multiplier: number }[] {
  return flops.map((c) => ({ flops: c, multiplier: fittedMultiplier(baselineFit, variantFit, c) }));
}

export interface MultiplierOverSeeds {
  /** Arithmetic mean of the measurable multipliers; undefined when none was measurable. */
  mean: number | undefined;
  /** Sample std of the measurable multipliers (0 for one). */
  std: number | undefined;
  /** How many seeds gave a multiplier. */
  n: number;
  /** How many seeds did not (the curves did not cross); report them, since dropping them biases the mean. */
  notMeasurable: number;
}

export function multiplierOverSeeds(perSeed: (number | undefined)[]): MultiplierOverSeeds {
  const measured = perSeed.filter((m): m is number => m !== undefined && Number.isFinite(m));
  const notMeasurable = perSeed.length - measured.length;
  if (measured.length === 0) return { mean: undefined, std: undefined, n: 0, notMeasurable };
  const s = summarize(measured);
  return { mean: s.mean, std: s.std, n: s.n, notMeasurable };
}

function formatLoss(loss: number): string {
  return loss.toFixed(4);
}

/** 1.23e15 rather than 1230000000000000. */
export function formatFlops(flops: number): string {
  return flops.toExponential(2).replace("e+", "e");
}
