// Turns per-seed curves into what the charts draw: smoothed training loss and a mean with a min–max
// band over seeds at each step.

/**
 * Exponential moving average with bias correction (as in Adam): without it the first points are pulled
 * toward 0. Non-finite values (a diverged step) are skipped and the previous average carried forward.
 */
export function emaSmooth(values: number[], beta: number): number[] {
  if (!(beta >= 0 && beta < 1)) throw new Error(`EMA beta must be in [0, 1), got ${beta}`);
  let average = 0;
  let weight = 0; // 1 - beta^k after k finite values: the bias correction
  return values.map((x) => {
    if (Number.isFinite(x)) {
      average = beta * average + (1 - beta) * x;
      weight = beta * weight + (1 - beta);
    }
    return weight === 0 ? NaN : average / weight;
  });
}

export interface SeedBand {
  mean: number;
  min: number;
  max: number;
  /** Number of seeds with a finite value at this point. */
  n: number;
}

/** Mean, min and max of the finite values; undefined when there are none. */
export function bandOverSeeds(values: number[]): SeedBand | undefined {
  const finite = values.filter(Number.isFinite);
  if (finite.length === 0) return undefined;
  return {
    mean: finite.reduce((s, x) => s + x, 0) / finite.length,
    min: Math.min(...finite),
    max: Math.max(...finite),
    n: finite.length,
  };
}

/** Groups items by a string key, keeping the order in which keys first appear. */
export function groupBy<T>(items: T[], key: (item: T) => string): Map<string, T[]> {
  const groups = new Map<string, T[]>();
  for (const item of items) {
    const k = key(item);
    const group = groups.get(k);
    if (group) group.push(item);
    else groups.set(k, [item]);
  }
  return groups;
}

/** The distinct values in order of first appearance: keeps colours and legends in the caller's order. */
export function distinctInOrder<T>(items: T[]): T[] {
  return [...new Set(items)];
}
