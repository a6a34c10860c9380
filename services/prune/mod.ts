/**
 * `@modelpress/service-prune`: the prune service (Hono) over `@modelpress/prune`.
 * `main.ts` serves it; `createApp()` makes it for tests and for embedding.
 *
 * @example
 * ```ts
 * import { loadDataset } from "@modelpress/evaluate";
 * import { createApp, pruneInWorker } from "@modelpress/service-prune";
 * Deno.serve({ port: 8102 }, createApp({ prune: pruneInWorker, loadDataset }).fetch);
 * ```
 * @module
 */
export * from "./app.ts";
export * from "./prune_bytes.ts";
export * from "./prune_in_worker.ts";
export * from "./routes/prunings.ts";
