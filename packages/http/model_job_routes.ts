/**
 * The routes of a service whose jobs turn an uploaded model into another (prune, quantize): the
 * OpenAPI description of the streamed `POST` upload, the model download, the error table, the
 * job docs, the job as clients see it, and whether to answer directly. See `form_parts.ts` for
 * reading the upload itself.
 * @module
 */
import { createRoute, type OpenAPIHono, type z } from "@hono/zod-openapi";
import type { Context } from "hono";
import type { RecipeUploadLimits } from "./form_parts.ts";
import type { JobQueue, JobSnapshot } from "./job_queue.ts";
import { finishedResult, type JobRoutesOptions, sendModelFile } from "./job_routes.ts";
import { prefersAsync } from "./prefers_async.ts";
import { JobParamsSchema } from "./schemas.ts";
import type { JobServiceDeps } from "./service_app.ts";

/** Runs one model job (`pruneInWorker`, `quantizeInWorker`, or a stand-in in tests). */
export type ModelRunner<R, O, M> = (model: Uint8Array, recipe: R, options: O) => Promise<M>;

/** What the routes of a model job service need besides the work itself. */
export interface ModelJobRoutesContext<T, L> {
  /** Loads calibration datasets. */
  readonly loadDataset: L;
  /** Where jobs wait and run. */
  readonly queue: JobQueue<T>;
  /** Upload limits. */
  readonly limits: RecipeUploadLimits;
  /** Models of at most this many bytes answer 200 directly; larger ones 202. */
  readonly syncMaxModelBytes: number;
}

/** A finished model job as the queue keeps it: the new model, its name, and a report. */
export interface ModelJobResult {
  /** The serialized model. */
  readonly model: Uint8Array;
  /** The file name to offer for download. */
  readonly filename: string;
  /** What was done. */
  readonly report: unknown;
}

/** Default upload limits: 1 GiB per model, 256 MiB per dataset, 64 KiB of recipe. */
export const DEFAULT_RECIPE_UPLOAD_LIMITS: RecipeUploadLimits = Object.freeze({
  maxBodyBytes: 1280 * 1024 * 1024,
  maxModelBytes: 1024 * 1024 * 1024,
  maxDatasetBytes: 256 * 1024 * 1024,
  maxRecipeBytes: 64 * 1024,
});

/** Default of {@linkcode ModelJobServiceDeps.syncMaxModelBytes}: 8 MiB. */
export const DEFAULT_SYNC_MAX_MODEL_BYTES = 8 * 1024 * 1024;

/**
 * What a model job service is made of besides its runner (and the queue, its options and the
 * limits; a finished job holds its model until it expires, or until DELETE).
 */
export interface ModelJobServiceDeps<T, L> extends JobServiceDeps<T, RecipeUploadLimits> {
  /** Loads a calibration dataset: `loadDataset` of `@modelpress/evaluate`. */
  readonly loadDataset: L;
  /** Models of at most this many bytes answer 200 directly; larger ones 202 (default 8 MiB). */
  readonly syncMaxModelBytes?: number;
}

/**
 * The routes' context from a service's deps and queue: the limits over
 * {@linkcode DEFAULT_RECIPE_UPLOAD_LIMITS} (frozen), the threshold or
 * {@linkcode DEFAULT_SYNC_MAX_MODEL_BYTES}.
 *
 * @param deps The service's deps.
 * @param queue The service's queue.
 * @returns The context, less the runner.
 * @example
 * ```ts
 * import { JobQueue, modelJobRoutesContext } from "@modelpress/http";
 * const context = modelJobRoutesContext(
 *   { loadDataset: () => {}, limits: { maxRecipeBytes: 1024 } },
 *   new JobQueue(),
 * );
 * context.limits.maxModelBytes; // 1 GiB
 * ```
 */
export function modelJobRoutesContext<T, L>(
  deps: ModelJobServiceDeps<T, L>,
  queue: JobQueue<T>,
): ModelJobRoutesContext<T, L> {
  return {
    loadDataset: deps.loadDataset,
    queue,
    limits: Object.freeze({ ...DEFAULT_RECIPE_UPLOAD_LIMITS, ...deps.limits }),
    syncMaxModelBytes: deps.syncMaxModelBytes ?? DEFAULT_SYNC_MAX_MODEL_BYTES,
  };
}

