/**
 * Ingest: runs with their model, recipe, environment, params and metrics, many in one
 * transaction with multi-row inserts, idempotent by the run's client-supplied UUID.
 * @module
 */
import { type Kysely, type RawBuilder, sql, type Transaction } from "kysely";
import type { Database, JsonValue, RunStatus } from "./database.ts";
import { ConflictError } from "./errors.ts";
import { canonicalHash, canonicalJson } from "./canonical_json.ts";
import { arrayOf, chunks, float8Literal, jsonb, toDate } from "./_sql.ts";

/** The model a run evaluated: its name and the SHA-256 and size of its bytes. */
export interface ModelInput {
  /** The model's name (a series' model is its name). */
  readonly name: string;
  /** SHA-256 of the artifact, hex. */
  readonly sha256: string;
  /** Size of the artifact in bytes. */
  readonly sizeBytes: number;
}

/** The compression recipe (its config identifies it, by canonical hash). */
export interface RecipeInput {
  /** The recipe's configuration, any JSON. */
  readonly config: JsonValue;
  /** A human name, such as "int8 dynamic" (not part of its identity). */
  readonly name?: string;
}

/** Where the run ran (identified by its canonical hash). */
export interface EnvironmentInput {
  /** The CPU model, such as "AMD EPYC 7B13". */
  readonly cpuModel: string;
  /** Logical cores. */
  readonly cores: number;
  /** The runtime and versions, such as "deno 2.9.6; onnxruntime-web 1.30.0". */
  readonly runtime: string;
  /** The execution backend, such as "wasm" or "webgpu". */
  readonly backend: string;
  /** Anything else that tells environments apart. */
  readonly details?: { readonly [key: string]: JsonValue };
}

/** The run itself. */
export interface RunInfoInput {
  /** The client-supplied UUID: sending the same run twice stores it once. */
  readonly id: string;
  /** When it started. */
  readonly startedAt: string | Date;
  /** When it ended. */
  readonly endedAt?: string | Date;
  /** The git commit it ran at. */
  readonly gitCommit?: string;
  /** The git branch. */
  readonly branch?: string;
  /** Free-form tags (searched by JSONB containment). */
  readonly tags?: { readonly [key: string]: JsonValue };
  /** Status (default `finished`). */
  readonly status?: RunStatus;
  /** The compression report (JSON) the run produced. */
  readonly report?: JsonValue;
}

/** One metric of a run. */
export interface MetricInput {
  /** The metric's name, such as `accuracy`, `size_bytes`, `latency_ms`. */
  readonly name: string;
  /** Its value (for latency, a summary such as the median). */
  readonly value: number;
  /** Its unit, such as `bytes`, `ratio`, `ms`. */
  readonly unit?: string;
  /** Raw samples (latency per run), which regression tests use. */
  readonly samples?: readonly number[];
}

/** One run to ingest. */
export interface RunInput {
  /** The model. */
  readonly model: ModelInput;
  /** The recipe. */
  readonly recipe: RecipeInput;
  /** The environment. */
  readonly environment: EnvironmentInput;
  /** The run. */
  readonly run: RunInfoInput;
  /** Parameters (write-once per run). */
  readonly params?: { readonly [key: string]: JsonValue };
  /** Metrics, each name once. */
  readonly metrics?: readonly MetricInput[];
}

/** A metric as stored, with its series. */
export interface IngestedMetric {
  /** The metric's name. */
  readonly name: string;
  /** The series (model x recipe x environment x metric) it belongs to. */
  readonly seriesId: number;
  /** Its value. */
  readonly value: number;
  /** Its unit, or null. */
  readonly unit: string | null;
  /** Its raw samples, or null. */
  readonly samples: readonly number[] | null;
}

