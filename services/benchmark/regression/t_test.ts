/**
 * Two-sample t-tests: Welch's (unequal variances, Welch–Satterthwaite degrees of freedom) and
 * Student's (pooled variance), with p-values from {@link studentTUpperTail}.
 * @module
 */
import { studentTUpperTail } from "./distributions.ts";

/** Which alternative hypothesis a test's p-value is for, about the first sample against the second. */
export type Alternative = "two-sided" | "greater" | "less";

/** Options of {@link welchTTest} and {@link studentTTest}. */
export interface TTestOptions {
  /**
   * The alternative: `"greater"` when the first sample's mean is suspected to be larger,
   * `"less"` when smaller, `"two-sided"` (the default) for either.
   */
  readonly alternative?: Alternative;
}

/** The result of a t-test. */
export interface TTestResult {
  /** The t statistic, (mean(x) - mean(y)) / standard error. */
  readonly t: number;
  /** The degrees of freedom. */
  readonly df: number;
  /** The p-value for the alternative asked for. */
  readonly pValue: number;
}

function meanAndVariance(values: readonly number[]): [number, number] {
  let mean = 0;
  for (const v of values) mean += v;
  mean /= values.length;
  let squares = 0;
  for (const v of values) squares += (v - mean) * (v - mean);
  return [mean, values.length > 1 ? squares / (values.length - 1) : 0];
}

function pValueOf(t: number, df: number, alternative: Alternative): number {
  if (alternative === "greater") return studentTUpperTail(t, df);
  if (alternative === "less") return studentTUpperTail(-t, df);
  return Math.min(1, 2 * studentTUpperTail(Math.abs(t), df));
}

/** The verdict when the standard error is 0: certain when the means differ, void when not. */
function degenerate(difference: number, df: number, alternative: Alternative): TTestResult {
  if (difference === 0) return { t: Number.NaN, df, pValue: 1 };
  const t = difference > 0 ? Infinity : -Infinity;
  return { t, df, pValue: pValueOf(t, Math.max(df, 1), alternative) };
}

function checkSamples(x: readonly number[], y: readonly number[], test: string): void {
  for (const [name, values] of [["first", x], ["second", y]] as const) {
    if (values.length < 2) {
      throw new RangeError(
        `Cannot run ${test}: the ${name} sample has ${values.length} values, at least 2 are needed`,
      );
    }
    if (!values.every(Number.isFinite)) {
      throw new RangeError(`Cannot run ${test}: the ${name} sample has a non-finite value`);
    }
  }
}

/**
 * Welch's two-sample t-test (no equal-variance assumption). Degrees of freedom by
 * Welch–Satterthwaite: (vx/nx + vy/ny)² / ((vx/nx)²/(nx-1) + (vy/ny)²/(ny-1)), with sample
 * variances (divisor n - 1).
 *
 * @param x The first sample (at least two finite values).
 * @param y The second sample (at least two finite values).
 * @param options The alternative.
 * @returns t, degrees of freedom and p-value. When both variances are 0, p is 1 for equal means
 * and 0 for different ones (in the direction asked for).
 * @throws {RangeError} When a sample has fewer than two values or a non-finite one.
 * @example
 * ```ts
 * import { welchTTest } from "./t_test.ts";
 * const { pValue } = welchTTest([10.2, 10.4, 10.3, 10.5], [9.1, 9.3, 9.0, 9.2], {
 *   alternative: "greater",
 * });
 * ```
 */
export function welchTTest(
  x: readonly number[],
  y: readonly number[],
  options: TTestOptions = {},
): TTestResult {
  checkSamples(x, y, "Welch's t-test");
  const alternative = options.alternative ?? "two-sided";
  const [mx, vx] = meanAndVariance(x);
  const [my, vy] = meanAndVariance(y);
  const ax = vx / x.length;
  const ay = vy / y.length;
  const se2 = ax + ay;
  const df = se2 === 0
    ? x.length + y.length - 2
    : (se2 * se2) / ((ax * ax) / (x.length - 1) + (ay * ay) / (y.length - 1));
  if (se2 === 0) return degenerate(mx - my, df, alternative);
  const t = (mx - my) / Math.sqrt(se2);
  return { t, df, pValue: pValueOf(t, df, alternative) };
}

/**
 * Student's two-sample t-test with a pooled variance (equal variances assumed), df = nx + ny - 2.
 * This is the test Hunter / Apache Otava use to judge a change point.
 *
 * @param x The first sample (at least two finite values).
 * @param y The second sample (at least two finite values).
 * @param options The alternative.
 * @returns t, degrees of freedom and p-value (as {@link welchTTest} when the variance is 0).
 * @throws {RangeError} When a sample has fewer than two values or a non-finite one.
 * @example
 * ```ts
 * import { studentTTest } from "./t_test.ts";
 * studentTTest([1, 2, 3], [4, 5, 6]).pValue; // ≈ 0.0213
 * ```
 */
export function studentTTest(
  x: readonly number[],
  y: readonly number[],
  options: TTestOptions = {},
): TTestResult {
  checkSamples(x, y, "Student's t-test");
  return pooledTTest(x, y, options.alternative ?? "two-sided");
}

/**
 * The pooled t-test without the size checks, for the change point search: a side of one value
 * contributes no variance, and df = nx + ny - 2 must be positive (p is 1 otherwise).
 *
 * @param x The first sample (non-empty, finite values; not checked).
 * @param y The second sample (non-empty, finite values; not checked).
 * @param alternative The alternative hypothesis.
 * @returns t, degrees of freedom and p-value.
 * @example
 * ```ts
 * import { pooledTTest } from "./t_test.ts";
 * pooledTTest([1], [4, 5, 6], "two-sided").df; // 2
 * ```
 */
export function pooledTTest(
  x: readonly number[],
  y: readonly number[],
  alternative: Alternative,
): TTestResult {
  const df = x.length + y.length - 2;
  const [mx, vx] = meanAndVariance(x);
  const [my, vy] = meanAndVariance(y);
  if (df <= 0) return { t: Number.NaN, df, pValue: 1 };
  const pooled = ((x.length - 1) * vx + (y.length - 1) * vy) / df;
  const se2 = pooled * (1 / x.length + 1 / y.length);
  if (se2 === 0) return degenerate(mx - my, df, alternative);
  const t = (mx - my) / Math.sqrt(se2);
  return { t, df, pValue: pValueOf(t, df, alternative) };
}
