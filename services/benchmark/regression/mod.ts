/**
 * Regression statistics for the benchmark service: per-metric rules, the regression check of a
 * run against its baseline (exact thresholds, absolute tolerances, Mann-Whitney U and Welch's t
 * on log samples), and change points of a series by E-Divisive means with a t-test, as Hunter /
 * Apache Otava do it. Pure functions: no database, no I/O, deterministic.
 *
 * @example
 * ```ts
 * import { baselineSince, changePoints, checkRegression, ruleFor } from "./mod.ts";
 * const history = Array.from({ length: 20 }, (_, i) => ({
 *   runId: `r${i}`,
 *   time: new Date(Date.UTC(2026, 0, i + 1)),
 *   value: 10 + (i % 4) * 0.1,
 *   samples: Array.from({ length: 50 }, (_, j) => 10 + ((i + j) % 7) * 0.1),
 * }));
 * const baseline = baselineSince(history, changePoints(history.map((p) => p.value)));
 * const candidate = {
 *   runId: "r20",
 *   time: new Date(Date.UTC(2026, 0, 21)),
 *   value: 12,
 *   samples: Array.from({ length: 50 }, (_, j) => 12 + (j % 7) * 0.1),
 * };
 * const finding = checkRegression(candidate, baseline, ruleFor("latency_ms"), "latency_ms");
 * console.log(finding?.test, finding?.pValue); // "mann-whitney", ~1e-33
 * ```
 * @module
 */
export {
  DEFAULT_ALPHA,
  DEFAULT_MIN_RELATIVE_CHANGE,
  DEFAULT_TOLERANCE,
  type Direction,
  type MetricRule,
  ruleFor,
} from "./rules.ts";
export { checkRegression, type HistoryPoint, type RegressionFinding } from "./check_regression.ts";
export {
  baselineSince,
  type ChangePoint,
  changePoints,
  type ChangePointsOptions,
  MIN_CHANGE_POINT_SERIES,
} from "./change_points.ts";
export {
  MANN_WHITNEY_EXACT_MAX_PRODUCT,
  type MannWhitneyOptions,
  type MannWhitneyResult,
  mannWhitneyU,
} from "./mann_whitney.ts";
export {
  type Alternative,
  studentTTest,
  type TTestOptions,
  type TTestResult,
  welchTTest,
} from "./t_test.ts";
export {
  logGamma,
  normalCdf,
  normalUpperTail,
  regularizedIncompleteBeta,
  studentTCdf,
  studentTUpperTail,
} from "./distributions.ts";