/** What {@linkcode ingestRuns} answers per run. */
export interface IngestedRun {
  /** The run's id. */
  readonly id: string;
  /** True when stored now; false when the same run was already there. */
  readonly created: boolean;
  /** When it started. */
  readonly startedAt: Date;
  /** The model's name. */
  readonly model: string;
  /** The recipe's hash. */
  readonly recipeHash: string;
  /** The environment's hash. */
  readonly environmentHash: string;
  /** Its metrics with their series (empty when not created now). */
  readonly metrics: readonly IngestedMetric[];
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const SHA256 = /^[0-9a-f]{64}$/;

interface Prepared {
  readonly id: string;
  readonly input: NormalizedRun;
  readonly payloadHash: string;
  readonly recipeHash: string;
  readonly environmentHash: string;
}

interface NormalizedRun {
  readonly model: ModelInput;
  readonly recipe: { readonly config: JsonValue; readonly name: string | null };
  readonly environment: {
    readonly cpuModel: string;
    readonly cores: number;
    readonly runtime: string;
    readonly backend: string;
    readonly details: { readonly [key: string]: JsonValue };
  };
  readonly run: {
    readonly id: string;
    readonly startedAt: string;
    readonly endedAt: string | null;
    readonly gitCommit: string | null;
    readonly branch: string | null;
    readonly tags: { readonly [key: string]: JsonValue };
    readonly status: RunStatus;
    readonly report: JsonValue | null;
  };
  readonly params: { readonly [key: string]: JsonValue };
  readonly metrics: readonly {
    readonly name: string;
    readonly value: number;
    readonly unit: string | null;
    readonly samples: readonly number[] | null;
  }[];
}

/**
 * Checks a run and writes it in one canonical form (ISO times, lower-case ids and hashes,
 * metrics by name, nulls for what is missing): what its payload hash is taken over.
 *
 * @param input The run.
 * @returns The normalized run.
 * @throws {TypeError} When a field is malformed (an id that is not a UUID, a metric twice).
 * @throws {RangeError} When a number is out of range.
 * @example
 * ```ts
 * import { normalizeRun } from "@modelpress/store";
 * const run = normalizeRun({
 *   model: { name: "mlp", sha256: "A".repeat(64), sizeBytes: 10 },
 *   recipe: { config: { method: "dynamic" } },
 *   environment: { cpuModel: "cpu", cores: 2, runtime: "deno", backend: "wasm" },
 *   run: { id: "00000000-0000-4000-8000-000000000001", startedAt: "2026-01-01T00:00:00Z" },
 * });
 * console.log(run.run.startedAt); // 2026-01-01T00:00:00.000Z
 * ```
 */
export function normalizeRun(input: RunInput): NormalizedRun {
  const id = String(input.run.id).toLowerCase();
  const fail = (message: string): never => {
    throw new TypeError(`Cannot ingest run '${input.run.id}': ${message}`);
  };
  if (!UUID.test(id)) fail("its id is not a UUID");
  const sha256 = String(input.model.sha256).toLowerCase();
  if (!SHA256.test(sha256)) fail("model.sha256 is not 64 hex digits");
  if (!input.model.name) fail("model.name is empty");
  if (!Number.isSafeInteger(input.model.sizeBytes) || input.model.sizeBytes < 0) {
    throw new RangeError(
      `Cannot ingest run '${input.run.id}': model.sizeBytes must be a non-negative integer`,
    );
  }
  const env = input.environment;
  if (!Number.isInteger(env.cores) || env.cores < 1) {
    throw new RangeError(
      `Cannot ingest run '${input.run.id}': environment.cores must be a positive integer`,
    );
  }
  const time = (value: string | Date, field: string): string => {
    const date = toDate(value);
    if (Number.isNaN(date.getTime())) fail(`${field} is not a time`);
    return date.toISOString();
  };
  const names = new Set<string>();
  const metrics = (input.metrics ?? []).map((m) => {
    if (!m.name) fail("a metric has no name");
    if (names.has(m.name)) fail(`metric '${m.name}' appears twice`);
    names.add(m.name);
    if (!Number.isFinite(m.value)) {
      throw new RangeError(`Cannot ingest run '${input.run.id}': metric '${m.name}' is not finite`);
    }
    return {
      name: m.name,
      value: m.value,
      unit: m.unit ?? null,
      samples: m.samples === undefined ? null : [...m.samples],
    };
  }).sort((a, b) => a.name < b.name ? -1 : a.name > b.name ? 1 : 0);
  return {
    model: { name: input.model.name, sha256, sizeBytes: input.model.sizeBytes },
    recipe: { config: input.recipe.config, name: input.recipe.name ?? null },
    environment: {
      cpuModel: env.cpuModel,
      cores: env.cores,
      runtime: env.runtime,
      backend: env.backend,
      details: env.details ?? {},
    },
    run: {
      id,
      startedAt: time(input.run.startedAt, "run.startedAt"),
      endedAt: input.run.endedAt === undefined ? null : time(input.run.endedAt, "run.endedAt"),
      gitCommit: input.run.gitCommit ?? null,
      branch: input.run.branch ?? null,
      tags: input.run.tags ?? {},
      status: input.run.status ?? "finished",
      report: input.run.report ?? null,
    },
    params: input.params ?? {},
    metrics,
  };
}

function prepare(input: RunInput): Prepared {
  const normalized = normalizeRun(input);
  return {
    id: normalized.run.id,
    input: normalized,
    payloadHash: canonicalHash(normalized),
    recipeHash: canonicalHash(normalized.recipe.config),
    environmentHash: canonicalHash(normalized.environment),
  };
}

/**
 * Stores runs, all in one transaction (the caller's, when `db` is one) with multi-row inserts
 * (one array per column): models, recipes and environments
 * are found or added by content, each metric goes to its series (model x recipe x environment x
 * metric), params are written once. Idempotent: a run whose UUID is already stored with the same
 * payload is answered with `created: false` and not written again.
 *
 * @param db The store's database.
 * @param inputs The runs.
 * @returns One answer per input, in order.
 * @throws {ConflictError} When a UUID is stored (or given twice) with another payload; nothing
 *   of the batch is written.
 * @throws {TypeError} When a run is malformed (see {@linkcode normalizeRun}).
 * @example
 * ```ts
 * import { createStore, ingestRuns } from "@modelpress/store";
 * await using store = await createStore({ databaseUrl: null, dataDir: ":memory:" });
 * const [run] = await ingestRuns(store.db, [{
 *   model: { name: "mlp", sha256: "a".repeat(64), sizeBytes: 941_000 },
 *   recipe: { config: { method: "dynamic" } },
 *   environment: { cpuModel: "cpu", cores: 2, runtime: "deno 2.9.6", backend: "wasm" },
 *   run: { id: crypto.randomUUID(), startedAt: new Date() },
 *   metrics: [{ name: "accuracy", value: 0.978 }],
 * }]);
 * console.log(run?.created); // true
 * ```
 */
export async function ingestRuns(
  db: Kysely<Database>,
  inputs: readonly RunInput[],
): Promise<IngestedRun[]> {
  const prepared = inputs.map(prepare);
  if (prepared.length === 0) return [];
  // Inside a caller's transaction (to do more in the same one), write in it.
  if (db.isTransaction) return await write(db as Transaction<Database>, prepared);
  return await db.transaction().execute((trx) => write(trx, prepared));
}

/**
 * Stores one run; see {@linkcode ingestRuns}.
 *
 * @param db The store's database.
 * @param input The run.
 * @returns Whether it was stored now, and its metrics' series.
 * @throws {ConflictError} When its UUID is stored with another payload.
 * @example
 * ```ts ignore
 * import { ingestRun } from "@modelpress/store";
 * const { created } = await ingestRun(store.db, run);
 * ```
 */
export async function ingestRun(db: Kysely<Database>, input: RunInput): Promise<IngestedRun> {
  const [result] = await ingestRuns(db, [input]);
  return result!;
}

async function write(trx: Transaction<Database>, prepared: Prepared[]): Promise<IngestedRun[]> {
  // The same id twice in one batch: once if identical, else a conflict.
  const unique = new Map<string, Prepared>();
  for (const p of prepared) {
    const seen = unique.get(p.id);
    if (seen && seen.payloadHash !== p.payloadHash) {
      throw new ConflictError(`Cannot ingest run '${p.id}': the batch holds it twice, differently`);
    }
    unique.set(p.id, p);
  }
  const existing = await existingHashes(trx, [...unique.keys()]);
  const fresh: Prepared[] = [];
  for (const p of unique.values()) {
    const hash = existing.get(p.id);
    if (hash === undefined) fresh.push(p);
    else if (hash !== p.payloadHash) throw conflict(p.id);
  }
  const created = new Map<string, IngestedMetric[]>();
  if (fresh.length > 0) {
    for (const [id, metrics] of await writeFresh(trx, fresh)) created.set(id, metrics);
  }
  // An identical duplicate in the batch is answered as already stored.
  const answered = new Set<string>();
  return prepared.map((p) => {
    const isNew = created.has(p.id) && !answered.has(p.id);
    answered.add(p.id);
    return {
      id: p.id,
      created: isNew,
      startedAt: new Date(p.input.run.startedAt),
      model: p.input.model.name,
      recipeHash: p.recipeHash,
      environmentHash: p.environmentHash,
      metrics: isNew ? created.get(p.id)! : [],
    };
  });
}

function conflict(id: string): ConflictError {
  return new ConflictError(
    `Cannot ingest run '${id}': a run with this id is stored with a different payload`,
    { constraint: "runs_pkey" },
  );
}

async function existingHashes(
  trx: Transaction<Database>,
  ids: readonly string[],
): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  for (const chunk of chunks(ids, 1)) {
    // A join with the ids (not `id = any(...)`): linear even when the planner guesses the
    // table is tiny, as it does before the first analyze.
    const rows = await trx
      .selectFrom(sql<{ id: string }>`(select unnest(${arrayOf(chunk, "uuid")}) as id)`.as("x"))
      .innerJoin("runs", "runs.id", "x.id")
      .select(["runs.id", "runs.payload_hash"]).execute();
    for (const row of rows) out.set(row.id, row.payload_hash);
  }
  return out;
}

