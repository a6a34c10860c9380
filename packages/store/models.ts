/**
 * Models: each with its latest numbers, and the Pareto front of size against accuracy over its
 * recipes.
 * @module
 */
import { type Kysely, sql } from "kysely";
import type { Database } from "./database.ts";
import { toDate, toNumber } from "./_sql.ts";

/** A model with its latest run's metrics. */
export interface ModelSummary {
  /** The model's name. */
  readonly name: string;
  /** How many runs it has. */
  readonly runs: number;
  /** Its latest run. */
  readonly latestRunId: string;
  /** When its latest run started. */
  readonly lastRunAt: Date;
  /** The latest run's metrics by name. */
  readonly metrics: { readonly [name: string]: number };
  /** How many of its regressions are open. */
  readonly openRegressions: number;
}

/**
 * Every model (by name) with its run count, its latest run and that run's metrics, and its open
 * regressions.
 *
 * @param db The store's database.
 * @returns The models, by name.
 * @example
 * ```ts ignore
 * import { listModels } from "@modelpress/store";
 * for (const m of await listModels(store.db)) console.log(m.name, m.metrics.accuracy);
 * ```
 */
export async function listModels(db: Kysely<Database>): Promise<ModelSummary[]> {
  const latest = await db.selectFrom("runs as r")
    .innerJoin("models as m", "m.id", "r.model_id")
    .select([
      "m.name",
      "r.id",
      "r.started_at",
      sql<string | number>`count(*) over (partition by m.name)`.as("runs"),
    ])
    .distinctOn("m.name")
    .orderBy("m.name").orderBy("r.started_at", "desc").orderBy("r.id", "desc")
    .execute();
  if (latest.length === 0) return [];
  const [metrics, open] = await Promise.all([
    db.selectFrom("metrics").select(["run_id", "name", "value"])
      .where("run_id", "in", latest.map((l) => l.id)).execute(),
    db.selectFrom("regressions as g").innerJoin("series as s", "s.id", "g.series_id")
      .select(["s.model_name", (eb) => eb.fn.countAll<string | number>().as("n")])
      .where("g.status", "=", "open").groupBy("s.model_name").execute(),
  ]);
  return latest.map((l) => ({
    name: l.name,
    runs: toNumber(l.runs),
    latestRunId: l.id,
    lastRunAt: toDate(l.started_at),
    metrics: Object.fromEntries(
      metrics.filter((m) => m.run_id === l.id).map((m) => [m.name, m.value]),
    ),
    openRegressions: toNumber(open.find((o) => o.model_name === l.name)?.n),
  }));
}

/** Options of {@linkcode paretoFront}. */
export interface ParetoOptions {
  /** The size metric (default `size_bytes`; smaller is better). */
  readonly sizeMetric?: string;
  /** The accuracy metric (default `accuracy`; higher is better). */
  readonly accuracyMetric?: string;
}

/** One recipe of a model on the size/accuracy plane (from its latest run with both). */
export interface ParetoPoint {
  /** The recipe's hash. */
  readonly recipe: string;
  /** The recipe's name, or null. */
  readonly recipeName: string | null;
  /** The run the numbers come from. */
  readonly runId: string;
  /** Size. */
  readonly size: number;
  /** Accuracy. */
  readonly accuracy: number;
}

/** What {@linkcode paretoFront} answers. */
export interface ParetoResult {
  /** Every recipe's point, by size. */
  readonly all: ParetoPoint[];
  /** The points that no other point beats on both (smaller and more accurate), by size. */
  readonly front: ParetoPoint[];
}

/**
 * The Pareto front of size against accuracy over a model's recipes: each recipe's latest run
 * that measured both (any environment), and those points no other is at least as good as on
 * both and better on one.
 *
 * @param db The store's database.
 * @param model The model's name.
 * @param options Which metrics are size and accuracy.
 * @returns Every point and the front.
 * @example
 * ```ts ignore
 * import { paretoFront } from "@modelpress/store";
 * const { front } = await paretoFront(store.db, "mlp");
 * ```
 */
export async function paretoFront(
  db: Kysely<Database>,
  model: string,
  options: ParetoOptions = {},
): Promise<ParetoResult> {
  const rows = await db.selectFrom("runs as r")
    .innerJoin("models as m", "m.id", "r.model_id")
    .innerJoin("recipes as rc", "rc.id", "r.recipe_id")
    .innerJoin(
      "metrics as ms",
      (join) =>
        join.onRef("ms.run_id", "=", "r.id").on("ms.name", "=", options.sizeMetric ?? "size_bytes"),
    )
    .innerJoin(
      "metrics as ma",
      (join) =>
        join.onRef("ma.run_id", "=", "r.id").on(
          "ma.name",
          "=",
          options.accuracyMetric ?? "accuracy",
        ),
    )
    .select([
      "rc.id as recipe_id",
      "rc.hash",
      "rc.name",
      "r.id",
      "ms.value as size",
      "ma.value as accuracy",
    ])
    .where("m.name", "=", model)
    .distinctOn("rc.id")
    .orderBy("rc.id").orderBy("r.started_at", "desc").orderBy("r.id", "desc")
    .execute();
  const all = rows.map((r) => ({
    recipe: r.hash,
    recipeName: r.name,
    runId: r.id,
    size: r.size,
    accuracy: r.accuracy,
  })).sort((a, b) => a.size - b.size || b.accuracy - a.accuracy);
  const front: ParetoPoint[] = [];
  let best = -Infinity;
  for (const point of all) {
    // Sorted by size, then accuracy (best first): a point is on the front when it is more
    // accurate than every smaller (or equally small) one.
    if (point.accuracy > best) {
      front.push(point);
      best = point.accuracy;
    }
  }
  return { all, front };
}
