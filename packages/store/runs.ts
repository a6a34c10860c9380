/**
 * Runs read back: one run in full, two runs side by side, and runs searched by params and tags.
 * @module
 */
import { type Kysely, sql } from "kysely";
import type { Database, JsonValue, RunStatus } from "./database.ts";
import { NotFoundError } from "./errors.ts";
import { environmentLabel } from "./series.ts";
import { canonicalJson } from "./canonical_json.ts";
import { jsonb, toDate, toNumber } from "./_sql.ts";

/** A run as listed. */
export interface RunSummary {
  /** The run's id. */
  readonly id: string;
  /** The model's name. */
  readonly model: string;
  /** The recipe's hash. */
  readonly recipe: string;
  /** The recipe's name, or null. */
  readonly recipeName: string | null;
  /** The environment's hash. */
  readonly environment: string;
  /** The environment's label. */
  readonly environmentLabel: string;
  /** Status. */
  readonly status: RunStatus;
  /** When it started. */
  readonly startedAt: Date;
  /** When it ended, or null. */
  readonly endedAt: Date | null;
  /** Git commit, or null. */
  readonly gitCommit: string | null;
  /** Git branch, or null. */
  readonly branch: string | null;
  /** Tags. */
  readonly tags: { readonly [key: string]: JsonValue };
}

/** A stored metric of a run. */
export interface RunMetricRecord {
  /** The metric's name. */
  readonly name: string;
  /** Its value. */
  readonly value: number;
  /** Its unit, or null. */
  readonly unit: string | null;
  /** Its raw samples, or null. */
  readonly samples: readonly number[] | null;
  /** Its series. */
  readonly seriesId: number;
}

/** One run in full. */
export interface RunDetail extends RunSummary {
  /** The model artifact. */
  readonly modelSha256: string;
  /** The artifact's size in bytes. */
  readonly modelSizeBytes: number;
  /** The recipe's configuration. */
  readonly recipeConfig: JsonValue;
  /** The environment's fields. */
  readonly environmentInfo: {
    readonly cpuModel: string;
    readonly cores: number;
    readonly runtime: string;
    readonly backend: string;
    readonly details: JsonValue;
  };
  /** The compression report, or null. */
  readonly report: JsonValue | null;
  /** Parameters. */
  readonly params: { readonly [key: string]: JsonValue };
  /** Metrics, by name. */
  readonly metrics: readonly RunMetricRecord[];
}

function runsQuery(db: Kysely<Database>) {
  return db.selectFrom("runs as r")
    .innerJoin("models as m", "m.id", "r.model_id")
    .innerJoin("recipes as rc", "rc.id", "r.recipe_id")
    .innerJoin("environments as e", "e.id", "r.environment_id")
    .select([
      "r.id",
      "m.name as model",
      "rc.hash as recipe",
      "rc.name as recipe_name",
      "e.hash as environment",
      "e.cpu_model",
      "e.cores",
      "e.runtime",
      "e.backend",
      "r.status",
      "r.started_at",
      "r.ended_at",
      "r.git_commit",
      "r.branch",
      "r.tags",
    ]);
}

type SummaryRow = Awaited<ReturnType<ReturnType<typeof runsQuery>["executeTakeFirstOrThrow"]>>;

