/**
 * `@modelpress/service-quantize`: the quantize service (Hono) over `@modelpress/quantize`.
 * `main.ts` serves it; `createApp()` makes it for tests and for embedding.
 *
 * @example
 * ```ts
 * import { loadDataset } from "@modelpress/evaluate";
 * import { createApp, quantizeInWorker } from "@modelpress/service-quantize";
 * Deno.serve({ port: 8101 }, createApp({ quantize: quantizeInWorker, loadDataset }).fetch);
 * ```
 * @module
 */
export * from "./app.ts";
export * from "./quantize_bytes.ts";
export * from "./quantize_in_worker.ts";
export * from "./routes/quantizations.ts";
