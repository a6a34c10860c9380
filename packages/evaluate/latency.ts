/**
 * Latency of a session: warm-up runs, then timed runs (a count, or a time budget), summarized.
 *
 * Percentiles use linear interpolation between the closest ranks (NumPy's default `linear`
 * method, Hyndman & Fan type 7): for sorted samples `x[0..n-1]` and `p` in [0, 1],
 * `h = (n - 1)·p` and the percentile is `x[⌊h⌋] + (h - ⌊h⌋)·(x[⌈h⌉] - x[⌊h⌋])`. The standard
 * deviation is the sample one (divisor `n - 1`; 0 for one sample). Throughput is
 * `batchSize · runs / Σ samples`, in samples per second.
 * @module
 */
import { runSession, type Session, type TensorMap } from "./session.ts";

/** How latency is measured. */
export interface LatencyOptions {
  /** Untimed runs first (default 3). */
  readonly warmupRuns?: number;
  /** Timed runs (default 20; unlimited when `budgetMs` is set and `runs` is not). */
  readonly runs?: number;
  /** Stop timing once this many milliseconds have passed since the first timed run began. */
  readonly budgetMs?: number;
  /** Samples per run (default 1). */
  readonly batchSize?: number;
}

/** Options of {@link measureLatency}. */
export interface MeasureLatencyOptions extends LatencyOptions {
  /** Cancels between runs: the promise rejects with the signal's reason. */
  readonly signal?: AbortSignal;
  /**
   * Called after each timed run with the runs done and the runs planned (for a budget without
   * `runs`, an estimate from the mean so far).
   */
  readonly onRun?: (done: number, total: number) => void;
}

/** Summary statistics of latency samples, in milliseconds. */
export interface LatencySummary {
  /** Number of samples. */
  readonly runs: number;
  /** Fastest run. */
  readonly minMs: number;
  /** Slowest run. */
  readonly maxMs: number;
  /** Mean. */
  readonly meanMs: number;
  /** Sample standard deviation. */
  readonly stddevMs: number;
  /** Median. */
  readonly p50Ms: number;
  /** 90th percentile. */
  readonly p90Ms: number;
  /** 99th percentile. */
  readonly p99Ms: number;
  /** Samples (inputs, not runs) per second. */
  readonly samplesPerSecond: number;
}

/** A latency measurement: the summary, the settings and every raw sample. */
export interface LatencyReport extends LatencySummary {
  /** Samples per run. */
  readonly batchSize: number;
  /** Untimed runs done first. */
  readonly warmupRuns: number;
  /** The time budget, when one was set. */
  readonly budgetMs?: number;
  /** Each timed run's duration in milliseconds, in run order. */
  readonly samplesMs: readonly number[];
}

const DEFAULT_WARMUP_RUNS = 3;
const DEFAULT_RUNS = 20;

/**
 * The `p` quantile of sorted values (see the module doc for the method).
 *
 * @param sorted Values in ascending order.
 * @param p The quantile, in [0, 1].
 * @returns The interpolated value (NaN for no values).
 * @throws {RangeError} When `p` is outside [0, 1].
 * @example
 * ```ts
 * import { percentile } from "@modelpress/evaluate";
 * percentile([1, 2, 3, 4], 0.5); // 2.5
 * ```
 */
export function percentile(sorted: readonly number[], p: number): number {
  if (!(p >= 0 && p <= 1)) {
    throw new RangeError(`Cannot evaluate percentile: p must be in [0, 1], got ${p}`);
  }
  if (sorted.length === 0) return NaN;
  const h = (sorted.length - 1) * p;
  const lo = Math.floor(h);
  const hi = Math.ceil(h);
  return sorted[lo]! + (h - lo) * (sorted[hi]! - sorted[lo]!);
}

/**
 * Summarizes latency samples.
 *
 * @param samplesMs Run durations in milliseconds (any order).
 * @param options `batchSize`, the samples per run (default 1), for the throughput.
 * @returns The summary (NaN statistics and 0 throughput for no samples).
 * @example
 * ```ts
 * import { summarizeLatency } from "@modelpress/evaluate";
 * summarizeLatency([2, 4], { batchSize: 8 }).samplesPerSecond; // 2666.66...
 * ```
 */
