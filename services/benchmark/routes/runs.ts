/**
 * `/v1/runs`: ingest (one run or a batch; idempotent), read one, compare two, search.
 * @module
 */
import { createRoute, type OpenAPIHono, z } from "@hono/zod-openapi";
import { errorResponses, sendJson } from "@modelpress/http";
import {
  compareRuns,
  getRun,
  ingestRuns,
  type RunInput,
  searchRuns,
  type Store,
} from "@modelpress/store";
import { detectRegressions, notifyWebhook } from "../detect.ts";
import { addEvaluationRoutes } from "./evaluations.ts";
import { AnyObjectSchema, IngestResultSchema, RunBatchSchema, RunInputSchema } from "../schemas.ts";

/** What the run routes need. */
export interface RunRoutesContext {
  /** The store. */
  readonly store: Store;
  /** Where to POST new regressions, if anywhere. */
  readonly webhookUrl?: string;
  /** The fetch for the webhook (tests). */
  readonly fetch?: typeof fetch;
}

const json = <T extends z.ZodType>(schema: T) => ({ "application/json": { schema } });

const ingestResponses = {
  200: {
    description: "Every run was already stored (same payload)",
    content: json(IngestResultSchema),
  },
  201: { description: "Stored", content: json(IngestResultSchema) },
  ...errorResponses({ 400: "Invalid run", 409: "A run id is stored with a different payload" }),
};

const postRun = createRoute({
  method: "post",
  path: "/v1/runs",
  summary: "Record one run",
  description: "Idempotent by `run.id`: the same payload again answers 200 and stores nothing; " +
    "another payload under the same id answers 409. New metrics are checked for regressions.",
  request: { body: { required: true, content: json(RunInputSchema) } },
  responses: ingestResponses,
});

const postBatch = createRoute({
  method: "post",
  path: "/v1/runs/batch",
  summary: "Record many runs in one transaction",
  request: { body: { required: true, content: json(RunBatchSchema) } },
  responses: ingestResponses,
});

const getRunRoute = createRoute({
  method: "get",
  path: "/v1/runs/{id}",
  summary: "One run with params, metrics (and samples) and report",
  request: { params: z.object({ id: z.string() }) },
  responses: {
    200: { description: "The run", content: json(AnyObjectSchema) },
    ...errorResponses({ 404: "No such run" }),
  },
});

const compareRoute = createRoute({
  method: "get",
  path: "/v1/runs/compare",
  summary: "Two runs side by side: params and metrics with deltas (b - a)",
  request: { query: z.object({ a: z.uuid(), b: z.uuid() }) },
  responses: {
    200: { description: "The comparison", content: json(AnyObjectSchema) },
    ...errorResponses({ 400: "Invalid ids", 404: "No such run" }),
  },
});

const searchRoute = createRoute({
  method: "get",
  path: "/v1/runs",
  summary: "Search runs by model, params, tags, branch, status; newest first, paginated",
  request: {
    query: z.object({
      model: z.string().optional(),
      params: z.string().optional().openapi({ description: 'JSON object, e.g. {"bits":8}' }),
      tags: z.string().optional().openapi({ description: "JSON object (containment)" }),
      branch: z.string().optional(),
      status: z.enum(["running", "finished", "failed"]).optional(),
      limit: z.coerce.number().int().min(1).max(1000).optional(),
      cursor: z.string().optional(),
    }),
  },
  responses: {
    200: { description: "A page of runs", content: json(AnyObjectSchema) },
    ...errorResponses({ 400: "Invalid filter or cursor" }),
  },
});

function parseObject(text: string | undefined, field: string): Record<string, never> | undefined {
  if (text === undefined) return undefined;
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    value = undefined;
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw new z.ZodError([{
      code: "custom",
      path: [field],
      message: "must be a JSON object",
      input: text,
    }]);
  }
  return value as Record<string, never>;
}

/**
 * Adds the `/v1/runs` routes, and `POST /v1/evaluations` (an evaluation report as a run).
 *
 * @param app The app.
 * @param context Store and webhook.
 * @example
 * ```ts ignore
 * import { OpenAPIHono } from "@hono/zod-openapi";
 * import { addRunRoutes } from "./runs.ts";
 * addRunRoutes(new OpenAPIHono(), { store });
 * ```
 */
export function addRunRoutes(app: OpenAPIHono, context: RunRoutesContext): void {
  const ingest = async (inputs: RunInput[]) => {
    // Runs and their regressions in one transaction: a run is never stored unchecked.
    const { runs, regressions } = await context.store.db.transaction().execute(async (trx) => {
      const runs = await ingestRuns(trx, inputs);
      return { runs, regressions: await detectRegressions(trx, runs) };
    });
    if (context.webhookUrl && regressions.length > 0) {
      await notifyWebhook(
        context.webhookUrl,
        regressions,
        context.fetch ? { fetch: context.fetch } : {},
      );
    }
    return {
      status: runs.some((r) => r.created) ? 201 as const : 200 as const,
      body: { runs: runs.map((r) => ({ id: r.id, created: r.created })), regressions },
    };
  };
  addEvaluationRoutes(app, ingest);
  app.openapi(postRun, async (c) => {
    const { status, body } = await ingest([c.req.valid("json") as RunInput]);
    return sendJson(c, body, status) as never;
  });
  app.openapi(postBatch, async (c) => {
    const { status, body } = await ingest(c.req.valid("json").runs as RunInput[]);
    return sendJson(c, body, status) as never;
  });
  app.openapi(compareRoute, async (c) => {
    const { a, b } = c.req.valid("query");
    return sendJson(c, await compareRuns(context.store.db, a, b), 200) as never;
  });
  app.openapi(getRunRoute, async (c) => {
    const run = await getRun(context.store.db, c.req.valid("param").id);
    if (!run) {
      return sendJson(c, {
        error: { code: "not_found", message: `Cannot find run '${c.req.param("id")}'` },
      }, 404) as never;
    }
    return sendJson(c, run, 200) as never;
  });
  app.openapi(searchRoute, async (c) => {
    const q = c.req.valid("query");
    const params = parseObject(q.params, "params");
    const tags = parseObject(q.tags, "tags");
    const page = await searchRuns(context.store.db, {
      ...(q.model === undefined ? {} : { model: q.model }),
      ...(params === undefined ? {} : { params }),
      ...(tags === undefined ? {} : { tags }),
      ...(q.branch === undefined ? {} : { branch: q.branch }),
      ...(q.status === undefined ? {} : { status: q.status }),
      ...(q.limit === undefined ? {} : { limit: q.limit }),
      ...(q.cursor === undefined ? {} : { cursor: q.cursor }),
    });
    return sendJson(c, page, 200) as never;
  });
}
