/**
 * Regressions and change points as stored: recorded at ingest by the benchmark service, listed,
 * acknowledged and marked fixed.
 * @module
 */
import type { Kysely } from "kysely";
import type { Database, RegressionStatus } from "./database.ts";
import { NotFoundError } from "./errors.ts";
import { toDate } from "./_sql.ts";
import { uuidArray } from "./_sql.ts";

/** A regression to record. */
export interface RegressionInput {
  /** The series. */
  readonly seriesId: number;
  /** The run that regressed. */
  readonly runId: string;
  /** The metric's name. */
  readonly metric: string;
  /** The baseline's value (mean or median of the baseline runs). */
  readonly baselineValue: number;
  /** The runs the baseline is made of. */
  readonly baselineRunIds: readonly string[];
  /** The run's value. */
  readonly value: number;
  /** value - baseline. */
  readonly change: number;
  /** change / |baseline|. */
  readonly relativeChange: number;
  /** The test's p-value, or null for threshold tests. */
  readonly pValue: number | null;
  /** Which test flagged it (`exact`, `tolerance`, `mann-whitney`, `welch`). */
  readonly test: string;
  /** Why, for people. */
  readonly message: string;
}

/** A stored regression, with its series' key. */
export interface RegressionRecord extends RegressionInput {
  /** Its id. */
  readonly id: string;
  /** Open, acknowledged or fixed. */
  readonly status: RegressionStatus;
  /** The model's name. */
  readonly model: string;
  /** The recipe's hash. */
  readonly recipe: string;
  /** The environment's hash. */
  readonly environment: string;
  /** When the regressed run started. */
  readonly time: Date;
  /** When it was recorded. */
  readonly createdAt: Date;
  /** When its status last changed. */
  readonly updatedAt: Date;
}

function selectRegressions(db: Kysely<Database>) {
  return db.selectFrom("regressions as g")
    .innerJoin("series as s", "s.id", "g.series_id")
    .innerJoin("recipes as rc", "rc.id", "s.recipe_id")
    .innerJoin("environments as e", "e.id", "s.environment_id")
    .innerJoin("runs as r", "r.id", "g.run_id")
    .selectAll("g")
    .select(["s.model_name", "rc.hash as recipe", "e.hash as environment", "r.started_at"]);
}

type RegressionRow = Awaited<
  ReturnType<ReturnType<typeof selectRegressions>["executeTakeFirstOrThrow"]>
>;

function toRecord(r: RegressionRow): RegressionRecord {
  return {
    id: r.id,
    seriesId: r.series_id,
    runId: r.run_id,
    metric: r.metric,
    baselineValue: r.baseline_value,
    baselineRunIds: r.baseline_run_ids,
    value: r.value,
    change: r.change,
    relativeChange: r.relative_change,
    pValue: r.p_value,
    test: r.test,
    message: r.message,
    status: r.status,
    model: r.model_name,
    recipe: r.recipe,
    environment: r.environment,
    time: toDate(r.started_at),
    createdAt: toDate(r.created_at),
    updatedAt: toDate(r.updated_at),
  };
}

/**
 * Records regressions; one per run and series (recording it again does nothing).
 *
 * @param db The store's database.
 * @param regressions What to record.
 * @returns The ids of those recorded now, in input order (undefined for ones already there).
 * @example
 * ```ts ignore
 * import { recordRegressions } from "@modelpress/store";
 * const [id] = await recordRegressions(store.db, [finding]);
 * ```
 */
export async function recordRegressions(
  db: Kysely<Database>,
  regressions: readonly RegressionInput[],
): Promise<(string | undefined)[]> {
  if (regressions.length === 0) return [];
  const rows = await db.insertInto("regressions").values(regressions.map((g) => ({
    series_id: g.seriesId,
    run_id: g.runId,
    metric: g.metric,
    baseline_value: g.baselineValue,
    baseline_run_ids: uuidArray(g.baselineRunIds),
    value: g.value,
    change: g.change,
    relative_change: g.relativeChange,
    p_value: g.pValue,
    test: g.test,
    message: g.message,
  }))).onConflict((oc) => oc.columns(["run_id", "series_id"]).doNothing())
    .returning(["id", "run_id", "series_id"]).execute();
  return regressions.map((g) =>
    rows.find((r) => r.run_id === g.runId && r.series_id === g.seriesId)?.id
  );
}

/** Options of {@linkcode listRegressions}. */
export interface ListRegressionsOptions {
  /** Only this status. */
  readonly status?: RegressionStatus;
  /** Only this model's. */
  readonly model?: string;
  /** Only this series'. */
  readonly seriesId?: number;
  /** Only these regressions. */
  readonly ids?: readonly string[];
  /** At most this many (default 100, at most 1000). */
  readonly limit?: number;
}

