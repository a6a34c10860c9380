/**
 * The benchmark service's zod schemas: they validate requests and make the OpenAPI document.
 * @module
 */
import { z } from "@hono/zod-openapi";

const Json = z.unknown().openapi({ description: "Any JSON value" });
const Time = z.iso.datetime({ offset: true }).openapi({ example: "2026-01-01T00:00:00Z" });
const Uuid = z.uuid().openapi({ example: "4c1b6e4e-0c9f-4d5e-9d43-1f6d3f7b1a2c" });

/** One run to ingest (the store's `RunInput`). */
export const RunInputSchema = z.strictObject({
  model: z.strictObject({
    name: z.string().min(1).max(200),
    sha256: z.string().regex(/^[0-9a-fA-F]{64}$/),
    sizeBytes: z.int().min(0),
  }),
  recipe: z.strictObject({ config: Json, name: z.string().max(200).optional() }),
  environment: z.strictObject({
    cpuModel: z.string().min(1).max(200),
    cores: z.int().min(1),
    runtime: z.string().min(1).max(500),
    backend: z.string().min(1).max(100),
    details: z.record(z.string(), Json).optional(),
  }),
  run: z.strictObject({
    id: Uuid,
    startedAt: Time,
    endedAt: Time.optional(),
    gitCommit: z.string().max(100).optional(),
    branch: z.string().max(200).optional(),
    tags: z.record(z.string(), Json).optional(),
    status: z.enum(["running", "finished", "failed"]).optional(),
    report: Json.optional(),
  }),
  params: z.record(z.string(), Json).optional(),
  metrics: z.array(z.strictObject({
    name: z.string().min(1).max(200),
    value: z.number(),
    unit: z.string().max(50).optional(),
    samples: z.array(z.number()).max(100_000).optional(),
  })).max(1000).optional(),
}).superRefine((run, ctx) => {
  const seen = new Set<string>();
  for (const [i, m] of (run.metrics ?? []).entries()) {
    if (seen.has(m.name)) {
      ctx.addIssue({
        code: "custom",
        path: ["metrics", i, "name"],
        message: `metric '${m.name}' appears twice`,
      });
    }
    seen.add(m.name);
  }
}).openapi("RunInput");

/** A batch of runs. */
export const RunBatchSchema = z.strictObject({
  runs: z.array(RunInputSchema).min(1).max(10_000),
}).openapi("RunBatch");

/** A regression as answered. */
export const RegressionSchema = z.object({
  id: Uuid,
  seriesId: z.int(),
  runId: Uuid,
  metric: z.string(),
  model: z.string(),
  recipe: z.string(),
  environment: z.string(),
  baselineValue: z.number(),
  baselineRunIds: z.array(z.string()),
  value: z.number(),
  change: z.number(),
  relativeChange: z.number(),
  pValue: z.number().nullable(),
  test: z.string(),
  message: z.string(),
  status: z.enum(["open", "acknowledged", "fixed"]),
  time: z.string(),
  createdAt: z.string(),
  updatedAt: z.string(),
}).openapi("Regression");

/** What an ingest answers. */
export const IngestResultSchema = z.object({
  runs: z.array(z.object({ id: Uuid, created: z.boolean() })),
  regressions: z.array(RegressionSchema),
}).openapi("IngestResult");

/** The key of a series, as query or body fields. */
export const SeriesKeySchema = z.object({
  model: z.string().min(1),
  recipe: z.string().regex(/^[0-9a-f]{64}$/).openapi({ description: "The recipe's hash" }),
  environment: z.string().regex(/^[0-9a-f]{64}$/).openapi({
    description: "The environment's hash",
  }),
  metric: z.string().min(1),
});

/** Any JSON object answer (documented loosely). */
export const AnyObjectSchema = z.record(z.string(), z.unknown());
