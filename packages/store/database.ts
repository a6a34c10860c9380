/**
 * The store's tables as Kysely types. Times are `timestamptz` (read as `Date`), ids of runs and
 * regressions are UUIDs, JSON columns are `jsonb`. `int8` columns are read as string or number
 * depending on the driver; the query functions convert them with `Number()`.
 * @module
 */
import type { ColumnType, Generated } from "kysely";

/** A JSON value as stored in `jsonb`. */
export type JsonValue =
  | string
  | number
  | boolean
  | null
  | readonly JsonValue[]
  | { readonly [key: string]: JsonValue };

/** A run's status. */
export type RunStatus = "running" | "finished" | "failed";

/** A regression's status. */
export type RegressionStatus = "open" | "acknowledged" | "fixed";

/** A `timestamptz` column: a `Date` read, a `Date` or ISO string written. */
type Timestamp = ColumnType<Date, Date | string, Date | string>;
/** A `timestamptz` column with a default. */
type GeneratedTimestamp = ColumnType<Date, Date | string | undefined, Date | string>;
/** An `int8` column: read as a string (postgres.js) or number (PGlite), written as a number. */
type Int8 = ColumnType<string | number | bigint, number | bigint, number | bigint>;

/** `models`: a model artifact (a name and the SHA-256 of its bytes). */
export interface ModelsTable {
  id: Generated<number>;
  name: string;
  sha256: string;
  size_bytes: Int8;
  created_at: GeneratedTimestamp;
}

/** `recipes`: a compression recipe, deduplicated by the SHA-256 of its canonical JSON. */
export interface RecipesTable {
  id: Generated<number>;
  hash: string;
  name: string | null;
  config: JsonValue;
  created_at: GeneratedTimestamp;
}

/** `environments`: where runs ran, deduplicated by the SHA-256 of their canonical JSON. */
export interface EnvironmentsTable {
  id: Generated<number>;
  hash: string;
  cpu_model: string;
  cores: number;
  runtime: string;
  backend: string;
  details: JsonValue;
  created_at: GeneratedTimestamp;
}

/** `runs`: one evaluation, under a client-supplied UUID. */
export interface RunsTable {
  id: string;
  model_id: number;
  recipe_id: number;
  environment_id: number;
  payload_hash: string;
  status: RunStatus;
  started_at: Timestamp;
  ended_at: Timestamp | null;
  git_commit: string | null;
  branch: string | null;
  tags: JsonValue;
  report: JsonValue | null;
  created_at: GeneratedTimestamp;
}

/** `params`: write-once key/value pairs of a run. */
export interface ParamsTable {
  run_id: string;
  key: string;
  value: JsonValue;
}

/** `series`: model name x recipe x environment x metric, with an optional pinned baseline. */
export interface SeriesTable {
  id: Generated<number>;
  model_name: string;
  recipe_id: number;
  environment_id: number;
  metric: string;
  baseline_run_id: string | null;
}

/** `metrics`: one value (and raw samples, for latency) of a run, in its series. */
export interface MetricsTable {
  run_id: string;
  series_id: number;
  name: string;
  value: number;
  unit: string | null;
  samples: number[] | null;
  /** The run's start: kept here so that a series is one index range scan. */
  time: Timestamp;
}

/** `regressions`: a metric of a run that got worse than its baseline. */
export interface RegressionsTable {
  id: Generated<string>;
  run_id: string;
  series_id: number;
  metric: string;
  baseline_value: number;
  baseline_run_ids: string[];
  value: number;
  change: number;
  relative_change: number;
  p_value: number | null;
  test: string;
  message: string;
  status: Generated<RegressionStatus>;
  created_at: GeneratedTimestamp;
  updated_at: GeneratedTimestamp;
}

/** `change_points`: the first run after a shift in a series. */
export interface ChangePointsTable {
  id: Generated<number>;
  series_id: number;
  run_id: string;
  time: Timestamp;
  p_value: number;
  mean_before: number;
  mean_after: number;
  created_at: GeneratedTimestamp;
}

/** `series_rollups`: one row per series and UTC hour, for downsampling long series. */
export interface SeriesRollupsTable {
  series_id: number;
  hour: Timestamp;
  min: number;
  max: number;
  sum: number;
  count: number;
  last_time: Timestamp;
  last_run_id: string;
}

/**
 * `series_fine_rollups`: one row per series, width (5 or 15 minutes) and UTC interval of that
 * width aligned to the epoch, for downsampling into buckets narrower than an hour.
 */
export interface SeriesFineRollupsTable {
  series_id: number;
  minutes: number;
  start: Timestamp;
  min: number;
  max: number;
  sum: number;
  count: number;
  last_time: Timestamp;
  last_run_id: string;
}

/** The whole schema, as `Kysely<Database>` sees it. */
export interface Database {
  models: ModelsTable;
  recipes: RecipesTable;
  environments: EnvironmentsTable;
  runs: RunsTable;
  params: ParamsTable;
  series: SeriesTable;
  metrics: MetricsTable;
  regressions: RegressionsTable;
  change_points: ChangePointsTable;
  series_rollups: SeriesRollupsTable;
  series_fine_rollups: SeriesFineRollupsTable;
}
