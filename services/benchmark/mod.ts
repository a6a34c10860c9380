/**
 * `@modelpress/service-benchmark`: the benchmark service (Hono) over `@modelpress/store`: runs
 * ingested idempotently, regressions detected at ingest, series, comparisons, Pareto fronts.
 * `main.ts` serves it; `createApp()` makes it for tests and for embedding.
 *
 * @example
 * ```ts
 * import { createStore } from "@modelpress/store";
 * import { createApp } from "@modelpress/service-benchmark";
 * const store = await createStore({ databaseUrl: null, dataDir: ":memory:" });
 * const app = createApp({ store });
 * await store.close();
 * ```
 * @module
 */
export * from "./app.ts";
export * from "./detect.ts";
export * from "./routes/evaluations.ts";
export * from "./routes/regressions.ts";
export * from "./routes/runs.ts";
export * from "./routes/series.ts";
export * from "./store_source.ts";
