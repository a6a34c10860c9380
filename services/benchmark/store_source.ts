/**
 * The dashboard's data source over the store: `DashboardSource` (see `dashboard/source.ts`)
 * answered by the store's queries, times as ISO 8601 strings.
 * @module
 */
import type { Kysely } from "kysely";
import {
  type Database,
  findSeries,
  getRun,
  type JsonValue,
  listChangePoints,
  listModels,
  listRegressions,
  listSeries,
  paretoFront,
  querySeriesById,
  type RegressionRecord,
  type SeriesInfo,
} from "@modelpress/store";
import type {
  DashboardSource,
  ModelOverview,
  ParetoData,
  RegressionRow,
  RunDetail,
  SeriesData,
  SeriesKey,
  SeriesOptions,
  SeriesRegression,
} from "./dashboard/source.ts";

function toKey(s: SeriesInfo): SeriesKey {
  return {
    model: s.model,
    recipe: s.recipe,
    recipeName: s.recipeName ?? s.recipe.slice(0, 12),
    environment: s.environment,
    environmentLabel: s.environmentLabel,
    metric: s.metric,
    ...(s.unit === null ? {} : { unit: s.unit }),
  };
}

function toRegression(r: RegressionRecord): SeriesRegression {
  return {
    id: r.id,
    runId: r.runId,
    time: r.time.toISOString(),
    value: r.value,
    status: r.status,
    message: r.message,
  };
}

function scalar(value: JsonValue): string | number | boolean | null {
  return value === null || typeof value !== "object" ? value : JSON.stringify(value);
}

/**
 * Makes the dashboard's data source over a store.
 *
 * @param db The store's database.
 * @returns The source.
 * @example
 * ```ts
 * import { createStore } from "@modelpress/store";
 * import { storeSource } from "./store_source.ts";
 * await using store = await createStore({ databaseUrl: null, dataDir: ":memory:" });
 * console.log(await storeSource(store.db).listModels()); // []
 * ```
 */
export function storeSource(db: Kysely<Database>): DashboardSource {
  const seriesInfo = async (key: SeriesKey): Promise<SeriesInfo | undefined> =>
    (await listSeries(db, key.model)).find((s) =>
      s.recipe === key.recipe && s.environment === key.environment && s.metric === key.metric
    );
  return {
    async listModels(): Promise<ModelOverview[]> {
      return (await listModels(db)).map((m) => ({
        name: m.name,
        sizeBytes: m.metrics.size_bytes ?? null,
        accuracy: m.metrics.accuracy ?? null,
        latencyMs: m.metrics.latency_ms ?? null,
        runs: m.runs,
        openRegressions: m.openRegressions,
        lastRunAt: m.lastRunAt.toISOString(),
      }));
    },
    async listSeries(model: string): Promise<SeriesKey[]> {
      return (await listSeries(db, model)).map(toKey);
    },
    async series(key: SeriesKey, options: SeriesOptions): Promise<SeriesData> {
      const id = await findSeries(db, key);
      if (id === undefined) return { points: [], regressions: [], changePoints: [] };
      const [result, regressions, changePoints] = await Promise.all([
        querySeriesById(db, id, { maxPoints: options.maxPoints }),
        listRegressions(db, { seriesId: id, limit: 1000 }),
        listChangePoints(db, id),
      ]);
      return {
        points: result.points.map((p) => ({
          runId: p.runId,
          time: p.time.toISOString(),
          value: p.value,
          ...(p.min === undefined ? {} : { min: p.min }),
          ...(p.max === undefined ? {} : { max: p.max }),
        })),
        regressions: regressions.map(toRegression).reverse(),
        changePoints: changePoints.map((c) => ({ runId: c.runId, time: c.time.toISOString() })),
      };
    },
    async openRegressions(): Promise<RegressionRow[]> {
      const open = await listRegressions(db, { status: "open", limit: 1000 });
      const rows: RegressionRow[] = [];
      for (const r of open) {
        const info = await seriesInfo({
          model: r.model,
          recipe: r.recipe,
          environment: r.environment,
          metric: r.metric,
          recipeName: "",
          environmentLabel: "",
        });
        if (!info) continue;
        rows.push({ ...toRegression(r), series: toKey(info), baseline: r.baselineValue });
      }
      return rows;
    },
    async run(id: string): Promise<RunDetail | null> {
      const run = await getRun(db, id);
      if (!run) return null;
      return {
        id: run.id,
        model: run.model,
        recipe: run.recipe,
        recipeName: run.recipeName ?? run.recipe.slice(0, 12),
        environment: run.environment,
        environmentLabel: run.environmentLabel,
        startedAt: run.startedAt.toISOString(),
        finishedAt: run.endedAt?.toISOString() ?? null,
        gitCommit: run.gitCommit,
        branch: run.branch,
        params: Object.fromEntries(Object.entries(run.params).map(([k, v]) => [k, scalar(v)])),
        tags: Object.fromEntries(
          Object.entries(run.tags).map((
            [k, v],
          ) => [k, typeof v === "string" ? v : JSON.stringify(v)]),
        ),
        metrics: run.metrics.map((m) => ({
          name: m.name,
          value: m.value,
          ...(m.unit === null ? {} : { unit: m.unit }),
        })),
        report: run.report,
      };
    },
    async pareto(model: string): Promise<ParetoData> {
      const result = await paretoFront(db, model);
      const point = (p: (typeof result.all)[number]) => ({
        recipe: p.recipe,
        recipeName: p.recipeName ?? p.recipe.slice(0, 12),
        runId: p.runId,
        sizeBytes: p.size,
        accuracy: p.accuracy,
      });
      return { all: result.all.map(point), front: result.front.map(point) };
    },
    async hasModel(model: string): Promise<boolean> {
      const row = await db.selectFrom("models").select("id").where("name", "=", model)
        .limit(1).executeTakeFirst();
      return row !== undefined;
    },
  };
}
