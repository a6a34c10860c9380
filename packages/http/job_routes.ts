/**
 * The routes every job-backed service has under its collection (`/v1/evaluations` and so on):
 * `GET /{id}` (status, progress, result), `POST /{id}/cancel`, `DELETE /{id}`, and the answer to
 * the `POST` that made the job: 202 with a Location to poll, or the finished job directly.
 * @module
 */
import { createRoute, type OpenAPIHono, type z } from "@hono/zod-openapi";
import type { Context } from "hono";
import { ApiError, type ApiErrorCode } from "./api_error.ts";
import type { JobQueue, JobSnapshot, SubmittedJob } from "./job_queue.ts";
import { JobParamsSchema } from "./schemas.ts";
import { sendJson } from "./send_json.ts";

/** How a service's jobs are reached and shown. */
export interface JobRoutesOptions<T> {
  /** Where the jobs wait and run. */
  readonly queue: JobQueue<T>;
  /** The collection's path, such as `/v1/evaluations`. */
  readonly path: string;
  /** What a job is called in messages, such as `evaluation`. */
  readonly jobName: string;
  /** The error code of a job that failed, such as `evaluation_failed`. */
  readonly failedCode: ApiErrorCode;
  /** A job as clients see it (default: the snapshot as it is). */
  readonly view?: (snapshot: JobSnapshot<T>) => unknown;
  /** OpenAPI: the schema of a job as clients see it. */
  readonly schema: z.ZodType;
  /** OpenAPI: the error responses of these statuses. */
  readonly errorResponses: (...statuses: number[]) => Record<number, unknown>;
  /** OpenAPI: the summaries of the routes, and the description of the cancel route. */
  readonly docs: {
    readonly get: string;
    readonly getResponse: string;
    readonly cancel: string;
    readonly cancelDescription: string;
    readonly delete: string;
  };
}

/**
 * Adds `GET {path}/{id}`, `POST {path}/{id}/cancel` and `DELETE {path}/{id}`, and their OpenAPI
 * descriptions, to an app. A missing or expired job is a 404 (`not_found`); cancelling a job
 * that has succeeded or failed is a 409 (`conflict`); a queued job is cancelled at once (200), a
 * running one is signalled (202); DELETE cancels and forgets (204).
 *
 * @param app The app.
 * @param options The queue, the path, the job's name and view, and the OpenAPI texts.
 * @example
 * ```ts
 * import { OpenAPIHono, z } from "@hono/zod-openapi";
 * import { addJobRoutes, errorResponses, JobQueue } from "@modelpress/http";
 * addJobRoutes(new OpenAPIHono(), {
 *   queue: new JobQueue<number>(),
 *   path: "/v1/counts",
 *   jobName: "count",
 *   failedCode: "count_failed",
 *   schema: z.object({ id: z.string() }),
 *   errorResponses: (...statuses) =>
 *     errorResponses(Object.fromEntries(statuses.map((s) => [s, "Error"]))),
 *   docs: { get: "A count", getResponse: "The count", cancel: "Cancel", cancelDescription: "", delete: "Forget" },
 * });
 * ```
 */
export function addJobRoutes<T>(app: OpenAPIHono, options: JobRoutesOptions<T>): void {
  const { queue, path, jobName, docs, errorResponses } = options;
  const view = options.view ?? ((snapshot: JobSnapshot<T>): unknown => snapshot);
  const content = { "application/json": { schema: options.schema } };

  app.openAPIRegistry.registerPath(createRoute({
    method: "get",
    path: `${path}/{id}`,
    summary: docs.get,
    request: { params: JobParamsSchema },
    responses: {
      200: { description: docs.getResponse, content },
      ...errorResponses(404),
    },
  }));
  app.get(
    `${path}/:id`,
    (c) => sendJson(c, view(findJob(options, c.req.param("id"))), 200),
  );

  app.openAPIRegistry.registerPath(createRoute({
    method: "post",
    path: `${path}/{id}/cancel`,
    summary: docs.cancel,
    description: docs.cancelDescription,
    request: { params: JobParamsSchema },
    responses: {
      200: { description: "Cancelled", content },
      202: { description: "Cancellation requested", content },
      ...errorResponses(404, 409),
    },
  }));
  app.post(`${path}/:id/cancel`, (c) => {
    const before = findJob(options, c.req.param("id"));
    if (before.status === "succeeded" || before.status === "failed") {
      throw new ApiError(
        `Cannot cancel ${jobName} '${before.id}': it has already ${before.status}`,
        { status: 409, code: "conflict", details: { status: before.status } },
      );
    }
    const after = findJob(options, before.id, queue.cancel(before.id));
    return sendJson(c, view(after), after.status === "cancelled" ? 200 : 202);
  });

  app.openAPIRegistry.registerPath(createRoute({
    method: "delete",
    path: `${path}/{id}`,
    summary: docs.delete,
    request: { params: JobParamsSchema },
    responses: { 204: { description: "Forgotten" }, ...errorResponses(404) },
  }));
  app.delete(`${path}/:id`, (c) => {
    const id = c.req.param("id");
    if (!queue.delete(id)) findJob(options, id, undefined);
    return c.body(null, 204);
  });
}