async function writeFresh(
  trx: Transaction<Database>,
  fresh: readonly Prepared[],
): Promise<Map<string, IngestedMetric[]>> {
  const modelIds = await upsertModels(trx, fresh);
  const recipeIds = await upsertByHash(trx, "recipes", fresh);
  const environmentIds = await upsertByHash(trx, "environments", fresh);

  // Runs first: a concurrent writer of the same id makes ours a no-op, then we compare. Bulk
  // inserts send one array per column (`unnest`), so a batch is a handful of parameters.
  const inserted = new Set<string>();
  for (const chunk of chunks(fresh, 1)) {
    const col = <V extends string | number | null>(f: (p: Prepared) => V) => chunk.map(f);
    const rows = await trx.insertInto("runs")
      .columns([
        "id",
        "model_id",
        "recipe_id",
        "environment_id",
        "payload_hash",
        "status",
        "started_at",
        "ended_at",
        "git_commit",
        "branch",
        "tags",
        "report",
      ])
      .expression(sql`select * from unnest(
        ${arrayOf(col((p) => p.id), "uuid")},
        ${arrayOf(col((p) => modelIds.get(modelKey(p.input.model))!), "int4")},
        ${arrayOf(col((p) => recipeIds.get(p.recipeHash)!), "int4")},
        ${arrayOf(col((p) => environmentIds.get(p.environmentHash)!), "int4")},
        ${arrayOf(col((p) => p.payloadHash), "text")},
        ${arrayOf(col((p) => p.input.run.status), "text")},
        ${arrayOf(col((p) => p.input.run.startedAt), "timestamptz")},
        ${arrayOf(col((p) => p.input.run.endedAt), "timestamptz")},
        ${arrayOf(col((p) => p.input.run.gitCommit), "text")},
        ${arrayOf(col((p) => p.input.run.branch), "text")},
        ${arrayOf(col((p) => canonicalJson(p.input.run.tags)), "jsonb")},
        ${
        arrayOf(
          col((p) => p.input.run.report === null ? null : canonicalJson(p.input.run.report)),
          "jsonb",
        )
      }
      )`)
      .onConflict((oc) => oc.column("id").doNothing()).returning("id").execute();
    for (const row of rows) inserted.add(row.id);
  }
  const raced = fresh.filter((p) => !inserted.has(p.id));
  if (raced.length > 0) {
    const hashes = await existingHashes(trx, raced.map((p) => p.id));
    for (const p of raced) if (hashes.get(p.id) !== p.payloadHash) throw conflict(p.id);
  }
  const written = fresh.filter((p) => inserted.has(p.id));

  const params = written.flatMap((p) =>
    Object.entries(p.input.params).map(([key, value]) => [p.id, key, canonicalJson(value)] as const)
  );
  for (const chunk of chunks(params, 1)) {
    await trx.insertInto("params").columns(["run_id", "key", "value"])
      .expression(sql`select * from unnest(
        ${arrayOf(chunk.map((r) => r[0]), "uuid")},
        ${arrayOf(chunk.map((r) => r[1]), "text")},
        ${arrayOf(chunk.map((r) => r[2]), "jsonb")}
      )`).execute();
  }

  const seriesIds = await upsertSeries(trx, written, recipeIds, environmentIds);
  const out = new Map<string, IngestedMetric[]>();
  const metricRows: [string, number, string, number, string | null, string | null, string][] = [];
  for (const p of written) {
    const metrics: IngestedMetric[] = [];
    for (const m of p.input.metrics) {
      const seriesId = seriesIds.get(seriesKey(p, m.name, recipeIds, environmentIds))!;
      metrics.push({ name: m.name, seriesId, value: m.value, unit: m.unit, samples: m.samples });
      metricRows.push([
        p.id,
        seriesId,
        m.name,
        m.value,
        m.unit,
        m.samples === null ? null : float8Literal(m.samples),
        p.input.run.startedAt,
      ]);
    }
    out.set(p.id, metrics);
  }
  await updateRollups(trx, metricRows);
  for (const chunk of chunks(metricRows, 1)) {
    const col = <V extends string | number | null>(i: number) => chunk.map((r) => r[i] as V);
    await trx.insertInto("metrics")
      .columns(["run_id", "series_id", "name", "value", "unit", "samples", "time"])
      .expression(sql`select r, s, n, v, un, cast(x as float8[]), t from unnest(
        ${arrayOf(col(0), "uuid")},
        ${arrayOf(col(1), "int4")},
        ${arrayOf(col(2), "text")},
        ${arrayOf(col(3), "float8")},
        ${arrayOf(col(4), "text")},
        ${arrayOf(col(5), "text")},
        ${arrayOf(col(6), "timestamptz")}
      ) as m(r, s, n, v, un, x, t)`).execute();
  }
  return out;
}

