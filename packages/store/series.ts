/**
 * Series: one metric of one model under one recipe in one environment, over time. Points with
 * downsampling, the history that regression tests read, and the pinned baseline.
 * @module
 */
import { type Kysely, sql } from "kysely";
import type { Database } from "./database.ts";
import { NotFoundError } from "./errors.ts";
import { toDate, toNumber } from "./_sql.ts";
import {
  type Bucket,
  countInRange,
  pickLevel,
  rawBuckets,
  rollupBuckets,
} from "./_series_buckets.ts";

/** What names a series. */
export interface SeriesKey {
  /** The model's name. */
  readonly model: string;
  /** The recipe's canonical hash. */
  readonly recipe: string;
  /** The environment's canonical hash. */
  readonly environment: string;
  /** The metric's name. */
  readonly metric: string;
}

/** A series as listed, with its labels. */
export interface SeriesInfo extends SeriesKey {
  /** The series' id. */
  readonly id: number;
  /** The recipe's human name, or null. */
  readonly recipeName: string | null;
  /** The environment as a short label ("wasm, 2 cores, AMD EPYC; deno 2.9.6"). */
  readonly environmentLabel: string;
  /** The unit of its latest point, or null. */
  readonly unit: string | null;
  /** The pinned baseline run, or null (then: history since the last change point). */
  readonly baselineRunId: string | null;
  /** How many points it has. */
  readonly points: number;
}

/** One point of a series: one run, or a bucket of runs when downsampled. */
export interface SeriesPoint {
  /** The run (for a bucket: its latest run). */
  readonly runId: string;
  /** When the run started (for a bucket: its latest). */
  readonly time: Date;
  /** The value (for a bucket: the mean). */
  readonly value: number;
  /** For a bucket: the smallest value. */
  readonly min?: number;
  /** For a bucket: the largest value. */
  readonly max?: number;
  /** For a bucket: how many runs it stands for. */
  readonly count?: number;
}

/** Options of {@linkcode querySeries}. */
export interface QuerySeriesOptions {
  /** Only points at or after this time. */
  readonly from?: Date;
  /** Only points before this time. */
  readonly to?: Date;
  /** At most this many points (default 1000): more are bucketed by time (min/avg/max). */
  readonly maxPoints?: number;
}

/** What {@linkcode querySeries} answers. */
export interface SeriesResult {
  /** The series' id. */
  readonly seriesId: number;
  /** The points, oldest first. */
  readonly points: SeriesPoint[];
  /** Whether the points are buckets. */
  readonly downsampled: boolean;
  /** How many runs are in the range. */
  readonly total: number;
}

/** One point of a series' history, for regression tests. */
export interface HistoryPoint {
  /** The run. */
  readonly runId: string;
  /** When it started. */
  readonly time: Date;
  /** Its value. */
  readonly value: number;
  /** Its raw samples, when it has them. */
  readonly samples?: readonly number[];
}

/**
 * Finds a series' id by its key.
 *
 * @param db The store's database.
 * @param key Model, recipe hash, environment hash, metric.
 * @returns The id, or undefined when there is no such series.
 * @example
 * ```ts ignore
 * import { findSeries } from "@modelpress/store";
 * const id = await findSeries(store.db, { model: "mlp", recipe, environment, metric: "accuracy" });
 * ```
 */
export async function findSeries(
  db: Kysely<Database>,
  key: SeriesKey,
): Promise<number | undefined> {
  const row = await db.selectFrom("series as s")
    .innerJoin("recipes as r", "r.id", "s.recipe_id")
    .innerJoin("environments as e", "e.id", "s.environment_id")
    .select("s.id")
    .where("s.model_name", "=", key.model)
    .where("r.hash", "=", key.recipe)
    .where("e.hash", "=", key.environment)
    .where("s.metric", "=", key.metric)
    .executeTakeFirst();
  return row?.id;
}

async function requireSeries(db: Kysely<Database>, key: SeriesKey): Promise<number> {
  const id = await findSeries(db, key);
  if (id === undefined) {
    throw new NotFoundError(
      `Cannot find series '${key.model}/${key.recipe.slice(0, 12)}/` +
        `${key.environment.slice(0, 12)}/${key.metric}': no such series`,
    );
  }
  return id;
}

/**
 * A series' points in a time range, oldest first. When there are more than `maxPoints`, the
 * range is cut into at most `maxPoints` equal time buckets and each non-empty bucket answers its
 * mean, min, max, count and latest run. Buckets of at least 5 minutes are whole multiples of the
 * coarsest rollup interval that fits (5 or 15 minutes, or hours; aligned to UTC) and are read from
 * the rollups, one row per interval, plus the points of the partial intervals at the range's
 * ends; narrower buckets start at the first point and are cut from every point (one index range
 * scan of `metrics (series_id, time)`). Either way the buckets are exact.
 *
 * @param db The store's database.
 * @param key The series.
 * @param options Time range and point budget.
 * @returns The points.
 * @throws {NotFoundError} When there is no such series.
 * @example
 * ```ts ignore
 * import { querySeries } from "@modelpress/store";
 * const { points } = await querySeries(store.db, key, { maxPoints: 200 });
 * ```
 */