/**
 * A job's snapshot, or the 404 (`not_found`) of a job that never existed or expired.
 *
 * @param options The job routes' options (queue and job name).
 * @param id The job's id.
 * @param snapshot The snapshot if already looked up (default: the queue's).
 * @returns The snapshot.
 * @example
 * ```ts
 * import { findJob, JobQueue } from "@modelpress/http";
 * const queue = new JobQueue<number>();
 * const job = queue.submit(() => Promise.resolve(1));
 * findJob({ queue, jobName: "count" }, job.id).status; // "running"
 * ```
 */
export function findJob<T>(
  options: Pick<JobRoutesOptions<T>, "queue" | "jobName">,
  id: string,
  snapshot: JobSnapshot<T> | undefined = options.queue.get(id),
): JobSnapshot<T> {
  if (snapshot === undefined) {
    throw new ApiError(
      `Cannot find ${options.jobName} '${id}': no such job, or it expired`,
      { status: 404, code: "not_found" },
    );
  }
  return snapshot;
}

/**
 * The result of a job that has succeeded, or the 404 (`not_found`) of a job that never existed
 * or expired, or the 409 (`conflict`) "Cannot download the <what> of <job name> '<id>': it is
 * <status>" of one that has not succeeded (with "; poll until it succeeds" while it may yet).
 *
 * @param options The job routes' options (queue and job name).
 * @param id The job's id.
 * @param what What the caller wants of the result, for the message (`model`, `report`).
 * @returns The job's result.
 * @example
 * ```ts
 * import { finishedResult, JobQueue } from "@modelpress/http";
 * const queue = new JobQueue<number>();
 * const job = queue.submit(() => Promise.resolve(1));
 * await job.finished;
 * finishedResult({ queue, jobName: "count" }, job.id, "count"); // 1
 * ```
 */
export function finishedResult<T>(
  options: Pick<JobRoutesOptions<T>, "queue" | "jobName">,
  id: string,
  what: string,
): T {
  const job = findJob(options, id);
  if (job.result === undefined) {
    throw new ApiError(
      `Cannot download the ${what} of ${options.jobName} '${job.id}': it is ${job.status}` +
        (job.status === "queued" || job.status === "running" ? "; poll until it succeeds" : ""),
      { status: 409, code: "conflict", details: { status: job.status } },
    );
  }
  return job.result;
}

/**
 * Answers 200 with a model file to download: `application/octet-stream`, its length, and an
 * attachment named `filename` (which must be safe in a header, see `derivedModelName`).
 *
 * @param c The request's context.
 * @param file The model's bytes and download name.
 * @returns The response.
 * @example
 * ```ts
 * import { Hono } from "hono";
 * import { sendModelFile } from "@modelpress/http";
 * new Hono().get("/m", (c) => sendModelFile(c, { model: new Uint8Array(4), filename: "m.onnx" }));
 * ```
 */
export function sendModelFile(
  c: Context,
  file: { readonly model: Uint8Array; readonly filename: string },
): Response {
  const { model, filename } = file;
  return c.body(model as Uint8Array<ArrayBuffer>, 200, {
    "Content-Type": "application/octet-stream",
    "Content-Length": String(model.length),
    "Content-Disposition": `attachment; filename="${filename}"`,
  });
}

/**
 * Answers the request that submitted a job: unless `sync`, 202 with the job's Location and its
 * snapshot; if `sync`, waits for it and answers 200 with Content-Location, or throws its error
 * (422 with `failedCode`, 500 `internal`, or 409 `conflict` once cancelled), whose details name
 * the job under the job's name.
 *
 * Direct answers are small by definition; reading request.signal to cancel them when the client
 * hangs up would make Deno.serve log a warning about its legacy abort behaviour on every one.
 *
 * @param c The request's context.
 * @param options The job routes' options.
 * @param job The submitted job.
 * @param sync Whether to answer directly.
 * @returns The response.
 * @example
 * ```ts
 * import { Hono } from "hono";
 * import { answerJob, JobQueue } from "@modelpress/http";
 * import { z } from "@hono/zod-openapi";
 * const queue = new JobQueue<number>();
 * const options = {
 *   queue, path: "/v1/counts", jobName: "count", failedCode: "count_failed",
 *   schema: z.object({}), errorResponses: () => ({}),
 *   docs: { get: "", getResponse: "", cancel: "", cancelDescription: "", delete: "" },
 * };
 * new Hono().post("/v1/counts", (c) => answerJob(c, options, queue.submit(async () => 1), true));
 * ```
 */
export async function answerJob<T>(
  c: Context,
  options: JobRoutesOptions<T>,
  job: SubmittedJob<T>,
  sync: boolean,
): Promise<Response> {
  const { jobName } = options;
  const view = options.view ?? ((snapshot: JobSnapshot<T>): unknown => snapshot);
  const location = `${options.path}/${job.id}`;
  if (!sync) {
    c.header("Location", location);
    return sendJson(c, view(findJob(options, job.id)), 202);
  }
  const final = await job.finished;
  if (final.status === "succeeded") {
    c.header("Content-Location", location);
    return sendJson(c, view(final), 200);
  }
  const error = final.error ?? { code: "conflict", message: `The ${jobName} was cancelled` };
  throw new ApiError(error.message, {
    status: error.code === "internal" ? 500 : error.code === "conflict" ? 409 : 422,
    code: error.code === "internal" || error.code === "conflict" ? error.code : options.failedCode,
    details: { ...error.details, [jobName]: final.id },
  });
}
