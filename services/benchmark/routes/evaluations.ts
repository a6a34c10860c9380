/**
 * `POST /v1/evaluations`: records the evaluate service's result (`evaluateModel`'s report) as a
 * run, through `runFromEvaluation` of `@modelpress/store`.
 * @module
 */
import { createRoute, type OpenAPIHono, z } from "@hono/zod-openapi";
import type { EvaluationReport } from "@modelpress/evaluate";
import { errorResponses } from "@modelpress/http";
import { type JsonValue, runFromEvaluation, type RunInput } from "@modelpress/store";
import { IngestResultSchema } from "../schemas.ts";

const Time = z.iso.datetime({ offset: true });

/** What `POST /v1/evaluations` takes. */
const EvaluationRunSchema = z.strictObject({
  id: z.uuid(),
  model: z.string().min(1).max(200).openapi({ description: "The model's name" }),
  recipe: z.record(z.string(), z.unknown()).openapi({
    description: "The recipe's config; its `name`, when a string, names it",
  }),
  startedAt: Time,
  endedAt: Time.optional(),
  commit: z.string().max(100).optional(),
  branch: z.string().max(200).optional(),
  tags: z.record(z.string(), z.unknown()).optional(),
  params: z.record(z.string(), z.unknown()).optional(),
  environment: z.strictObject({
    cpuModel: z.string().min(1).optional(),
    cores: z.int().min(1).optional(),
    runtime: z.string().min(1).optional(),
    backend: z.string().min(1).optional(),
  }).optional().openapi({
    description: "Where it ran (default: this service's CPU and cores, the report's runtime)",
  }),
  evaluation: z.looseObject({
    model: z.looseObject({ bytes: z.int().min(0), sha256: z.string() }),
    size: z.looseObject({ fileBytes: z.number() }),
    backend: z.looseObject({
      runtime: z.string(),
      version: z.string(),
      executionProviders: z.array(z.string()),
      threads: z.number(),
    }),
  }).openapi({ description: "The evaluate service's `result` (non-finite numbers as strings)" }),
  reports: z.unknown().optional().openapi({
    description: "The compression reports (stored with the run, shown on its page)",
  }),
}).openapi("EvaluationRun");

/** The body of `POST /v1/evaluations`. */
export interface EvaluationRun {
  /** The run's UUID, chosen by the client (a retry with the same id is the same run). */
  readonly id: string;
  /** The model's name. */
  readonly model: string;
  /** The recipe's config; its `name`, when a string, names it. */
  readonly recipe: Readonly<Record<string, unknown>>;
  /** ISO 8601 times with an offset. */
  readonly startedAt: string;
  readonly endedAt?: string | undefined;
  /** Git commit and branch of the code that ran. */
  readonly commit?: string | undefined;
  readonly branch?: string | undefined;
  readonly tags?: Readonly<Record<string, unknown>> | undefined;
  readonly params?: Readonly<Record<string, unknown>> | undefined;
  /** Where it ran (default: this service's CPU and cores, the report's runtime). */
  readonly environment?: {
    readonly cpuModel?: string | undefined;
    readonly cores?: number | undefined;
    readonly runtime?: string | undefined;
    readonly backend?: string | undefined;
  } | undefined;
  /** The evaluation service's `result` (non-finite numbers as strings). */
  readonly evaluation: Readonly<Record<string, unknown>>;
  /** The compression reports (stored with the run, shown on its page). */
  readonly reports?: unknown;
}

function thisMachine(): { cpuModel: string; cores: number } {
  let cpuModel = `${Deno.build.os} ${Deno.build.arch}`;
  try {
    cpuModel = Deno.readTextFileSync("/proc/cpuinfo").match(/model name\s*:\s*(.+)/)?.[1] ??
      cpuModel;
  } catch { /* not Linux, or no permission: the platform names it */ }
  return { cpuModel, cores: navigator.hardwareConcurrency || 1 };
}

/** Turns "Infinity", "-Infinity" and "NaN" strings back into numbers, deeply. */
function revive(value: unknown): unknown {
  if (value === "Infinity") return Infinity;
  if (value === "-Infinity") return -Infinity;
  if (value === "NaN") return NaN;
  if (Array.isArray(value)) return value.map(revive);
  if (typeof value === "object" && value !== null) {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, revive(v)]));
  }
  return value;
}

/**
 * The run that a `POST /v1/evaluations` body describes.
 *
 * @param body The request's body (validated).
 * @returns The run to ingest.
 * @example
 * ```ts ignore
 * import { evaluationToRun } from "./evaluations.ts";
 * const run = evaluationToRun(body);
 * ```
 */
export function evaluationToRun(body: EvaluationRun): RunInput {
  const { name, ...config } = body.recipe;
  const machine = thisMachine();
  const env = body.environment ?? {};
  return runFromEvaluation(revive(body.evaluation) as EvaluationReport, {
    model: body.model,
    recipe: {
      config: config as JsonValue,
      ...(typeof name === "string" ? { name } : {}),
    },
    run: {
      id: body.id,
      startedAt: body.startedAt,
      ...(body.endedAt === undefined ? {} : { endedAt: body.endedAt }),
      ...(body.commit === undefined ? {} : { gitCommit: body.commit }),
      ...(body.branch === undefined ? {} : { branch: body.branch }),
      ...(body.tags === undefined ? {} : { tags: body.tags as Record<string, JsonValue> }),
    },
    environment: {
      cpuModel: env.cpuModel ?? machine.cpuModel,
      cores: env.cores ?? machine.cores,
      ...(env.runtime === undefined ? {} : { runtime: env.runtime }),
      ...(env.backend === undefined ? {} : { backend: env.backend }),
    },
    ...(body.params === undefined ? {} : { params: body.params as Record<string, JsonValue> }),
    ...(body.reports === undefined ? {} : { report: body.reports as JsonValue }),
  });
}

/** The route; its handler is added by `addRunRoutes`, which owns ingest. */
const postEvaluationRoute = createRoute({
  method: "post",
  path: "/v1/evaluations",
  summary: "Record an evaluation (the evaluate service's result) as a run",
  description: "Metrics: size_bytes, gzip_bytes, params, sparsity, macs, accuracy, " +
    "accuracy_top{k}, fidelity_*.{output}, latency_ms (median, with raw samples), " +
    "latency_p90_ms, latency_p99_ms, throughput. Idempotent by `id` as `POST /v1/runs`.",
  request: {
    body: { required: true, content: { "application/json": { schema: EvaluationRunSchema } } },
  },
  responses: {
    200: {
      description: "Already stored (same payload)",
      content: { "application/json": { schema: IngestResultSchema } },
    },
    201: { description: "Stored", content: { "application/json": { schema: IngestResultSchema } } },
    ...errorResponses({ 400: "Invalid body", 409: "The id is stored with a different payload" }),
  },
});

/**
 * Adds `POST /v1/evaluations`, given the ingest the run routes use.
 *
 * @param app The app.
 * @param ingest Stores runs and answers the ingest result with its status.
 * @example
 * ```ts ignore
 * import { addEvaluationRoutes } from "./evaluations.ts";
 * addEvaluationRoutes(app, ingest);
 * ```
 */
export function addEvaluationRoutes(
  app: OpenAPIHono,
  ingest: (inputs: RunInput[]) => Promise<{ status: 200 | 201; body: unknown }>,
): void {
  app.openapi(postEvaluationRoute, async (c) => {
    const { status, body } = await ingest([evaluationToRun(c.req.valid("json"))]);
    return c.body(JSON.stringify(body), status, {
      "Content-Type": "application/json; charset=UTF-8",
    }) as never;
  });
}