export async function querySeries(
  db: Kysely<Database>,
  key: SeriesKey,
  options: QuerySeriesOptions = {},
): Promise<SeriesResult> {
  const seriesId = await requireSeries(db, key);
  return await querySeriesById(db, seriesId, options);
}

/**
 * {@linkcode querySeries} by the series' id.
 *
 * @param db The store's database.
 * @param seriesId The series' id.
 * @param options Time range and point budget.
 * @returns The points.
 * @example
 * ```ts ignore
 * import { querySeriesById } from "@modelpress/store";
 * const { points } = await querySeriesById(store.db, 7, { maxPoints: 200 });
 * ```
 */
export async function querySeriesById(
  db: Kysely<Database>,
  seriesId: number,
  options: QuerySeriesOptions = {},
): Promise<SeriesResult> {
  const maxPoints = options.maxPoints ?? 1000;
  if (!Number.isInteger(maxPoints) || maxPoints < 1) {
    throw new RangeError(`Cannot query series ${seriesId}: maxPoints must be a positive integer`);
  }
  let range = db.selectFrom("metrics").where("series_id", "=", seriesId);
  if (options.from) range = range.where("time", ">=", options.from);
  if (options.to) range = range.where("time", "<", options.to);
  const bounds = {
    ...(options.from ? { from: options.from.getTime() } : {}),
    ...(options.to ? { to: options.to.getTime() } : {}),
  };
  // Whether the range holds more than maxPoints points, counted from the hourly rollups.
  if (await countInRange(db, seriesId, bounds) <= maxPoints) {
    const rows = await range.select(["run_id", "time", "value"])
      .orderBy("time").orderBy("run_id").execute();
    return {
      seriesId,
      total: rows.length,
      downsampled: false,
      points: rows.map((r) => ({ runId: r.run_id, time: toDate(r.time), value: r.value })),
    };
  }
  const [head, last] = await Promise.all([
    range.select("time").orderBy("time").limit(1).executeTakeFirstOrThrow(),
    range.select("time").orderBy("time", "desc").limit(1).executeTakeFirstOrThrow(),
  ]);
  const first = toDate(head.time).getTime();
  const spanMs = toDate(last.time).getTime() - first;
  const level = pickLevel(first, first + spanMs, maxPoints);
  let points: Bucket[];
  if (level) {
    // Buckets of whole rollup intervals from the first point's interval, wide enough that the
    // last point falls in bucket maxPoints - 1 at the latest.
    const origin = Math.floor(first / level.ms) * level.ms;
    const widthMs = (Math.floor((first + spanMs - origin) / (maxPoints * level.ms)) + 1) *
      level.ms;
    points = await rollupBuckets(db, seriesId, level, { ...bounds, origin, widthMs });
  } else {
    // Whole microseconds, so that the last point falls in bucket maxPoints - 1 at the latest.
    const widthUs = Math.floor(spanMs * 1000 / maxPoints) + 1;
    points = await rawBuckets(db, seriesId, { ...bounds, origin: first, widthUs });
  }
  return {
    seriesId,
    total: points.reduce((n, p) => n + p.count, 0),
    downsampled: true,
    points,
  };
}

/** Options of {@linkcode seriesHistory}. */
export interface SeriesHistoryOptions {
  /** Only runs that started before this time. */
  readonly before?: Date;
  /** At most this many of the latest points (default 500). */
  readonly limit?: number;
}

/**
 * The latest points of a series with their raw samples, oldest first: what regression tests
 * compare a new run with.
 *
 * @param db The store's database.
 * @param seriesId The series' id.
 * @param options Before when, how many.
 * @returns The points.
 * @example
 * ```ts ignore
 * import { seriesHistory } from "@modelpress/store";
 * const history = await seriesHistory(store.db, 7, { before: run.startedAt });
 * ```
 */
export async function seriesHistory(
  db: Kysely<Database>,
  seriesId: number,
  options: SeriesHistoryOptions = {},
): Promise<HistoryPoint[]> {
  let query = db.selectFrom("metrics").select(["run_id", "time", "value", "samples"])
    .where("series_id", "=", seriesId);
  if (options.before) query = query.where("time", "<", options.before);
  const rows = await query.orderBy("time", "desc").orderBy("run_id", "desc")
    .limit(options.limit ?? 500).execute();
  return rows.reverse().map((r) => ({
    runId: r.run_id,
    time: toDate(r.time),
    value: r.value,
    ...(r.samples ? { samples: r.samples.map(Number) } : {}),
  }));
}