export function summarizeLatency(
  samplesMs: readonly number[],
  options: { readonly batchSize?: number } = {},
): LatencySummary {
  const batchSize = options.batchSize ?? 1;
  const sorted = [...samplesMs].sort((a, b) => a - b);
  const n = sorted.length;
  const total = sorted.reduce((s, x) => s + x, 0);
  const mean = n === 0 ? NaN : total / n;
  const variance = n < 2 ? 0 : sorted.reduce((s, x) => s + (x - mean) ** 2, 0) / (n - 1);
  return {
    runs: n,
    minMs: n === 0 ? NaN : sorted[0]!,
    maxMs: n === 0 ? NaN : sorted[n - 1]!,
    meanMs: mean,
    stddevMs: n === 0 ? NaN : Math.sqrt(variance),
    p50Ms: percentile(sorted, 0.5),
    p90Ms: percentile(sorted, 0.9),
    p99Ms: percentile(sorted, 0.99),
    samplesPerSecond: total > 0 ? (batchSize * n * 1000) / total : 0,
  };
}

/**
 * Checks a count option.
 *
 * @param name The option's name.
 * @param value Its value.
 * @param min The smallest value allowed.
 * @returns The value.
 */
function count(name: string, value: number, min: number): number {
  if (!Number.isInteger(value) || value < min) {
    throw new RangeError(
      `Cannot evaluate latency: ${name} must be an integer >= ${min}, got ${value}`,
    );
  }
  return value;
}

/**
 * Times a session on fixed inputs: `warmupRuns` untimed runs, then timed runs until `runs` are
 * done or `budgetMs` has passed (at least one timed run).
 *
 * @param session The session.
 * @param feeds The inputs of every run (their batch should be `options.batchSize`).
 * @param options Runs, budget, batch size, signal and a per-run callback.
 * @returns The summary and raw samples.
 * @throws {RangeError} When a count is not a non-negative integer (`runs` positive) or the
 * budget is not positive.
 * @throws {DOMException} The signal's reason (an `AbortError`) when cancelled.
 * @example
 * ```ts
 * import { createSession, measureLatency, Tensor } from "@modelpress/evaluate";
 * const session = await createSession(await Deno.readFile("test/fixtures/mnist_mlp.onnx"));
 * const report = await measureLatency(session, {
 *   input: new Tensor("float32", new Float32Array(784), [1, 784]),
 * }, { runs: 50 });
 * console.log(report.p50Ms, report.samplesMs.length); // ~0.05 50
 * await session.release();
 * ```
 */
export async function measureLatency(
  session: Session,
  feeds: TensorMap,
  options: MeasureLatencyOptions = {},
): Promise<LatencyReport> {
  const warmupRuns = count("warmupRuns", options.warmupRuns ?? DEFAULT_WARMUP_RUNS, 0);
  const batchSize = count("batchSize", options.batchSize ?? 1, 1);
  const { budgetMs, signal } = options;
  if (budgetMs !== undefined && !(budgetMs > 0 && Number.isFinite(budgetMs))) {
    throw new RangeError(`Cannot evaluate latency: budgetMs must be positive, got ${budgetMs}`);
  }
  const runs = options.runs !== undefined
    ? count("runs", options.runs, 1)
    : budgetMs !== undefined
    ? Infinity
    : DEFAULT_RUNS;
  signal?.throwIfAborted();
  for (let i = 0; i < warmupRuns; i++) {
    await runSession(session, feeds);
    signal?.throwIfAborted();
  }
  const samplesMs: number[] = [];
  const start = performance.now();
  while (samplesMs.length < runs) {
    const t0 = performance.now();
    await runSession(session, feeds);
    const t1 = performance.now();
    samplesMs.push(t1 - t0);
    signal?.throwIfAborted();
    const elapsed = t1 - start;
    const done = samplesMs.length;
    const over = budgetMs !== undefined && elapsed >= budgetMs;
    if (options.onRun) {
      const planned = over || done >= runs ? done : budgetMs === undefined ? runs : Math.min(
        runs,
        Math.max(done + 1, Math.round((budgetMs * done) / Math.max(elapsed, 1e-3))),
      );
      options.onRun(done, planned);
    }
    if (over) break;
  }
  return {
    ...summarizeLatency(samplesMs, { batchSize }),
    batchSize,
    warmupRuns,
    ...(budgetMs === undefined ? {} : { budgetMs }),
    samplesMs,
  };
}
