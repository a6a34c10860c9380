/**
 * `/v1/regressions`: list them, acknowledge them, mark them fixed (or reopen them).
 * @module
 */
import { createRoute, type OpenAPIHono, z } from "@hono/zod-openapi";
import { errorResponses, sendJson } from "@modelpress/http";
import { listRegressions, setRegressionStatus, type Store } from "@modelpress/store";
import { RegressionSchema } from "../schemas.ts";

const json = <T extends z.ZodType>(schema: T) => ({ "application/json": { schema } });

const listRoute = createRoute({
  method: "get",
  path: "/v1/regressions",
  summary: "Regressions, newest run first",
  request: {
    query: z.object({
      status: z.enum(["open", "acknowledged", "fixed"]).optional(),
      model: z.string().optional(),
      limit: z.coerce.number().int().min(1).max(1000).optional(),
    }),
  },
  responses: {
    200: {
      description: "The regressions",
      content: json(z.object({ regressions: z.array(RegressionSchema) })),
    },
    ...errorResponses({ 400: "Invalid filter" }),
  },
});

const ACTIONS = { acknowledge: "acknowledged", fix: "fixed", reopen: "open" } as const;

const statusRoute = createRoute({
  method: "post",
  path: "/v1/regressions/{id}/{action}",
  summary: "Acknowledge a regression, mark it fixed, or reopen it",
  request: {
    params: z.object({
      id: z.string(),
      action: z.enum(["acknowledge", "fix", "reopen"]),
    }),
  },
  responses: {
    200: { description: "The regression", content: json(RegressionSchema) },
    ...errorResponses({ 400: "Unknown action", 404: "No such regression" }),
  },
});

/**
 * Adds the `/v1/regressions` routes.
 *
 * @param app The app.
 * @param store The store.
 * @example
 * ```ts ignore
 * import { OpenAPIHono } from "@hono/zod-openapi";
 * import { addRegressionRoutes } from "./regressions.ts";
 * addRegressionRoutes(new OpenAPIHono(), store);
 * ```
 */
export function addRegressionRoutes(app: OpenAPIHono, store: Store): void {
  app.openapi(listRoute, async (c) => {
    const q = c.req.valid("query");
    const regressions = await listRegressions(store.db, {
      ...(q.status === undefined ? {} : { status: q.status }),
      ...(q.model === undefined ? {} : { model: q.model }),
      ...(q.limit === undefined ? {} : { limit: q.limit }),
    });
    return sendJson(c, { regressions }, 200) as never;
  });
  app.openapi(statusRoute, async (c) => {
    const { id, action } = c.req.valid("param");
    return sendJson(c, await setRegressionStatus(store.db, id, ACTIONS[action]), 200) as never;
  });
}
