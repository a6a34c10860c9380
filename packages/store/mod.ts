/**
 * `@modelpress/store`: where ModelPress keeps runs, metrics and regressions. `createStore()`
 * opens a typed Kysely database on Postgres (postgres.js) or embedded PGlite and migrates it;
 * the other functions ingest runs and answer the queries the benchmark service serves.
 *
 * @example
 * ```ts
 * import { createStore } from "@modelpress/store";
 * await using store = await createStore({ databaseUrl: null, dataDir: ":memory:" });
 * console.log(store.kind); // "pglite"
 * ```
 * @module
 */
export * from "./create_store.ts";
export * from "./database.ts";
export * from "./errors.ts";
export * from "./migrations.ts";
export * from "./pglite_dialect.ts";
export * from "./canonical_json.ts";
export * from "./ingest.ts";
export * from "./models.ts";
export * from "./regressions.ts";
export * from "./run_from_evaluation.ts";
export * from "./runs.ts";
export * from "./series.ts";