/**
 * Every series of a model with its labels, by metric, recipe and environment.
 *
 * @param db The store's database.
 * @param model The model's name.
 * @returns The series (empty for an unknown model).
 * @example
 * ```ts ignore
 * import { listSeries } from "@modelpress/store";
 * for (const s of await listSeries(store.db, "mlp")) console.log(s.metric, s.recipeName);
 * ```
 */
export async function listSeries(db: Kysely<Database>, model: string): Promise<SeriesInfo[]> {
  const rows = await db.selectFrom("series as s")
    .innerJoin("recipes as r", "r.id", "s.recipe_id")
    .innerJoin("environments as e", "e.id", "s.environment_id")
    .select([
      "s.id",
      "s.model_name",
      "s.metric",
      "s.baseline_run_id",
      "r.hash as recipe",
      "r.name as recipe_name",
      "e.hash as environment",
      "e.cpu_model",
      "e.cores",
      "e.runtime",
      "e.backend",
      sql<string | null>`(select m.unit from metrics m where m.series_id = s.id
        order by m.time desc limit 1)`.as("unit"),
      sql<string | number>`(select count(*) from metrics m where m.series_id = s.id)`.as("points"),
    ])
    .where("s.model_name", "=", model)
    .orderBy("s.metric").orderBy("r.name").orderBy("r.hash").orderBy("e.hash")
    .execute();
  return rows.map((r) => ({
    id: r.id,
    model: r.model_name,
    recipe: r.recipe,
    environment: r.environment,
    metric: r.metric,
    recipeName: r.recipe_name,
    environmentLabel: environmentLabel(r),
    unit: r.unit,
    baselineRunId: r.baseline_run_id,
    points: toNumber(r.points),
  }));
}

/**
 * A short label of an environment: "wasm, 2 cores, AMD EPYC; deno 2.9.6".
 *
 * @param env Backend, cores, CPU model, runtime.
 * @returns The label.
 * @example
 * ```ts
 * import { environmentLabel } from "@modelpress/store";
 * environmentLabel({ backend: "wasm", cores: 2, cpu_model: "x86", runtime: "deno" }); // "wasm, 2 cores, x86; deno"
 * ```
 */
export function environmentLabel(
  env: { backend: string; cores: number; cpu_model: string; runtime: string },
): string {
  return `${env.backend}, ${env.cores} cores, ${env.cpu_model}; ${env.runtime}`;
}

/**
 * Pins a series' baseline to one of its runs (regression tests then compare new runs with that
 * run alone), or unpins it with `null` (then: the history since the last change point).
 *
 * @param db The store's database.
 * @param key The series.
 * @param runId A run with a point in the series, or null.
 * @returns The series' id.
 * @throws {NotFoundError} When the series does not exist or the run has no point in it.
 * @example
 * ```ts ignore
 * import { setSeriesBaseline } from "@modelpress/store";
 * await setSeriesBaseline(store.db, key, "0b6c...");
 * ```
 */
export async function setSeriesBaseline(
  db: Kysely<Database>,
  key: SeriesKey,
  runId: string | null,
): Promise<number> {
  const seriesId = await requireSeries(db, key);
  if (runId !== null) {
    const point = await db.selectFrom("metrics").select("run_id")
      .where("series_id", "=", seriesId).where("run_id", "=", runId).executeTakeFirst();
    if (!point) {
      throw new NotFoundError(
        `Cannot pin baseline of series ${seriesId}: run '${runId}' has no point in it`,
      );
    }
  }
  await db.updateTable("series").set({ baseline_run_id: runId }).where("id", "=", seriesId)
    .execute();
  return seriesId;
}

/**
 * The pinned baseline of a series, as a history point, or undefined when none is pinned.
 *
 * @param db The store's database.
 * @param seriesId The series' id.
 * @returns The baseline point.
 * @example
 * ```ts ignore
 * import { seriesBaseline } from "@modelpress/store";
 * const pinned = await seriesBaseline(store.db, 7);
 * ```
 */
export async function seriesBaseline(
  db: Kysely<Database>,
  seriesId: number,
): Promise<HistoryPoint | undefined> {
  const row = await db.selectFrom("series as s")
    .innerJoin(
      "metrics as m",
      (join) => join.onRef("m.run_id", "=", "s.baseline_run_id").onRef("m.series_id", "=", "s.id"),
    )
    .select(["m.run_id", "m.time", "m.value", "m.samples"])
    .where("s.id", "=", seriesId).executeTakeFirst();
  if (!row) return undefined;
  return {
    runId: row.run_id,
    time: toDate(row.time),
    value: row.value,
    ...(row.samples ? { samples: row.samples.map(Number) } : {}),
  };
}
