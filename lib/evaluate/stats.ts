// Statistics for comparing classifiers evaluated on the same images: a confidence interval for each
// accuracy (Wilson score) and a paired test between two models (exact McNemar). The study named a
// winner "by a slight margin" on 800 images; these say whether such a margin means anything.

/** z for a two-sided 95 % interval (the 0.975 quantile of the standard normal). */
export const Z_95 = 1.959963984540054;

export interface Interval {
  low: number;
  high: number;
}

/**
 * Wilson score interval for a binomial proportion (Wilson 1927). Unlike the normal approximation it
 * stays inside [0, 1] and behaves at 0 % and 100 %, which small validation sets hit.
 */
export function wilsonInterval(opts: { successes: number; trials: number; z?: number }): Interval {
  const { successes, trials, z = Z_95 } = opts;
  if (!Number.isInteger(trials) || trials < 0) throw new RangeError(`trials must be a whole number ≥ 0, got ${trials}`);
  if (!Number.isInteger(successes) || successes < 0 || successes > trials) {
    throw new RangeError(`successes must be a whole number from 0 to trials (${trials}), got ${successes}`);
  }
  if (trials === 0) return { low: 0, high: 1 }; // no evidence: the whole range
  const p = successes / trials;
  const z2 = z * z;
  const denominator = 1 + z2 / trials;
  const center = (p + z2 / (2 * trials)) / denominator;
  const half = (z / denominator) * Math.sqrt((p * (1 - p)) / trials + z2 / (4 * trials * trials));
  return { low: Math.max(0, center - half), high: Math.min(1, center + half) };
}

/** P(X ≤ k) for X ~ Binomial(n, 1/2), summed in log space so that n in the thousands stays exact enough. */
export function binomialHalfCdf(k: number, n: number): number {
  if (k < 0) return 0;
  if (k >= n) return 1;
  let logChoose = 0; // log C(n, 0)
  let sum = 0;
  const logHalfPowN = -n * Math.LN2;
  for (let i = 0; i <= k; i++) {
    sum += Math.exp(logChoose + logHalfPowN);
    logChoose += Math.log(n - i) - Math.log(i + 1);
  }
  return Math.min(1, sum);
}

export interface McNemarResult {
  /** Images model A got right and model B got wrong. */
  onlyA: number;
  /** Images model B got right and model A got wrong. */
  onlyB: number;
  /** Two-sided exact p-value: 2·P(X ≤ min(b, c)) for X ~ Bin(b + c, 1/2), capped at 1. */
  pValue: number;
}

/** Exact McNemar test on the discordant pairs (the concordant ones carry no information). */
export function mcnemarExact(opts: { onlyA: number; onlyB: number }): McNemarResult {
  const { onlyA, onlyB } = opts;
  for (const [name, value] of [["onlyA", onlyA], ["onlyB", onlyB]] as const) {
    if (!Number.isInteger(value) || value < 0) throw new RangeError(`${name} must be a whole number ≥ 0, got ${value}`);
  }
  const n = onlyA + onlyB;
  const pValue = n === 0 ? 1 : Math.min(1, 2 * binomialHalfCdf(Math.min(onlyA, onlyB), n));
  return { onlyA, onlyB, pValue };
}

/**
 * McNemar for two models' per-image correctness, paired by image key (the path). Images that only one
 * model saw are an error: the test needs the same images.
 */
export function compareClassifiers(opts: { a: ReadonlyMap<string, boolean>; b: ReadonlyMap<string, boolean> }): McNemarResult {
  const { a, b } = opts;
  if (a.size !== b.size) throw new Error(`McNemar needs the same images for both models: ${a.size} vs ${b.size} predictions`);
  let onlyA = 0;
  let onlyB = 0;
  for (const [key, correctA] of a) {
    const correctB = b.get(key);
    if (correctB === undefined) throw new Error(`McNemar needs the same images for both models: ${key} is missing from the second`);
    if (correctA && !correctB) onlyA++;
    else if (!correctA && correctB) onlyB++;
  }
  return mcnemarExact({ onlyA, onlyB });
}
