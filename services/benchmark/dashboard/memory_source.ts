/**
 * A {@linkcode DashboardSource} over plain objects in memory: for tests, demos and as the
 * reference of what a source answers.
 * @module
 */
import type {
  ChangePoint,
  DashboardSource,
  ModelOverview,
  ParetoData,
  ParetoPoint,
  RegressionRow,
  RegressionStatus,
  RunDetail,
  RunMetric,
  SeriesData,
  SeriesKey,
  SeriesOptions,
  SeriesPoint,
  SeriesRegression,
} from "./source.ts";

/** A run as the memory source takes it (what {@linkcode RunDetail} has, most of it optional). */
export interface MemoryRun {
  /** The run's id. */
  readonly id: string;
  /** The model's name. */
  readonly model: string;
  /** The recipe's canonical hash. */
  readonly recipe: string;
  /** The recipe's human name (default: the hash). */
  readonly recipeName?: string;
  /** The environment's id. */
  readonly environment: string;
  /** The environment's human label (default: the id). */
  readonly environmentLabel?: string;
  /** When it started (ISO 8601). */
  readonly startedAt: string;
  /** When it finished (ISO 8601). */
  readonly finishedAt?: string;
  /** The git commit. */
  readonly gitCommit?: string;
  /** The git branch. */
  readonly branch?: string;
  /** Parameters. */
  readonly params?: Readonly<Record<string, string | number | boolean | null>>;
  /** Tags. */
  readonly tags?: Readonly<Record<string, string>>;
  /** Metrics; each becomes a point of the series model x recipe x environment x metric. */
  readonly metrics: readonly RunMetric[];
  /** The compression report. */
  readonly report?: unknown;
}

/** A regression as the memory source takes it: on one metric of one run. */
export interface MemoryRegression {
  /** The regression's id. */
  readonly id: string;
  /** The run that regressed. */
  readonly runId: string;
  /** The metric that regressed. */
  readonly metric: string;
  /** Open, acknowledged or fixed. */
  readonly status: RegressionStatus;
  /** Why it was flagged. */
  readonly message: string;
  /** The baseline value. */
  readonly baseline?: number;
}

/** A change point as the memory source takes it: the first run after a shift of a metric. */
export interface MemoryChangePoint {
  /** The first run after the change. */
  readonly runId: string;
  /** The metric that changed. */
  readonly metric: string;
}

/** What {@linkcode createMemorySource} serves. */
export interface MemoryData {
  /** Every run, in any order. */
  readonly runs: readonly MemoryRun[];
  /** Flagged regressions. */
  readonly regressions?: readonly MemoryRegression[];
  /** Change points. */
  readonly changePoints?: readonly MemoryChangePoint[];
}

/** Which metric names the overview and the Pareto front read. */
export interface MemorySourceOptions {
  /** The size metric (default "size_bytes"). */
  readonly sizeMetric?: string;
  /** The accuracy metric (default "accuracy"). */
  readonly accuracyMetric?: string;
  /** The latency metric (default "latency_ms"). */
  readonly latencyMetric?: string;
}

/**
 * Makes a {@linkcode DashboardSource} over `data`. Series are derived from the runs' metrics:
 * one per model x recipe x environment x metric, points ordered by start time, downsampled into
 * equal buckets (mean, with min and max) when longer than `maxPoints`. The Pareto plane takes
 * each recipe's latest run that has both size and accuracy.
 *
 * @param data Runs, regressions and change points.
 * @param options Which metrics are size, accuracy and latency.
 * @returns The source.
 * @example
 * ```ts
 * import { createMemorySource } from "./memory_source.ts";
 * const source = createMemorySource({
 *   runs: [{
 *     id: "r1", model: "mlp", recipe: "h1", environment: "e1",
 *     startedAt: "2026-01-01T00:00:00Z", metrics: [{ name: "accuracy", value: 0.97 }],
 *   }],
 * });
 * console.log((await source.listModels())[0]?.accuracy); // 0.97
 * ```
 */