/**
 * What each error status means for a model job service, with its own words for 422.
 *
 * @param unprocessable What a 422 means in this service.
 * @returns The table, by status (see `errorResponsesFor`).
 * @example
 * ```ts
 * import { errorResponsesFor, modelJobErrorDescriptions } from "@modelpress/http";
 * const errorResponses = errorResponsesFor(
 *   modelJobErrorDescriptions("Invalid model, or the quantization failed"),
 * );
 * ```
 */
export function modelJobErrorDescriptions(unprocessable: string): Record<number, string> {
  return {
    400: "Bad request or invalid recipe (details.field names the field)",
    404: "No such job (never existed, or expired)",
    409: "The job has already finished, or its model is not ready",
    413: "The body or a part is over its size limit",
    415: "Not multipart/form-data",
    422: unprocessable,
    503: "Busy: every slot and queue place is taken (see Retry-After)",
  };
}

/**
 * The OpenAPI texts of the job routes (`addJobRoutes`) of a model job service.
 *
 * @param jobName What a job is called (`pruning`).
 * @returns The docs.
 * @example
 * ```ts
 * import { modelJobDocs } from "@modelpress/http";
 * modelJobDocs("pruning").cancel; // "Cancel a pruning"
 * ```
 */
export function modelJobDocs(jobName: string): JobRoutesOptions<unknown>["docs"] {
  return {
    get: `Status, progress and result of a ${jobName}`,
    getResponse: `The ${jobName}`,
    cancel: `Cancel a ${jobName}`,
    cancelDescription: "A queued job is cancelled at once (200); a running one is stopped (its " +
      "worker is terminated) and reported cancelled shortly after (202; poll until status is " +
      "cancelled).",
    delete: `Cancel a ${jobName} if it runs, and forget it (and its model)`,
  };
}

/** Options of {@linkcode describeSubmitRoute}. */
export interface SubmitRouteOptions {
  /** The collection's path (`/v1/prunings`). */
  readonly path: string;
  /** The route's summary. */
  readonly summary: string;
  /** The route's description. */
  readonly description: string;
  /** The multipart form's schema. */
  readonly form: z.ZodType;
  /** The schema of a job as clients see it. */
  readonly schema: z.ZodType;
  /** What a job is called (`pruning`), for "The finished pruning". */
  readonly jobName: string;
  /** The error responses of some statuses (see `errorResponsesFor`). */
  readonly errorResponses: (...statuses: number[]) => Record<number, unknown>;
}

/**
 * Describes (only: the upload is streamed by `readMultipart`, not validated by zod-openapi's
 * form validator, which would buffer the whole body first) the `POST` that submits a job: 200
 * with the finished job, 202 with its Location, 400, 413, 415, 422 and 503.
 *
 * @param app The app.
 * @param options The path, texts and schemas.
 * @example
 * ```ts
 * import { OpenAPIHono, z } from "@hono/zod-openapi";
 * import { describeSubmitRoute, errorResponsesFor } from "@modelpress/http";
 * describeSubmitRoute(new OpenAPIHono(), {
 *   path: "/v1/counts",
 *   summary: "Count",
 *   description: "Counts.",
 *   form: z.object({}),
 *   schema: z.object({ id: z.string() }),
 *   jobName: "count",
 *   errorResponses: errorResponsesFor({}),
 * });
 * ```
 */
export function describeSubmitRoute(app: OpenAPIHono, options: SubmitRouteOptions): void {
  const content = { "application/json": { schema: options.schema } };
  app.openAPIRegistry.registerPath(createRoute({
    method: "post",
    path: options.path,
    summary: options.summary,
    description: options.description,
    request: {
      body: { required: true, content: { "multipart/form-data": { schema: options.form } } },
    },
    responses: {
      200: { description: `The finished ${options.jobName}`, content },
      202: {
        description: "Accepted; poll the Location header's URL",
        headers: { Location: { schema: { type: "string" }, description: "The job's URL" } },
        content,
      },
      ...options.errorResponses(400, 413, 415, 422, 503),
    },
  }));
}