const MINUTE_MS = 60_000;
const HOUR_MS = 60 * MINUTE_MS;
/** The widths of `series_fine_rollups` (migration `0003_series_fine_rollups`), in minutes. */
const FINE_MINUTES = [5, 15] as const;

interface Rollup {
  series: number;
  start: number;
  min: number;
  max: number;
  sum: number;
  count: number;
  lastTime: string;
  lastRun: string;
}

/** The rollups of new points over intervals of `widthMs` aligned to the epoch, sorted. */
function rollUp(
  rows: readonly (readonly [string, number, string, number, unknown, unknown, string])[],
  widthMs: number,
): Rollup[] {
  const rollups = new Map<string, Rollup>();
  for (const [runId, series, , value, , , time] of rows) {
    const start = Math.floor(Date.parse(time) / widthMs) * widthMs;
    const key = `${series}:${start}`;
    const r = rollups.get(key);
    if (!r) {
      rollups.set(key, {
        series,
        start,
        min: value,
        max: value,
        sum: value,
        count: 1,
        lastTime: time,
        lastRun: runId,
      });
      continue;
    }
    r.min = Math.min(r.min, value);
    r.max = Math.max(r.max, value);
    r.sum += value;
    r.count++;
    const t = Date.parse(time);
    const last = Date.parse(r.lastTime);
    if (t > last || (t === last && runId > r.lastRun)) {
      r.lastTime = time;
      r.lastRun = runId;
    }
  }
  // Sorted, so that concurrent batches lock rollup rows in the same order.
  return [...rollups.values()].sort((a, b) => a.series - b.series || a.start - b.start);
}

