/**
 * What the dashboard reads: a small, plain data-source interface that the store (or anything
 * else) adapts to. Every value is serialisable JSON (times are ISO 8601 strings), so a source can
 * as well sit behind HTTP.
 * @module
 */

/** One model on the overview page: its latest numbers and how much history it has. */
export interface ModelOverview {
  /** The model's name (unique; it is the key of the model page). */
  readonly name: string;
  /** Size in bytes of the latest run's model, or null when no run measured it. */
  readonly sizeBytes: number | null;
  /** Accuracy (0..1) of the latest run, or null when no run measured it. */
  readonly accuracy: number | null;
  /** Latency (milliseconds, median) of the latest run, or null when no run measured it. */
  readonly latencyMs: number | null;
  /** How many runs the model has. */
  readonly runs: number;
  /** How many of its regressions are open. */
  readonly openRegressions: number;
  /** When its latest run started (ISO 8601), or null without runs. */
  readonly lastRunAt: string | null;
}

/**
 * One series: a model x recipe x environment x metric.
 *
 * `unit` says how values are shown: `"bytes"`, `"ratio"` (0..1, shown as a percentage) or
 * `"ms"`; any other string is printed after the number. Without it the dashboard guesses from
 * the metric's name (`size*`/`*bytes` bytes, `accuracy*` ratio, `latency*` ms).
 */
export interface SeriesKey {
  /** The model's name. */
  readonly model: string;
  /** The recipe's canonical hash. */
  readonly recipe: string;
  /** The recipe's human name (e.g. "int8 dynamic"). */
  readonly recipeName: string;
  /** The environment's id. */
  readonly environment: string;
  /** The environment's human label (e.g. "wasm, 2 cores, x86_64"). */
  readonly environmentLabel: string;
  /** The metric's name (e.g. "size_bytes", "accuracy", "latency_ms"). */
  readonly metric: string;
  /** How values are shown; see the interface's description. */
  readonly unit?: string;
}

/** One point of a series (one run, or a bucket of runs when downsampled). */
export interface SeriesPoint {
  /** The run (for a bucket: its last run). */
  readonly runId: string;
  /** When the run started (ISO 8601). */
  readonly time: string;
  /** The metric's value (for a bucket: the mean). */
  readonly value: number;
  /** The smallest value in the bucket, when the point stands for several runs. */
  readonly min?: number;
  /** The largest value in the bucket, when the point stands for several runs. */
  readonly max?: number;
}

/** How far a regression has been handled. */
export type RegressionStatus = "open" | "acknowledged" | "fixed";

/** A regression flagged on a run of a series. */
export interface SeriesRegression {
  /** The regression's id (what `/v1/regressions/:id/acknowledge` takes). */
  readonly id: string;
  /** The run that regressed. */
  readonly runId: string;
  /** When that run started (ISO 8601). */
  readonly time: string;
  /** The regressed value. */
  readonly value: number;
  /** Open, acknowledged or fixed. */
  readonly status: RegressionStatus;
  /** Why it was flagged (e.g. "latency +12.3% (Mann-Whitney p=0.0004)"). */
  readonly message: string;
}

/** A change point of a series: the first run after a shift. */
export interface ChangePoint {
  /** The first run after the change. */
  readonly runId: string;
  /** When that run started (ISO 8601). */
  readonly time: string;
}

/** What {@linkcode DashboardSource.series} answers. */
export interface SeriesData {
  /** The points, oldest first, at most `maxPoints` of them. */
  readonly points: readonly SeriesPoint[];
  /** Regressions flagged on the series (every status). */
  readonly regressions: readonly SeriesRegression[];
  /** Change points, oldest first. */
  readonly changePoints: readonly ChangePoint[];
}

/** Options of {@linkcode DashboardSource.series}. */
export interface SeriesOptions {
  /** At most this many points: longer series are downsampled into buckets (with min/max). */
  readonly maxPoints: number;
}

/** A regression in the list of open regressions. */
export interface RegressionRow extends SeriesRegression {
  /** The series it belongs to. */
  readonly series: SeriesKey;
  /** The baseline it was compared with (same unit as `value`), when there is one. */
  readonly baseline: number | null;
}

/** One metric of a run. */
export interface RunMetric {
  /** The metric's name. */
  readonly name: string;
  /** Its value. */
  readonly value: number;
  /** How it is shown (as in {@linkcode SeriesKey.unit}). */
  readonly unit?: string;
}

/** Everything about one run. */
export interface RunDetail {
  /** The run's UUID. */
  readonly id: string;
  /** The model's name. */
  readonly model: string;
  /** The recipe's canonical hash. */
  readonly recipe: string;
  /** The recipe's human name. */
  readonly recipeName: string;
  /** The environment's id. */
  readonly environment: string;
  /** The environment's human label. */
  readonly environmentLabel: string;
  /** When it started (ISO 8601). */
  readonly startedAt: string;
  /** When it finished (ISO 8601), or null. */
  readonly finishedAt: string | null;
  /** The git commit it ran at, or null. */
  readonly gitCommit: string | null;
  /** The git branch, or null. */
  readonly branch: string | null;
  /** Its parameters. */
  readonly params: Readonly<Record<string, string | number | boolean | null>>;
  /** Its tags. */
  readonly tags: Readonly<Record<string, string>>;
  /** Its metrics. */
  readonly metrics: readonly RunMetric[];
  /** The compression report (JSON) when the run has one, else null. */
  readonly report: unknown;
}

/** One recipe of a model on the size/accuracy plane. */
export interface ParetoPoint {
  /** The recipe's canonical hash. */
  readonly recipe: string;
  /** The recipe's human name. */
  readonly recipeName: string;
  /** The run the numbers come from. */
  readonly runId: string;
  /** Model size in bytes. */
  readonly sizeBytes: number;
  /** Accuracy (0..1). */
  readonly accuracy: number;
}

/** What {@linkcode DashboardSource.pareto} answers. */
export interface ParetoData {
  /** Every recipe's point. */
  readonly all: readonly ParetoPoint[];
  /** The points no other point beats on both size (smaller) and accuracy (higher), by size. */
  readonly front: readonly ParetoPoint[];
}

/**
 * What the dashboard reads. Every method answers plain JSON-serialisable data; the store's
 * adapter implements it, and {@linkcode createMemorySource} does for tests.
 *
 * @example
 * ```ts
 * import type { DashboardSource } from "./source.ts";
 * import { createMemorySource } from "./memory_source.ts";
 * const source: DashboardSource = createMemorySource({ runs: [] });
 * console.log(await source.listModels()); // []
 * ```
 */
export interface DashboardSource {
  /** Every model with its latest numbers, by name. */
  listModels(): Promise<ModelOverview[]>;
  /** The series of a model (empty when the model is unknown). */
  listSeries(model: string): Promise<SeriesKey[]>;
  /** One series' points (downsampled to `maxPoints`), regressions and change points. */
  series(key: SeriesKey, options: SeriesOptions): Promise<SeriesData>;
  /** Every open regression, newest first. */
  openRegressions(): Promise<RegressionRow[]>;
  /** One run, or null when there is none with that id. */
  run(id: string): Promise<RunDetail | null>;
  /** The size/accuracy points of a model's recipes and their Pareto front. */
  pareto(model: string): Promise<ParetoData>;
  /** Whether a model exists (so that the dashboard can answer 404). */
  hasModel(model: string): Promise<boolean>;
}