function toSummary(r: SummaryRow): RunSummary {
  return {
    id: r.id,
    model: r.model,
    recipe: r.recipe,
    recipeName: r.recipe_name,
    environment: r.environment,
    environmentLabel: environmentLabel(r),
    status: r.status,
    startedAt: toDate(r.started_at),
    endedAt: r.ended_at === null ? null : toDate(r.ended_at),
    gitCommit: r.git_commit,
    branch: r.branch,
    tags: (r.tags ?? {}) as { readonly [key: string]: JsonValue },
  };
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * One run with its model, recipe, environment, params, metrics (with samples) and report.
 *
 * @param db The store's database.
 * @param id The run's UUID.
 * @returns The run, or undefined when there is none with that id.
 * @example
 * ```ts ignore
 * import { getRun } from "@modelpress/store";
 * const run = await getRun(store.db, id);
 * ```
 */
export async function getRun(db: Kysely<Database>, id: string): Promise<RunDetail | undefined> {
  if (!UUID.test(id)) return undefined;
  const row = await runsQuery(db)
    .select(["m.sha256", "m.size_bytes", "rc.config", "e.details", "r.report"])
    .where("r.id", "=", id).executeTakeFirst();
  if (!row) return undefined;
  const [params, metrics] = await Promise.all([
    db.selectFrom("params").select(["key", "value"]).where("run_id", "=", id).orderBy("key")
      .execute(),
    db.selectFrom("metrics").select(["name", "value", "unit", "samples", "series_id"])
      .where("run_id", "=", id).orderBy("name").execute(),
  ]);
  return {
    ...toSummary(row),
    modelSha256: row.sha256,
    modelSizeBytes: toNumber(row.size_bytes),
    recipeConfig: row.config,
    environmentInfo: {
      cpuModel: row.cpu_model,
      cores: row.cores,
      runtime: row.runtime,
      backend: row.backend,
      details: row.details,
    },
    report: row.report,
    params: Object.fromEntries(params.map((p) => [p.key, p.value])),
    metrics: metrics.map((m) => ({
      name: m.name,
      value: m.value,
      unit: m.unit,
      samples: m.samples === null ? null : m.samples.map(Number),
      seriesId: m.series_id,
    })),
  };
}

/** A parameter of two runs side by side. */
export interface ParamComparison {
  /** The key. */
  readonly key: string;
  /** Its value in the first run (undefined: not set there). */
  readonly a: JsonValue | undefined;
  /** Its value in the second run. */
  readonly b: JsonValue | undefined;
  /** Whether both runs have the same value. */
  readonly same: boolean;
}

/** A metric of two runs side by side. */
export interface MetricComparison {
  /** The metric's name. */
  readonly name: string;
  /** Its unit (the first run's, else the second's). */
  readonly unit: string | null;
  /** Its value in the first run, or null. */
  readonly a: number | null;
  /** Its value in the second run, or null. */
  readonly b: number | null;
  /** b - a, when both have it. */
  readonly delta: number | null;
  /** (b - a) / |a|, when both have it and a is not 0. */
  readonly relativeDelta: number | null;
}

/** What {@linkcode compareRuns} answers. */
export interface RunComparison {
  /** The first run. */
  readonly a: RunDetail;
  /** The second run. */
  readonly b: RunDetail;
  /** Every parameter of either, by key. */
  readonly params: ParamComparison[];
  /** Every metric of either, by name. */
  readonly metrics: MetricComparison[];
}

/**
 * Two runs side by side: params (same or not) and metrics with deltas (b - a).
 *
 * @param db The store's database.
 * @param a The first run's id (the "before").
 * @param b The second run's id.
 * @returns The comparison.
 * @throws {NotFoundError} When either run does not exist.
 * @example
 * ```ts ignore
 * import { compareRuns } from "@modelpress/store";
 * const { metrics } = await compareRuns(store.db, before, after);
 * ```
 */
export async function compareRuns(
  db: Kysely<Database>,
  a: string,
  b: string,
): Promise<RunComparison> {
  const [runA, runB] = await Promise.all([getRun(db, a), getRun(db, b)]);
  if (!runA) throw new NotFoundError(`Cannot compare run '${a}': no such run`);
  if (!runB) throw new NotFoundError(`Cannot compare run '${b}': no such run`);
  const keys = [...new Set([...Object.keys(runA.params), ...Object.keys(runB.params)])].sort();
  const params = keys.map((key) => {
    const va = runA.params[key];
    const vb = runB.params[key];
    return { key, a: va, b: vb, same: canonicalJson(va) === canonicalJson(vb) };
  });
  const names = [...new Set([...runA.metrics, ...runB.metrics].map((m) => m.name))].sort();
  const metrics = names.map((name) => {
    const ma = runA.metrics.find((m) => m.name === name);
    const mb = runB.metrics.find((m) => m.name === name);
    const both = ma !== undefined && mb !== undefined;
    return {
      name,
      unit: ma?.unit ?? mb?.unit ?? null,
      a: ma?.value ?? null,
      b: mb?.value ?? null,
      delta: both ? mb.value - ma.value : null,
      relativeDelta: both && ma.value !== 0 ? (mb.value - ma.value) / Math.abs(ma.value) : null,
    };
  });
  return { a: runA, b: runB, params, metrics };
}

/** Options of {@linkcode searchRuns}. */
export interface SearchRunsOptions {
  /** Only runs of this model (by name). */
  readonly model?: string;
  /** Only runs whose params hold every one of these key/value pairs. */
  readonly params?: { readonly [key: string]: JsonValue };
  /** Only runs whose tags contain this object (JSONB containment, `@>`). */
  readonly tags?: { readonly [key: string]: JsonValue };
  /** Only runs on this branch. */
  readonly branch?: string;
  /** Only runs with this status. */
  readonly status?: RunStatus;
  /** Page size (default 50, at most 1000). */
  readonly limit?: number;
  /** The `nextCursor` of the previous page. */
  readonly cursor?: string;
}

/** What {@linkcode searchRuns} answers. */
export interface RunPage {
  /** The runs, newest first. */
  readonly runs: RunSummary[];
  /** Pass as `cursor` for the next page; null on the last page. */
  readonly nextCursor: string | null;
}

/**
 * Runs searched by model, params (every pair must match), tags (containment), branch and status,
 * newest first, in pages (keyset pagination on start time and id, stable under inserts).
 *
 * @param db The store's database.
 * @param options Filters, page size and cursor.
 * @returns A page of runs.
 * @throws {RangeError} When the cursor is not one this function made.
 * @example
 * ```ts ignore
 * import { searchRuns } from "@modelpress/store";
 * const page = await searchRuns(store.db, { params: { bits: 8 }, tags: { ci: "nightly" } });
 * ```
 */
export async function searchRuns(
  db: Kysely<Database>,
  options: SearchRunsOptions = {},
): Promise<RunPage> {
  const limit = Math.min(Math.max(Math.trunc(options.limit ?? 50), 1), 1000);
  let query = runsQuery(db);
  if (options.model !== undefined) query = query.where("m.name", "=", options.model);
  if (options.branch !== undefined) query = query.where("r.branch", "=", options.branch);
  if (options.status !== undefined) query = query.where("r.status", "=", options.status);
  if (options.tags !== undefined) {
    query = query.where(sql<boolean>`r.tags @> ${jsonb(options.tags)}`);
  }
  for (const [key, value] of Object.entries(options.params ?? {})) {
    query = query.where(({ exists, selectFrom }) =>
      exists(
        selectFrom("params as p").select("p.key").whereRef("p.run_id", "=", "r.id")
          .where("p.key", "=", key).where("p.value", "=", jsonb(value)),
      )
    );
  }
  if (options.cursor !== undefined) {
    const [time, id] = decodeCursor(options.cursor);
    query = query.where(sql<boolean>`(r.started_at, r.id) < (${time}::timestamptz, ${id}::uuid)`);
  }
  const rows = await query.orderBy("r.started_at", "desc").orderBy("r.id", "desc")
    .limit(limit + 1).execute();
  const runs = rows.slice(0, limit).map(toSummary);
  const last = runs.at(-1);
  return {
    runs,
    nextCursor: rows.length > limit && last
      ? btoa(`${last.startedAt.toISOString()}|${last.id}`)
      : null,
  };
}

function decodeCursor(cursor: string): [string, string] {
  let text = "";
  try {
    text = atob(cursor);
  } catch { /* reported below */ }
  const [time, id] = text.split("|");
  if (!time || !id || Number.isNaN(Date.parse(time)) || !UUID.test(id)) {
    throw new RangeError(`Cannot search runs: cursor '${cursor}' is not one this store made`);
  }
  return [time, id];
}