/** The unnested columns of rollups: min, max, sum, count, last time, last run. */
function rollupColumns(chunk: readonly Rollup[]): RawBuilder<unknown> {
  return sql.join([
    arrayOf(chunk.map((r) => r.min), "float8"),
    arrayOf(chunk.map((r) => r.max), "float8"),
    arrayOf(chunk.map((r) => r.sum), "float8"),
    arrayOf(chunk.map((r) => r.count), "int4"),
    arrayOf(chunk.map((r) => r.lastTime), "timestamptz"),
    arrayOf(chunk.map((r) => r.lastRun), "uuid"),
  ]);
}

/** How a stored rollup row (`t`) takes in new points (`excluded`). */
function mergeRollup(
  t: "series_rollups" | "series_fine_rollups",
): Record<"min" | "max" | "sum" | "count" | "last_time" | "last_run_id", RawBuilder<never>> {
  const table = sql.table(t);
  return {
    min: sql`least(${table}.min, excluded.min)`,
    max: sql`greatest(${table}.max, excluded.max)`,
    sum: sql`${table}.sum + excluded.sum`,
    count: sql`${table}.count + excluded.count`,
    last_time: sql`greatest(${table}.last_time, excluded.last_time)`,
    last_run_id: sql`case when (excluded.last_time, excluded.last_run_id) >
      (${table}.last_time, ${table}.last_run_id)
      then excluded.last_run_id else ${table}.last_run_id end`,
  };
}

