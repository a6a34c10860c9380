/**
 * `GET /health`: the supervisor's readiness check.
 * @module
 */
import { createRoute, type OpenAPIHono } from "@hono/zod-openapi";
import type { JobQueue } from "./job_queue.ts";
import { HealthSchema } from "./schemas.ts";

const healthRoute = createRoute({
  method: "get",
  path: "/health",
  summary: "Readiness: 200 once the service answers",
  responses: {
    200: { description: "Ready", content: { "application/json": { schema: HealthSchema } } },
  },
});

/**
 * Adds `GET /health` to an app: 200 with the service's name and its running and waiting jobs.
 *
 * @param app The app.
 * @param service The service's name, such as `evaluate`.
 * @param queue The job queue whose load is reported.
 * @example
 * ```ts
 * import { OpenAPIHono } from "@hono/zod-openapi";
 * import { addHealthRoute, JobQueue } from "@modelpress/http";
 * const app = new OpenAPIHono();
 * addHealthRoute(app, "evaluate", new JobQueue());
 * ```
 */
export function addHealthRoute(
  app: OpenAPIHono,
  service: string,
  queue: Pick<JobQueue<unknown>, "running" | "queued">,
): void {
  app.openapi(healthRoute, (c) =>
    c.json({
      status: "ok" as const,
      service,
      jobs: { running: queue.running, queued: queue.queued },
    }, 200));
}
