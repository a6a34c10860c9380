/**
 * The Mann–Whitney U test (Wilcoxon rank-sum test) of two independent samples.
 *
 * U is the statistic of the first sample: the number of pairs (x_i, y_j) with x_i > y_j, ties
 * counted as 1/2, computed from mid-ranks as R_x - n_x(n_x + 1)/2. Two ways to a p-value:
 * - exact: the null distribution of U over all C(n_x + n_y, n_x) equally likely rank
 *   arrangements, by the recurrence p(m, n, u) = m/(m+n)·p(m-1, n, u-n) + n/(m+n)·p(m, n-1, u)
 *   (Mann & Whitney 1947). Used by default when there are no ties and n_x·n_y <= 2,500.
 * - asymptotic: U is normal with mean n_x·n_y/2 and variance
 *   n_x·n_y/12 · ((N + 1) - Σ(t³ - t) / (N(N - 1))) (tie correction, t the size of each group
 *   of tied values, N = n_x + n_y), with a continuity correction of 1/2 towards the mean. This
 *   is SciPy's `mannwhitneyu(..., method="asymptotic", use_continuity=True)`.
 * @module
 */
import { normalUpperTail } from "./distributions.ts";
import type { Alternative } from "./t_test.ts";

/** The largest n_x·n_y for which the exact distribution is used by default (no ties). */
export const MANN_WHITNEY_EXACT_MAX_PRODUCT = 2_500;

const EXACT_CACHE_ENTRIES = 32;
const EXACT_CACHE = new Map<string, Float64Array>();

/** Options of {@link mannWhitneyU}. */
export interface MannWhitneyOptions {
  /**
   * The alternative about the first sample: `"greater"` (stochastically larger), `"less"` or
   * `"two-sided"` (the default).
   */
  readonly alternative?: Alternative;
  /**
   * `"exact"`, `"asymptotic"` or `"auto"` (default: exact when there are no ties and
   * n_x·n_y <= {@link MANN_WHITNEY_EXACT_MAX_PRODUCT}). Exact with ties is refused.
   */
  readonly method?: "auto" | "exact" | "asymptotic";
}

/** The result of {@link mannWhitneyU}. */
export interface MannWhitneyResult {
  /** U of the first sample (pairs where it is larger, ties as 1/2). */
  readonly u: number;
  /** The p-value for the alternative asked for. */
  readonly pValue: number;
  /** How the p-value was computed. */
  readonly method: "exact" | "asymptotic";
  /** Whether there were ties (across both samples). */
  readonly ties: boolean;
}

/**
 * The Mann–Whitney U test (see the module documentation for the statistic and both p-values).
 *
 * @param x The first sample (at least one finite value).
 * @param y The second sample (at least one finite value).
 * @param options The alternative and the method.
 * @returns U of the first sample, the p-value, the method and whether there were ties.
 * @throws {RangeError} When a sample is empty or has a non-finite value, or when the exact
 * method is asked for samples with ties or too large for it.
 * @example
 * ```ts
 * import { mannWhitneyU } from "./mann_whitney.ts";
 * // SciPy's documentation example (Conover): U = 17, exact two-sided p = 14/126.
 * const males = [19, 22, 16, 29, 24];
 * const females = [20, 11, 17, 12];
 * mannWhitneyU(males, females).pValue; // 0.1111111111111111
 * ```
 */
