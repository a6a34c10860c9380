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
export * from "./api_error.ts";
export * from "./app.ts";
export * from "./evaluate_in_worker.ts";
export * from "./job_queue.ts";
export * from "./read_multipart.ts";
export * from "./routes/evaluations.ts";
export * from "./routes/health.ts";
export * from "./routes/send_json.ts";
export * from "./to_api_error.ts";