/**
 * Adds new points to their series' rollups: hourly (migration `0002_series_rollups`) and 5- and
 * 15-minute (migration `0003_series_fine_rollups`).
 */
async function updateRollups(
  trx: Transaction<Database>,
  rows: readonly (readonly [string, number, string, number, unknown, unknown, string])[],
): Promise<void> {
  for (const chunk of chunks(rollUp(rows, HOUR_MS), 1)) {
    await trx.insertInto("series_rollups")
      .columns(["series_id", "hour", "min", "max", "sum", "count", "last_time", "last_run_id"])
      .expression(sql`select * from unnest(
        ${arrayOf(chunk.map((r) => r.series), "int4")},
        ${arrayOf(chunk.map((r) => new Date(r.start).toISOString()), "timestamptz")},
        ${rollupColumns(chunk)}
      )`)
      .onConflict((oc) =>
        oc.columns(["series_id", "hour"]).doUpdateSet(mergeRollup("series_rollups"))
      )
      .execute();
  }
  const fine = FINE_MINUTES.flatMap((minutes) =>
    rollUp(rows, minutes * MINUTE_MS).map((r) => ({ ...r, minutes }))
  ).sort((a, b) => a.series - b.series || a.minutes - b.minutes || a.start - b.start);
  for (const chunk of chunks(fine, 1)) {
    await trx.insertInto("series_fine_rollups")
      .columns([
        "series_id",
        "minutes",
        "start",
        "min",
        "max",
        "sum",
        "count",
        "last_time",
        "last_run_id",
      ])
      .expression(sql`select * from unnest(
        ${arrayOf(chunk.map((r) => r.series), "int4")},
        ${arrayOf(chunk.map((r) => r.minutes), "int2")},
        ${arrayOf(chunk.map((r) => new Date(r.start).toISOString()), "timestamptz")},
        ${rollupColumns(chunk)}
      )`)
      .onConflict((oc) =>
        oc.columns(["series_id", "minutes", "start"]).doUpdateSet(
          mergeRollup("series_fine_rollups"),
        )
      ).execute();
  }
}

function modelKey(model: ModelInput): string {
  return `${model.sha256}\u0000${model.name}`;
}