export function mannWhitneyU(
  x: readonly number[],
  y: readonly number[],
  options: MannWhitneyOptions = {},
): MannWhitneyResult {
  for (const [name, values] of [["first", x], ["second", y]] as const) {
    if (values.length === 0) {
      throw new RangeError(`Cannot run the Mann-Whitney U test: the ${name} sample is empty`);
    }
    if (!values.every(Number.isFinite)) {
      throw new RangeError(
        `Cannot run the Mann-Whitney U test: the ${name} sample has a non-finite value`,
      );
    }
  }
  const alternative = options.alternative ?? "two-sided";
  const nx = x.length;
  const ny = y.length;
  const n = nx + ny;
  const all = [...x.map((v) => [v, 0] as const), ...y.map((v) => [v, 1] as const)];
  all.sort((a, b) => a[0] - b[0]);
  let rankSumX = 0;
  let tieTerm = 0;
  for (let i = 0; i < n;) {
    let j = i;
    while (j + 1 < n && all[j + 1]![0] === all[i]![0]) j++;
    const midRank = (i + j) / 2 + 1;
    const size = j - i + 1;
    tieTerm += size * size * size - size;
    for (let k = i; k <= j; k++) if (all[k]![1] === 0) rankSumX += midRank;
    i = j + 1;
  }
  const u = rankSumX - (nx * (nx + 1)) / 2;
  const ties = tieTerm > 0;
  const method = options.method ?? "auto";
  const exact = method === "exact" ||
    (method === "auto" && !ties && nx * ny <= MANN_WHITNEY_EXACT_MAX_PRODUCT);
  if (exact) {
    if (ties) {
      throw new RangeError("Cannot run the exact Mann-Whitney U test: the samples have ties");
    }
    if (nx * ny > 4 * MANN_WHITNEY_EXACT_MAX_PRODUCT) {
      throw new RangeError(
        `Cannot run the exact Mann-Whitney U test: ${nx}x${ny} samples are too large for it`,
      );
    }
    return { u, pValue: exactPValue(u, nx, ny, alternative), method: "exact", ties };
  }
  const mean = (nx * ny) / 2;
  const variance = ((nx * ny) / 12) * (n + 1 - tieTerm / (n * (n - 1)));
  let pValue: number;
  if (!(variance > 0)) {
    pValue = 1;
  } else {
    const sd = Math.sqrt(variance);
    const greater = normalUpperTail((u - mean - 0.5) / sd);
    const less = normalUpperTail((mean - u - 0.5) / sd);
    pValue = alternative === "greater"
      ? greater
      : alternative === "less"
      ? less
      : Math.min(1, 2 * normalUpperTail((Math.abs(u - mean) - 0.5) / sd));
  }
  return { u, pValue, method: "asymptotic", ties };
}

/**
 * The exact null distribution of U for sample sizes m and n: probabilities of U = 0..m·n.
 * The recurrence conditions on which sample holds the largest value: from x (U gains n) with
 * probability m/(m+n), from y (U unchanged) with probability n/(m+n).
 */
function exactDistribution(m: number, n: number): Float64Array {
  const key = `${m}x${n}`;
  const cached = EXACT_CACHE.get(key);
  if (cached !== undefined) return cached;
  // previous[b] holds the distribution for sizes (a - 1, b); current[b] for (a, b).
  let previous: Float64Array[] = Array.from({ length: n + 1 }, () => Float64Array.of(1));
  for (let a = 1; a <= m; a++) {
    const current: Float64Array[] = [Float64Array.of(1)];
    for (let b = 1; b <= n; b++) {
      const dist = new Float64Array(a * b + 1);
      const fromX = previous[b]!;
      const fromY = current[b - 1]!;
      const px = a / (a + b);
      const py = b / (a + b);
      for (let u = 0; u < fromX.length; u++) dist[u + b]! += px * fromX[u]!;
      for (let u = 0; u < fromY.length; u++) dist[u]! += py * fromY[u]!;
      current.push(dist);
    }
    previous = current;
  }
  const dist = previous[n]!;
  // Latency checks repeat the same sample sizes; keep a few distributions (oldest out first).
  if (EXACT_CACHE.size >= EXACT_CACHE_ENTRIES) EXACT_CACHE.delete(EXACT_CACHE.keys().next().value!);
  EXACT_CACHE.set(key, dist);
  return dist;
}

function exactPValue(u: number, m: number, n: number, alternative: Alternative): number {
  const dist = exactDistribution(m, n);
  const tail = (from: number, to: number): number => {
    let sum = 0;
    for (let k = Math.max(0, from); k <= Math.min(dist.length - 1, to); k++) sum += dist[k]!;
    return Math.min(1, sum);
  };
  const greater = tail(u, m * n);
  const less = tail(0, u);
  if (alternative === "greater") return greater;
  if (alternative === "less") return less;
  return Math.min(1, 2 * Math.min(greater, less));
}
