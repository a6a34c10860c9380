/**
 * The frame of a job-backed service's app: its queue, `GET /health`, its routes, the OpenAPI
 * document and the one error mapping, wired the same way in every service.
 * @module
 */
import { OpenAPIHono } from "@hono/zod-openapi";
import { handleErrors } from "./handle_errors.ts";
import { addHealthRoute } from "./health_route.ts";
import { JobQueue, type JobQueueOptions } from "./job_queue.ts";
import { toJobError } from "./to_api_error.ts";

/** What every job-backed service may be given besides its own work. */
export interface JobServiceDeps<T, L> {
  /** The job queue (default: a new one with `queueOptions`). */
  readonly queue?: JobQueue<T>;
  /**
   * Options of the default queue (default: 1 running, 4 waiting, results kept 15 minutes; a
   * finished job holds its result until then, or until DELETE).
   */
  readonly queueOptions?: JobQueueOptions;
  /** Upload limits (defaults: the service's `DEFAULT_UPLOAD_LIMITS`). */
  readonly limits?: Partial<L>;
}

/** What {@linkcode createServiceApp} needs to know of a service. */
export interface ServiceAppOptions<T> {
  /** The service's name in `GET /health`, such as `evaluate`. */
  readonly service: string;
  /** What a job is called in messages, such as `evaluation`. */
  readonly jobName: string;
  /** The OpenAPI document's title and description. */
  readonly info: { readonly title: string; readonly description: string };
  /** Adds the service's own routes, given the app and the queue. */
  readonly addRoutes: (app: OpenAPIHono, queue: JobQueue<T>) => void;
}

/**
 * Makes a job-backed service's app: the given queue or a new one (jobs named `jobName`, failures
 * described by `toJobError`), `GET /health`, the service's routes, the OpenAPI 3.1 document at
 * `GET /openapi.json`, and every error answered as `{ error: { code, message, details? } }`.
 *
 * @param deps The queue or its options.
 * @param options The service's name, job name, OpenAPI info and routes.
 * @returns The app.
 * @example
 * ```ts
 * import { createServiceApp } from "@modelpress/http";
 * const app = createServiceApp<number, never>({}, {
 *   service: "count",
 *   jobName: "count",
 *   info: { title: "Counts", description: "Counting." },
 *   addRoutes: () => {},
 * });
 * ```
 */
export function createServiceApp<T, L>(
  deps: JobServiceDeps<T, L>,
  options: ServiceAppOptions<T>,
): OpenAPIHono {
  const queue = deps.queue ?? new JobQueue<T>({
    describeError: toJobError,
    jobName: options.jobName,
    ...deps.queueOptions,
  });
  const app = new OpenAPIHono();
  addHealthRoute(app, options.service, queue);
  options.addRoutes(app, queue);
  app.doc31("/openapi.json", {
    openapi: "3.1.0",
    info: { title: options.info.title, version: "0.1.0", description: options.info.description },
  });
  handleErrors(app);
  return app;
}