/**
 * Regressions, newest run first.
 *
 * @param db The store's database.
 * @param options Status, model, series, how many.
 * @returns The regressions.
 * @example
 * ```ts ignore
 * import { listRegressions } from "@modelpress/store";
 * const open = await listRegressions(store.db, { status: "open" });
 * ```
 */
export async function listRegressions(
  db: Kysely<Database>,
  options: ListRegressionsOptions = {},
): Promise<RegressionRecord[]> {
  let query = selectRegressions(db);
  if (options.status !== undefined) query = query.where("g.status", "=", options.status);
  if (options.model !== undefined) query = query.where("s.model_name", "=", options.model);
  if (options.seriesId !== undefined) query = query.where("g.series_id", "=", options.seriesId);
  if (options.ids !== undefined) {
    if (options.ids.length === 0) return [];
    query = query.where("g.id", "in", options.ids);
  }
  const rows = await query.orderBy("r.started_at", "desc").orderBy("g.id")
    .limit(Math.min(Math.max(options.limit ?? 100, 1), 1000)).execute();
  return rows.map(toRecord);
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * Sets a regression's status (`acknowledged` when someone looked at it, `fixed` when it is gone,
 * `open` to reopen).
 *
 * @param db The store's database.
 * @param id The regression's id.
 * @param status The new status.
 * @returns The regression.
 * @throws {NotFoundError} When there is no regression with that id.
 * @example
 * ```ts ignore
 * import { setRegressionStatus } from "@modelpress/store";
 * await setRegressionStatus(store.db, id, "acknowledged");
 * ```
 */
export async function setRegressionStatus(
  db: Kysely<Database>,
  id: string,
  status: RegressionStatus,
): Promise<RegressionRecord> {
  const updated = UUID.test(id)
    ? await db.updateTable("regressions").set({ status, updated_at: new Date() })
      .where("id", "=", id).returning("id").executeTakeFirst()
    : undefined;
  if (!updated) {
    throw new NotFoundError(`Cannot set regression '${id}' ${status}: no such regression`);
  }
  return toRecord(await selectRegressions(db).where("g.id", "=", id).executeTakeFirstOrThrow());
}

/** A change point to record: the first run after a shift. */
export interface ChangePointInput {
  /** The first run after the shift. */
  readonly runId: string;
  /** When it started. */
  readonly time: Date;
  /** The significance test's p-value. */
  readonly pValue: number;
  /** The mean before. */
  readonly meanBefore: number;
  /** The mean after. */
  readonly meanAfter: number;
}

/** A stored change point. */
export interface ChangePointRecord extends ChangePointInput {
  /** The series. */
  readonly seriesId: number;
}

/**
 * Records change points of a series (one per run; again does nothing).
 *
 * @param db The store's database.
 * @param seriesId The series.
 * @param points The change points.
 * @returns How many were new.
 * @example
 * ```ts ignore
 * import { recordChangePoints } from "@modelpress/store";
 * await recordChangePoints(store.db, 7, [{ runId, time, pValue: 1e-5, meanBefore: 10, meanAfter: 12 }]);
 * ```
 */
export async function recordChangePoints(
  db: Kysely<Database>,
  seriesId: number,
  points: readonly ChangePointInput[],
): Promise<number> {
  if (points.length === 0) return 0;
  const rows = await db.insertInto("change_points").values(points.map((p) => ({
    series_id: seriesId,
    run_id: p.runId,
    time: p.time,
    p_value: p.pValue,
    mean_before: p.meanBefore,
    mean_after: p.meanAfter,
  }))).onConflict((oc) => oc.columns(["series_id", "run_id"]).doNothing()).returning("id")
    .execute();
  return rows.length;
}

/**
 * A series' change points, oldest first.
 *
 * @param db The store's database.
 * @param seriesId The series.
 * @returns The change points.
 * @example
 * ```ts ignore
 * import { listChangePoints } from "@modelpress/store";
 * const points = await listChangePoints(store.db, 7);
 * ```
 */
export async function listChangePoints(
  db: Kysely<Database>,
  seriesId: number,
): Promise<ChangePointRecord[]> {
  const rows = await db.selectFrom("change_points").selectAll()
    .where("series_id", "=", seriesId).orderBy("time").orderBy("run_id").execute();
  return rows.map((r) => ({
    seriesId: r.series_id,
    runId: r.run_id,
    time: toDate(r.time),
    pValue: r.p_value,
    meanBefore: r.mean_before,
    meanAfter: r.mean_after,
  }));
}
