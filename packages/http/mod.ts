/**
 * `@modelpress/http`: what every ModelPress service (Hono) is built on: a streamed,
 * size-limited `multipart/form-data` reader, a bounded job queue with progress, cancellation and
 * a time to live, {@linkcode ApiError} and the one mapping of errors to HTTP answers, the
 * parts of a model-and-recipe upload (`partsByName`, `checkModelPart`, `parseJsonPart`,
 * `readCalibrationPart`, `badField`), model downloads, JSON that keeps non-finite numbers, the
 * shared schemas, and `GET /health`.
 *
 * @example
 * ```ts
 * import { OpenAPIHono } from "@hono/zod-openapi";
 * import { addHealthRoute, handleErrors, JobQueue, readMultipart, sendJson } from "@modelpress/http";
 * const app = new OpenAPIHono();
 * const queue = new JobQueue<number>({ jobName: "count" });
 * addHealthRoute(app, "count", queue);
 * app.post("/v1/counts", async (c) => {
 *   const parts = await readMultipart(c.req.raw, { maxBodyBytes: 1 << 20, partLimits: { data: 1 << 20 } });
 *   return sendJson(c, { parts: parts.length }, 200);
 * });
 * handleErrors(app);
 * ```
 * @module
 */
export * from "./api_error.ts";
export * from "./form_parts.ts";
export * from "./handle_errors.ts";
export * from "./health_route.ts";
export * from "./job_queue.ts";
export * from "./job_routes.ts";
export * from "./model_job_routes.ts";
export * from "./prefers_async.ts";
export * from "./read_multipart.ts";
export * from "./run_in_worker.ts";
export * from "./schemas.ts";
export * from "./send_json.ts";
export * from "./service_app.ts";
export * from "./to_api_error.ts";
