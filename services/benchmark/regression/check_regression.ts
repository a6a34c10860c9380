/**
 * Whether a candidate run regressed a metric against its baseline, by the metric's rule:
 *
 * - `exact`: the candidate is worse than the latest baseline point (by time; on equal times the
 *   last one given) by any amount. No p-value.
 * - `absolute`: the candidate is worse than the mean of the baseline values by more than the
 *   tolerance (default 0.005, i.e. 0.5 pp of a fraction). A worsening of exactly the tolerance is
 *   not a regression (1e-12 of slack absorbs floating-point error). No p-value.
 * - `samples`: the candidate's raw samples against the pooled raw samples of every baseline run,
 *   with two one-sided tests in the bad direction (candidate larger for lower-is-better,
 *   smaller for higher-is-better), because only a worsening is reported and a one-sided test
 *   keeps the false alarm rate of each test at alpha:
 *   - Mann-Whitney U ({@link mannWhitneyU}: exact without ties when n_c·n_b <= 2,500, else the
 *     normal approximation with tie and continuity corrections);
 *   - Welch's t-test on log(sample) ({@link welchTTest}; latency is roughly log-normal, and a
 *     shift in log space is a ratio), skipped when a sample is <= 0 or a side has one value.
 *   It is a regression when the median moved by at least `minRelativeChange` (default 5%) in the
 *   bad direction AND a test gives p <= alpha (default 0.01). The finding names Mann-Whitney when
 *   it fired, else Welch, with that test's p-value (the message carries both). Either test
 *   may fire, so under no change the chance of a significant result is at most 2·alpha, before
 *   the 5% gate, which noise rarely passes.
 *   When the candidate or any baseline run has no samples, each run counts as one sample, its
 *   value (a single candidate value reaches p <= 0.01 only against >= 99 baseline runs).
 *   `value` and `baselineValue` of a samples finding are the medians compared.
 *
 * Baseline points with the candidate's run id are ignored; an empty baseline gives no finding.
 * Pooling samples across runs ignores run-to-run variance, which makes the tests too eager on
 * their own: the minimum relative change is what keeps small run-level drifts from firing.
 * @module
 */
import { mannWhitneyU } from "./mann_whitney.ts";
import {
  DEFAULT_ALPHA,
  DEFAULT_MIN_RELATIVE_CHANGE,
  DEFAULT_TOLERANCE,
  type MetricRule,
} from "./rules.ts";
import { welchTTest } from "./t_test.ts";

/** One run's value of a metric in a series, with its raw samples when it has them. */
export interface HistoryPoint {
  /** The run. */
  readonly runId: string;
  /** When the run happened (orders the series). */
  readonly time: Date;
  /** The metric's value (for latency, the run's summary, e.g. its median). */
  readonly value: number;
  /** The raw samples behind the value (latency runs), when recorded. */
  readonly samples?: readonly number[];
}

/** A regression of one metric in one run. */
export interface RegressionFinding {
  /** The metric. */
  readonly metric: string;
  /** The candidate run. */
  readonly runId: string;
  /** The baseline runs compared against (the latest one alone for `exact`). */
  readonly baselineRunIds: string[];
  /** The baseline's value: latest (exact), mean (tolerance) or median of the samples. */
  readonly baselineValue: number;
  /** The candidate's value (the median of its samples for a samples test). */
  readonly value: number;
  /** value - baselineValue. */
  readonly change: number;
  /** change / |baselineValue| (±Infinity when the baseline value is 0). */
  readonly relativeChange: number;
  /** The p-value of the test that fired; null for exact and tolerance checks. */
  readonly pValue: number | null;
  /** Which test decided. */
  readonly test: "exact" | "tolerance" | "mann-whitney" | "welch";
  /** One line for people, e.g. "latency_ms regressed in run 'r9': median 13.1 vs 12.3 ...". */
  readonly message: string;
}

const SLACK = 1e-12;

function format(value: number): string {
  return Number.isFinite(value) ? String(Number(value.toPrecision(6))) : String(value);
}

function percent(relative: number): string {
  if (!Number.isFinite(relative)) return relative > 0 ? "+inf%" : "-inf%";
  return `${relative >= 0 ? "+" : ""}${(relative * 100).toFixed(2)}%`;
}

function formatP(p: number): string {
  return p < 1e-4 ? p.toExponential(2) : p.toPrecision(3);
}

function relative(change: number, base: number): number {
  if (base !== 0) return change / Math.abs(base);
  return change === 0 ? 0 : change > 0 ? Infinity : -Infinity;
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
}

function checkInputs(
  candidate: HistoryPoint,
  baseline: readonly HistoryPoint[],
  rule: MetricRule,
  metric: string,
): void {
  const what = `Cannot check metric '${metric}' of run '${candidate.runId}'`;
  for (const point of [candidate, ...baseline]) {
    const whose = point === candidate ? "its" : `baseline run '${point.runId}' has a`;
    if (!Number.isFinite(point.value)) {
      throw new RangeError(`${what}: ${whose} value is ${point.value}, not finite`);
    }
    if (point.samples !== undefined && !point.samples.every(Number.isFinite)) {
      throw new RangeError(`${what}: ${whose} samples include a non-finite value`);
    }
  }
  const { tolerance, alpha, minRelativeChange } = rule;
  if (tolerance !== undefined && !(tolerance >= 0)) {
    throw new RangeError(`${what}: tolerance must be >= 0, got ${tolerance}`);
  }
  if (alpha !== undefined && !(alpha > 0 && alpha < 1)) {
    throw new RangeError(`${what}: alpha must be in (0, 1), got ${alpha}`);
  }
  if (minRelativeChange !== undefined && !(minRelativeChange >= 0)) {
    throw new RangeError(`${what}: minRelativeChange must be >= 0, got ${minRelativeChange}`);
  }
}

