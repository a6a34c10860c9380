/**
 * `/v1/series`, `/v1/models`: a series' points (downsampled), a model's series, pinning a
 * series' baseline, models with their latest metrics, a model's Pareto front.
 * @module
 */
import { createRoute, type OpenAPIHono, z } from "@hono/zod-openapi";
import { errorResponses, sendJson } from "@modelpress/http";
import {
  listChangePoints,
  listModels,
  listRegressions,
  listSeries,
  paretoFront,
  querySeries,
  setSeriesBaseline,
  type Store,
} from "@modelpress/store";
import { AnyObjectSchema, SeriesKeySchema } from "../schemas.ts";

const json = <T extends z.ZodType>(schema: T) => ({ "application/json": { schema } });

const seriesRoute = createRoute({
  method: "get",
  path: "/v1/series",
  summary: "A series' points, its regressions and change points",
  description: "More than `maxPoints` points in the range are bucketed by time (mean, min, max).",
  request: {
    query: SeriesKeySchema.extend({
      from: z.iso.datetime({ offset: true }).optional(),
      to: z.iso.datetime({ offset: true }).optional(),
      maxPoints: z.coerce.number().int().min(1).max(100_000).optional(),
    }),
  },
  responses: {
    200: { description: "The series", content: json(AnyObjectSchema) },
    ...errorResponses({ 400: "Invalid key or range", 404: "No such series" }),
  },
});

const baselineRoute = createRoute({
  method: "put",
  path: "/v1/series/baseline",
  summary: "Pin a series' baseline to a run (or unpin it with null)",
  request: {
    body: {
      required: true,
      content: json(SeriesKeySchema.extend({ runId: z.uuid().nullable() })),
    },
  },
  responses: {
    200: { description: "Pinned", content: json(AnyObjectSchema) },
    ...errorResponses({ 400: "Invalid key", 404: "No such series, or the run is not in it" }),
  },
});

const modelsRoute = createRoute({
  method: "get",
  path: "/v1/models",
  summary: "Every model with its latest run's metrics and open regressions",
  responses: { 200: { description: "The models", content: json(AnyObjectSchema) } },
});

const modelSeriesRoute = createRoute({
  method: "get",
  path: "/v1/models/{name}/series",
  summary: "A model's series",
  request: { params: z.object({ name: z.string() }) },
  responses: { 200: { description: "The series", content: json(AnyObjectSchema) } },
});

const paretoRoute = createRoute({
  method: "get",
  path: "/v1/models/{name}/pareto",
  summary: "The Pareto front of size against accuracy over a model's recipes",
  request: {
    params: z.object({ name: z.string() }),
    query: z.object({ size: z.string().optional(), accuracy: z.string().optional() }),
  },
  responses: { 200: { description: "Points and front", content: json(AnyObjectSchema) } },
});

/**
 * Adds the series and model routes.
 *
 * @param app The app.
 * @param store The store.
 * @example
 * ```ts ignore
 * import { OpenAPIHono } from "@hono/zod-openapi";
 * import { addSeriesRoutes } from "./series.ts";
 * addSeriesRoutes(new OpenAPIHono(), store);
 * ```
 */
export function addSeriesRoutes(app: OpenAPIHono, store: Store): void {
  app.openapi(seriesRoute, async (c) => {
    const { from, to, maxPoints, ...key } = c.req.valid("query");
    const result = await querySeries(store.db, key, {
      ...(from === undefined ? {} : { from: new Date(from) }),
      ...(to === undefined ? {} : { to: new Date(to) }),
      ...(maxPoints === undefined ? {} : { maxPoints }),
    });
    const [regressions, changePoints] = await Promise.all([
      listRegressions(store.db, { seriesId: result.seriesId, limit: 1000 }),
      listChangePoints(store.db, result.seriesId),
    ]);
    return sendJson(c, { ...key, ...result, regressions, changePoints }, 200) as never;
  });
  app.openapi(baselineRoute, async (c) => {
    const { runId, ...key } = c.req.valid("json");
    const seriesId = await setSeriesBaseline(store.db, key, runId);
    return sendJson(c, { seriesId, baselineRunId: runId }, 200) as never;
  });
  app.openapi(
    modelsRoute,
    async (c) => sendJson(c, { models: await listModels(store.db) }, 200) as never,
  );
  app.openapi(
    modelSeriesRoute,
    async (c) =>
      sendJson(c, { series: await listSeries(store.db, c.req.valid("param").name) }, 200) as never,
  );
  app.openapi(paretoRoute, async (c) => {
    const q = c.req.valid("query");
    const result = await paretoFront(store.db, c.req.valid("param").name, {
      ...(q.size === undefined ? {} : { sizeMetric: q.size }),
      ...(q.accuracy === undefined ? {} : { accuracyMetric: q.accuracy }),
    });
    return sendJson(c, result, 200) as never;
  });
}