/** Texts of {@linkcode addModelDownloadRoute}. */
export interface ModelDownloadTexts {
  /** The route's summary (`Download the pruned model`). */
  readonly summary: string;
  /** The 200 response's description (`The pruned ONNX model`). */
  readonly description: string;
}

/**
 * Adds `GET {path}/{id}/model`, and its OpenAPI description: the finished job's model as an
 * attachment under its file name; 404 for no such job, 409 for a job that has not succeeded.
 *
 * @param app The app.
 * @param routes The job routes' options (queue, path, job name, error responses).
 * @param texts The route's texts.
 * @example
 * ```ts
 * import { OpenAPIHono, z } from "@hono/zod-openapi";
 * import { addModelDownloadRoute, errorResponsesFor, JobQueue, modelJobDocs } from "@modelpress/http";
 * const queue = new JobQueue<{ model: Uint8Array; filename: string; report: unknown }>();
 * addModelDownloadRoute(new OpenAPIHono(), {
 *   queue, path: "/v1/prunings", jobName: "pruning", failedCode: "pruning_failed",
 *   schema: z.object({}), errorResponses: errorResponsesFor({}), docs: modelJobDocs("pruning"),
 * }, { summary: "Download the pruned model", description: "The pruned ONNX model" });
 * ```
 */
export function addModelDownloadRoute<T extends ModelJobResult>(
  app: OpenAPIHono,
  routes: JobRoutesOptions<T>,
  texts: ModelDownloadTexts,
): void {
  app.openAPIRegistry.registerPath(createRoute({
    method: "get",
    path: `${routes.path}/{id}/model`,
    summary: texts.summary,
    request: { params: JobParamsSchema },
    responses: {
      200: {
        description: texts.description,
        content: {
          "application/octet-stream": { schema: { type: "string", format: "binary" } },
        },
      },
      ...routes.errorResponses(404, 409),
    },
  }));
  app.get(
    `${routes.path}/:id/model`,
    (c) => sendModelFile(c, finishedResult(routes, c.req.param("id"), "model")),
  );
}

/**
 * A model job as clients see it: the snapshot with, once finished, the report and the model's
 * URL and size, never the model's bytes (and whatever `extra` adds to the result).
 *
 * @param path The collection's path.
 * @param snapshot The job.
 * @param extra More fields of the result (such as a report's own URL).
 * @returns The view.
 * @example
 * ```ts
 * import { modelJobView } from "@modelpress/http";
 * const view = modelJobView("/v1/prunings", {
 *   id: "a", status: "succeeded", progress: null, cancelRequested: false,
 *   createdAt: "", startedAt: null, finishedAt: null, expiresAt: null,
 *   result: { model: new Uint8Array(3), filename: "m.onnx", report: {} },
 * });
 * // { ..., result: { report: {}, model: { url: "/v1/prunings/a/model", bytes: 3 } } }
 * ```
 */
export function modelJobView<T extends ModelJobResult>(
  path: string,
  snapshot: JobSnapshot<T>,
  extra: Readonly<Record<string, unknown>> = {},
): unknown {
  const { result, ...rest } = snapshot;
  if (result === undefined) return rest;
  return {
    ...rest,
    result: {
      report: result.report,
      model: { url: `${path}/${snapshot.id}/model`, bytes: result.model.length },
      ...extra,
    },
  };
}

/**
 * Whether to answer a submitted model job directly (200) rather than with 202: the client did
 * not ask `Prefer: respond-async`, and the model is at most `syncMaxModelBytes`.
 *
 * @param c The request's context.
 * @param modelBytes The uploaded model's size.
 * @param syncMaxModelBytes The largest model answered directly.
 * @returns Whether to wait for the job.
 * @example
 * ```ts
 * import { Hono } from "hono";
 * import { answersDirectly } from "@modelpress/http";
 * new Hono().post("/", (c) => c.json({ sync: answersDirectly(c, 10, 1024) }));
 * ```
 */
export function answersDirectly(
  c: Context,
  modelBytes: number,
  syncMaxModelBytes: number,
): boolean {
  return !prefersAsync(c.req.header("prefer")) && modelBytes <= syncMaxModelBytes;
}
