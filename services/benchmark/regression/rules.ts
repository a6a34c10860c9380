/**
 * How each metric is judged: which direction is better and which test decides a regression.
 *
 * | metric (name, case and `_`/`-`/`.` ignored)          | kind     | direction | tolerance |
 * | ---------------------------------------------------- | -------- | --------- | --------- |
 * | *rss*, *memory*, *heap* (measured, so noisy)         | samples  | lower     | -         |
 * | size_bytes, bytes, *bytes, params, *params, macs, *macs, flops | exact | lower | -     |
 * | *agreement* (top1_agreement)                         | absolute | higher    | 0.005     |
 * | *cosine*                                             | absolute | higher    | 1e-4      |
 * | *sqnr*, *psnr*, *snr* (dB)                           | absolute | higher    | 0.1       |
 * | *diff*, *error*, *mse*, *mae*, *divergence* (max_abs_diff) | absolute | lower | 1e-6    |
 * | accuracy*, *accuracy*, top1, top5, topk              | absolute | higher    | 0.005     |
 * | latency*, *latency*, *_ms (p50_ms, mean_ms)          | samples  | lower     | -         |
 * | throughput*, *per_second*, *per_sec*                 | samples  | higher    | -         |
 * | anything else                                        | samples  | lower     | -         |
 *
 * Rows are tried top to bottom (fidelity before accuracy, so `top1_agreement` is fidelity).
 * The default for an unknown metric is the samples rule with lower-is-better, because most
 * benchmark metrics are costs (time, memory, bytes) and the samples rule is the cautious one: it
 * needs both significance (p <= 0.01) and a 5% change before it flags anything.
 * @module
 */

/** Which way is better for a metric. */
export type Direction = "lower" | "higher";

/**
 * How a metric is judged:
 * - `exact`: any worsening beyond the latest baseline value is a regression (bytes, params);
 * - `absolute`: a worsening beyond the baseline mean by more than `tolerance` (accuracy);
 * - `samples`: raw samples against the baseline's pooled samples, Mann-Whitney U and Welch's
 *   t on logs, p <= `alpha` and a relative change of the median >= `minRelativeChange`.
 */
export interface MetricRule {
  /** Which way is better. */
  readonly direction: Direction;
  /** Which test decides. */
  readonly kind: "exact" | "absolute" | "samples";
  /** For `absolute`: the allowed worsening, in the metric's unit (default 0.005). */
  readonly tolerance?: number;
  /** For `samples`: the significance level (default 0.01). */
  readonly alpha?: number;
  /** For `samples`: the smallest relative change of the median that counts (default 0.05). */
  readonly minRelativeChange?: number;
}

/** The default tolerance of an `absolute` rule: 0.5 percentage points of a fraction. */
export const DEFAULT_TOLERANCE = 0.005;
/** The default significance level of a `samples` rule. */
export const DEFAULT_ALPHA = 0.01;
/** The default smallest relative change of a `samples` rule. */
export const DEFAULT_MIN_RELATIVE_CHANGE = 0.05;

function rule(value: MetricRule): MetricRule {
  return Object.freeze({ ...value });
}

const EXACT_LOWER = rule({ direction: "lower", kind: "exact" });
const SAMPLES_LOWER = rule({
  direction: "lower",
  kind: "samples",
  alpha: DEFAULT_ALPHA,
  minRelativeChange: DEFAULT_MIN_RELATIVE_CHANGE,
});
const SAMPLES_HIGHER = rule({ ...SAMPLES_LOWER, direction: "higher" });

const RULES: readonly [(name: string) => boolean, MetricRule][] = [
  [(n) => /(rss|memory|heap)/.test(n), SAMPLES_LOWER],
  [
    (n) =>
      /^(size|sizebytes|bytes|params|parameters|macs|flops)$/.test(n) ||
      /(bytes|params|macs|flops)$/.test(n),
    EXACT_LOWER,
  ],
  [
    (n) => n.includes("agreement"),
    rule({ direction: "higher", kind: "absolute", tolerance: 0.005 }),
  ],
  [(n) => n.includes("cosine"), rule({ direction: "higher", kind: "absolute", tolerance: 1e-4 })],
  [
    (n) => /(sqnr|psnr|snr)/.test(n),
    rule({ direction: "higher", kind: "absolute", tolerance: 0.1 }),
  ],
  [
    (n) => /(diff|error|mse|mae|divergence)/.test(n),
    rule({ direction: "lower", kind: "absolute", tolerance: 1e-6 }),
  ],
  [
    (n) => n.includes("accuracy") || /^top\d*k?$/.test(n) || /^top\d+/.test(n),
    rule({ direction: "higher", kind: "absolute", tolerance: DEFAULT_TOLERANCE }),
  ],
  [(n) => n.includes("latency") || /ms$/.test(n), SAMPLES_LOWER],
  [(n) => /(throughput|persecond|persec)/.test(n), SAMPLES_HIGHER],
];

/**
 * The rule for a metric, by its name (see the module documentation for the table). Case and
 * the separators `_`, `-`, `.`, `/` and spaces are ignored, so `top1Agreement`,
 * `top1_agreement` and `fidelity.top1-agreement` are the same metric.
 *
 * @param metric The metric's name.
 * @returns A frozen rule.
 * @example
 * ```ts
 * import { ruleFor } from "./rules.ts";
 * ruleFor("size_bytes"); // { direction: "lower", kind: "exact" }
 * ruleFor("accuracy_top1"); // { direction: "higher", kind: "absolute", tolerance: 0.005 }
 * ruleFor("latency_ms"); // { direction: "lower", kind: "samples", alpha: 0.01, minRelativeChange: 0.05 }
 * ```
 */
export function ruleFor(metric: string): MetricRule {
  const name = metric.toLowerCase().replace(/[\s_\-./]/g, "");
  for (const [matches, value] of RULES) if (matches(name)) return value;
  return SAMPLES_LOWER;
}