/**
 * Checks a candidate run against its baseline by the metric's rule (see the module
 * documentation for each kind of rule).
 *
 * @param candidate The run to judge.
 * @param baseline The runs to judge it against (a pinned run, or the history since the last
 * change point; see {@link baselineSince}).
 * @param rule How the metric is judged (usually {@link ruleFor}'s).
 * @param metric The metric's name, for the finding and its message.
 * @returns The finding when the candidate regressed, else null.
 * @throws {RangeError} When a value or sample is not finite, or the rule is out of range.
 * @example
 * ```ts
 * import { checkRegression, ruleFor } from "./mod.ts";
 * const base = { runId: "r1", time: new Date("2026-01-01"), value: 1_000_000 };
 * const next = { runId: "r2", time: new Date("2026-01-02"), value: 1_000_001 };
 * checkRegression(next, [base], ruleFor("size_bytes"), "size_bytes")?.test; // "exact"
 * ```
 */
export function checkRegression(
  candidate: HistoryPoint,
  baseline: readonly HistoryPoint[],
  rule: MetricRule,
  metric: string,
): RegressionFinding | null {
  checkInputs(candidate, baseline, rule, metric);
  const others = baseline.filter((point) => point.runId !== candidate.runId);
  if (others.length === 0) return null;
  const sign = rule.direction === "lower" ? 1 : -1;
  const label = `${metric} regressed in run '${candidate.runId}'`;

  if (rule.kind === "exact") {
    let latest = others[0]!;
    for (const point of others) if (point.time.getTime() >= latest.time.getTime()) latest = point;
    const change = candidate.value - latest.value;
    if (!(sign * change > 0)) return null;
    const relativeChange = relative(change, latest.value);
    return {
      metric,
      runId: candidate.runId,
      baselineRunIds: [latest.runId],
      baselineValue: latest.value,
      value: candidate.value,
      change,
      relativeChange,
      pValue: null,
      test: "exact",
      message: `${label}: ${format(candidate.value)} vs ${format(latest.value)} in run ` +
        `'${latest.runId}' (${percent(relativeChange)}; ${rule.direction} is better, ` +
        `exact threshold)`,
    };
  }

  if (rule.kind === "absolute") {
    const tolerance = rule.tolerance ?? DEFAULT_TOLERANCE;
    const baselineValue = others.reduce((sum, point) => sum + point.value, 0) / others.length;
    const change = candidate.value - baselineValue;
    if (!(sign * change > tolerance + SLACK * Math.max(1, Math.abs(baselineValue)))) return null;
    const relativeChange = relative(change, baselineValue);
    return {
      metric,
      runId: candidate.runId,
      baselineRunIds: others.map((point) => point.runId),
      baselineValue,
      value: candidate.value,
      change,
      relativeChange,
      pValue: null,
      test: "tolerance",
      message: `${label}: ${format(candidate.value)} vs a baseline mean of ` +
        `${format(baselineValue)} over ${others.length} run(s), a change of ${format(change)} ` +
        `(${percent(relativeChange)}) beyond the tolerance ${format(tolerance)}; ` +
        `${rule.direction} is better`,
    };
  }

  const alpha = rule.alpha ?? DEFAULT_ALPHA;
  const minRelativeChange = rule.minRelativeChange ?? DEFAULT_MIN_RELATIVE_CHANGE;
  const raw = (candidate.samples?.length ?? 0) > 0 &&
    others.every((point) => (point.samples?.length ?? 0) > 0);
  const x = raw ? [...candidate.samples!] : [candidate.value];
  const y = raw ? others.flatMap((point) => point.samples!) : others.map((point) => point.value);
  const alternative = rule.direction === "lower" ? "greater" : "less";
  const value = median(x);
  const baselineValue = median(y);
  const change = value - baselineValue;
  const relativeChange = relative(change, baselineValue);
  if (!(sign * relativeChange >= minRelativeChange - SLACK)) return null;
  const mw = mannWhitneyU(x, y, { alternative });
  const welch = x.length >= 2 && y.length >= 2 && x.every((v) => v > 0) && y.every((v) => v > 0)
    ? welchTTest(x.map(Math.log), y.map(Math.log), { alternative })
    : null;
  const test = mw.pValue <= alpha
    ? "mann-whitney"
    : welch !== null && welch.pValue <= alpha
    ? "welch"
    : null;
  if (test === null) return null;
  const pValue = test === "mann-whitney" ? mw.pValue : welch!.pValue;
  const source = raw
    ? `${x.length} samples vs ${y.length} pooled samples of ${others.length} run(s)`
    : `run values (no raw samples) vs ${others.length} run(s)`;
  return {
    metric,
    runId: candidate.runId,
    baselineRunIds: others.map((point) => point.runId),
    baselineValue,
    value,
    change,
    relativeChange,
    pValue,
    test,
    message: `${label}: median ${format(value)} vs ${format(baselineValue)} ` +
      `(${percent(relativeChange)}; ${rule.direction} is better), ${source}; ` +
      `Mann-Whitney U p=${formatP(mw.pValue)} (${mw.method})` +
      (welch === null ? "" : `, Welch t on log p=${formatP(welch.pValue)}`) +
      `, alpha ${alpha}`,
  };
}
