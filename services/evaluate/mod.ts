/**
 * `@modelpress/service-evaluate`: the evaluate service (Hono) over `@modelpress/evaluate`.
 * `main.ts` serves it; `createApp()` makes it for tests and for embedding.
 *
 * @example
 * ```ts
 * import { evaluateModel, loadDataset } from "@modelpress/evaluate";
 * import { createApp } from "@modelpress/service-evaluate";
 * Deno.serve({ port: 8103 }, createApp({ evaluate: evaluateModel, loadDataset }).fetch);
 * ```
 * @module
 */
export * from "./app.ts";
export * from "./benchmark_recorder.ts";
export * from "./evaluate_in_worker.ts";
export * from "./routes/evaluations.ts";