export function createMemorySource(
  data: MemoryData,
  options: MemorySourceOptions = {},
): DashboardSource {
  const sizeMetric = options.sizeMetric ?? "size_bytes";
  const accuracyMetric = options.accuracyMetric ?? "accuracy";
  const latencyMetric = options.latencyMetric ?? "latency_ms";
  const runs = [...data.runs].sort((a, b) => a.startedAt.localeCompare(b.startedAt));
  const runById = new Map(runs.map((run) => [run.id, run]));
  const regressions = data.regressions ?? [];
  const changePoints = data.changePoints ?? [];

  const metricOf = (run: MemoryRun, name: string): RunMetric | undefined =>
    run.metrics.find((m) => m.name === name);
  const keyOf = (run: MemoryRun, metric: RunMetric): SeriesKey => ({
    model: run.model,
    recipe: run.recipe,
    recipeName: run.recipeName ?? run.recipe,
    environment: run.environment,
    environmentLabel: run.environmentLabel ?? run.environment,
    metric: metric.name,
    ...(metric.unit === undefined ? {} : { unit: metric.unit }),
  });
  const inSeries = (run: MemoryRun, key: SeriesKey): boolean =>
    run.model === key.model && run.recipe === key.recipe && run.environment === key.environment;
  const regressionOf = (r: MemoryRegression): SeriesRegression | null => {
    const run = runById.get(r.runId);
    const metric = run && metricOf(run, r.metric);
    if (!run || !metric) return null;
    return {
      id: r.id,
      runId: r.runId,
      time: run.startedAt,
      value: metric.value,
      status: r.status,
      message: r.message,
    };
  };

  return {
    listModels(): Promise<ModelOverview[]> {
      const names = [...new Set(runs.map((run) => run.model))].sort();
      return Promise.resolve(names.map((name): ModelOverview => {
        const own = runs.filter((run) => run.model === name);
        const latest = (metric: string): number | null =>
          own.findLast((run) => metricOf(run, metric))?.metrics.find((m) => m.name === metric)
            ?.value ?? null;
        const openRegressions = regressions.filter((r) =>
          r.status === "open" && runById.get(r.runId)?.model === name
        ).length;
        return {
          name,
          sizeBytes: latest(sizeMetric),
          accuracy: latest(accuracyMetric),
          latencyMs: latest(latencyMetric),
          runs: own.length,
          openRegressions,
          lastRunAt: own.at(-1)?.startedAt ?? null,
        };
      }));
    },

    listSeries(model: string): Promise<SeriesKey[]> {
      const keys = new Map<string, SeriesKey>();
      for (const run of runs) {
        if (run.model !== model) continue;
        for (const metric of run.metrics) {
          const key = keyOf(run, metric);
          keys.set(JSON.stringify([key.recipe, key.environment, key.metric]), key);
        }
      }
      return Promise.resolve(
        [...keys.values()].sort((a, b) =>
          a.recipeName.localeCompare(b.recipeName) ||
          a.environmentLabel.localeCompare(b.environmentLabel) ||
          a.metric.localeCompare(b.metric)
        ),
      );
    },

    series(key: SeriesKey, options: SeriesOptions): Promise<SeriesData> {
      if (!Number.isInteger(options.maxPoints) || options.maxPoints < 1) {
        return Promise.reject(
          new RangeError(
            `Cannot read series '${key.metric}': maxPoints must be a positive integer, got ${options.maxPoints}`,
          ),
        );
      }
      const own = runs.filter((run) => inSeries(run, key) && metricOf(run, key.metric));
      const raw = own.map((run): SeriesPoint => ({
        runId: run.id,
        time: run.startedAt,
        value: metricOf(run, key.metric)!.value,
      }));
      const ids = new Set(own.map((run) => run.id));
      const flagged = regressions
        .filter((r) => r.metric === key.metric && ids.has(r.runId))
        .map(regressionOf)
        .filter((r): r is SeriesRegression => r !== null)
        .sort((a, b) => a.time.localeCompare(b.time));
      const changes = changePoints
        .filter((c) => c.metric === key.metric && ids.has(c.runId))
        .map((c): ChangePoint => ({ runId: c.runId, time: runById.get(c.runId)!.startedAt }))
        .sort((a, b) => a.time.localeCompare(b.time));
      return Promise.resolve({
        points: downsample(raw, options.maxPoints),
        regressions: flagged,
        changePoints: changes,
      });
    },

    openRegressions(): Promise<RegressionRow[]> {
      const rows: RegressionRow[] = [];
      for (const r of regressions) {
        if (r.status !== "open") continue;
        const run = runById.get(r.runId);
        const metric = run && metricOf(run, r.metric);
        const flagged = regressionOf(r);
        if (!run || !metric || !flagged) continue;
        rows.push({ ...flagged, series: keyOf(run, metric), baseline: r.baseline ?? null });
      }
      return Promise.resolve(rows.sort((a, b) => b.time.localeCompare(a.time)));
    },

    run(id: string): Promise<RunDetail | null> {
      const run = runById.get(id);
      if (!run) return Promise.resolve(null);
      return Promise.resolve({
        id: run.id,
        model: run.model,
        recipe: run.recipe,
        recipeName: run.recipeName ?? run.recipe,
        environment: run.environment,
        environmentLabel: run.environmentLabel ?? run.environment,
        startedAt: run.startedAt,
        finishedAt: run.finishedAt ?? null,
        gitCommit: run.gitCommit ?? null,
        branch: run.branch ?? null,
        params: run.params ?? {},
        tags: run.tags ?? {},
        metrics: run.metrics,
        report: run.report ?? null,
      });
    },

    pareto(model: string): Promise<ParetoData> {
      const latest = new Map<string, ParetoPoint>();
      for (const run of runs) {
        if (run.model !== model) continue;
        const size = metricOf(run, sizeMetric);
        const accuracy = metricOf(run, accuracyMetric);
        if (!size || !accuracy) continue;
        latest.set(run.recipe, {
          recipe: run.recipe,
          recipeName: run.recipeName ?? run.recipe,
          runId: run.id,
          sizeBytes: size.value,
          accuracy: accuracy.value,
        });
      }
      const all = [...latest.values()].sort((a, b) =>
        a.sizeBytes - b.sizeBytes || b.accuracy - a.accuracy
      );
      const front: ParetoPoint[] = [];
      for (const point of all) {
        if (front.length === 0 || point.accuracy > front.at(-1)!.accuracy) front.push(point);
      }
      return Promise.resolve({ all, front });
    },

    hasModel(model: string): Promise<boolean> {
      return Promise.resolve(runs.some((run) => run.model === model));
    },
  };
}

/** Equal buckets of consecutive points: mean value, min and max, the bucket's last run. */
function downsample(points: readonly SeriesPoint[], maxPoints: number): SeriesPoint[] {
  if (points.length <= maxPoints) return [...points];
  const out: SeriesPoint[] = [];
  for (let i = 0; i < maxPoints; i++) {
    const bucket = points.slice(
      Math.floor(i * points.length / maxPoints),
      Math.floor((i + 1) * points.length / maxPoints),
    );
    const values = bucket.map((p) => p.value);
    const last = bucket.at(-1)!;
    out.push({
      runId: last.runId,
      time: last.time,
      value: values.reduce((a, b) => a + b, 0) / values.length,
      min: Math.min(...values),
      max: Math.max(...values),
    });
  }
  return out;
}