async function upsertModels(
  trx: Transaction<Database>,
  fresh: readonly Prepared[],
): Promise<Map<string, number>> {
  const models = new Map<string, ModelInput>();
  for (const p of fresh) models.set(modelKey(p.input.model), p.input.model);
  // Sorted, so that concurrent batches lock rows in the same order.
  const rows = [...models.entries()].sort(([a], [b]) => a < b ? -1 : 1).map(([, m]) => ({
    name: m.name,
    sha256: m.sha256,
    size_bytes: m.sizeBytes,
  }));
  const ids = new Map<string, number>();
  for (const chunk of chunks(rows, 3)) {
    const result = await trx.insertInto("models").values(chunk)
      .onConflict((oc) =>
        oc.columns(["name", "sha256"]).doUpdateSet((eb) => ({ name: eb.ref("excluded.name") }))
      )
      .returning(["id", "name", "sha256"]).execute();
    for (const r of result) ids.set(`${r.sha256}\u0000${r.name}`, r.id);
  }
  return ids;
}

async function upsertByHash(
  trx: Transaction<Database>,
  table: "recipes" | "environments",
  fresh: readonly Prepared[],
): Promise<Map<string, number>> {
  const byHash = new Map<string, Prepared>();
  for (const p of fresh) byHash.set(table === "recipes" ? p.recipeHash : p.environmentHash, p);
  const hashes = [...byHash.keys()].sort();
  const ids = new Map<string, number>();
  for (const chunk of chunks(hashes, 7)) {
    const result = table === "recipes"
      ? await trx.insertInto("recipes").values(chunk.map((hash) => {
        const recipe = byHash.get(hash)!.input.recipe;
        return { hash, name: recipe.name, config: jsonb(recipe.config) };
      })).onConflict((oc) =>
        oc.column("hash").doUpdateSet((eb) => ({ hash: eb.ref("excluded.hash") }))
      ).returning(["id", "hash"]).execute()
      : await trx.insertInto("environments").values(chunk.map((hash) => {
        const env = byHash.get(hash)!.input.environment;
        return {
          hash,
          cpu_model: env.cpuModel,
          cores: env.cores,
          runtime: env.runtime,
          backend: env.backend,
          details: jsonb(env.details),
        };
      })).onConflict((oc) =>
        oc.column("hash").doUpdateSet((eb) => ({ hash: eb.ref("excluded.hash") }))
      ).returning(["id", "hash"]).execute();
    for (const r of result) ids.set(r.hash, r.id);
  }
  return ids;
}

function seriesKey(
  p: Prepared,
  metric: string,
  recipeIds: ReadonlyMap<string, number>,
  environmentIds: ReadonlyMap<string, number>,
): string {
  return [
    p.input.model.name,
    recipeIds.get(p.recipeHash),
    environmentIds.get(p.environmentHash),
    metric,
  ].join("\u0000");
}

async function upsertSeries(
  trx: Transaction<Database>,
  written: readonly Prepared[],
  recipeIds: ReadonlyMap<string, number>,
  environmentIds: ReadonlyMap<string, number>,
): Promise<Map<string, number>> {
  const wanted = new Map<string, {
    model_name: string;
    recipe_id: number;
    environment_id: number;
    metric: string;
  }>();
  for (const p of written) {
    for (const m of p.input.metrics) {
      wanted.set(seriesKey(p, m.name, recipeIds, environmentIds), {
        model_name: p.input.model.name,
        recipe_id: recipeIds.get(p.recipeHash)!,
        environment_id: environmentIds.get(p.environmentHash)!,
        metric: m.name,
      });
    }
  }
  const rows = [...wanted.entries()].sort(([a], [b]) => a < b ? -1 : 1).map(([, row]) => row);
  const ids = new Map<string, number>();
  for (const chunk of chunks(rows, 4)) {
    const result = await trx.insertInto("series").values(chunk)
      .onConflict((oc) =>
        oc.columns(["model_name", "recipe_id", "environment_id", "metric"])
          .doUpdateSet((eb) => ({ metric: eb.ref("excluded.metric") }))
      )
      .returning(["id", "model_name", "recipe_id", "environment_id", "metric"]).execute();
    for (const r of result) {
      ids.set([r.model_name, r.recipe_id, r.environment_id, r.metric].join("\u0000"), r.id);
    }
  }
  return ids;
}
