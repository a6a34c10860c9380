/**
 * The zod schemas that every ModelPress service shares: the error body, a job's progress, the
 * job routes' path parameters, and the health answer. They validate and generate the OpenAPI
 * documents, so the two cannot drift apart.
 * @module
 */
import { z } from "@hono/zod-openapi";

type Strip = z.core.$strip;

/** The shape of {@linkcode ErrorBodySchema}'s `error`. */
export type ErrorShape = z.ZodObject<{
  code: z.ZodString;
  message: z.ZodString;
  details: z.ZodOptional<z.ZodRecord<z.ZodString, z.ZodUnknown>>;
}, Strip>;

/** The body of every error response. */
export const ErrorBodySchema: z.ZodObject<{ error: ErrorShape }, Strip> = z.object({
  error: z.object({
    code: z.string().openapi({ example: "invalid_model" }),
    message: z.string().openapi({
      example: "Cannot evaluate part 'model': Cannot parse ONNX model at byte 0: ...",
    }),
    details: z.record(z.string(), z.unknown()).optional(),
  }),
}).openapi("Error");

/** The last progress report of a job. */
export const JobProgressSchema: z.ZodObject<{
  phase: z.ZodString;
  done: z.ZodNumber;
  total: z.ZodNumber;
  percent: z.ZodNumber;
  samplesPerSecond: z.ZodNumber;
}, Strip> = z.object({
  phase: z.string().openapi({ example: "accuracy" }),
  done: z.number(),
  total: z.number(),
  percent: z.number().openapi({ description: "done/total in percent, per phase", example: 42.5 }),
  samplesPerSecond: z.number().openapi({
    description: "Units of work of the phase per second (samples, tensors, nodes).",
  }),
}).openapi("JobProgress");

/** The fields of a job that do not depend on what it computes. */
export const JOB_FIELDS: {
  readonly id: z.ZodString;
  readonly status: z.ZodEnum<{
    queued: "queued";
    running: "running";
    succeeded: "succeeded";
    failed: "failed";
    cancelled: "cancelled";
  }>;
  readonly cancelRequested: z.ZodBoolean;
  readonly createdAt: z.ZodString;
  readonly startedAt: z.ZodNullable<z.ZodString>;
  readonly finishedAt: z.ZodNullable<z.ZodString>;
  readonly expiresAt: z.ZodNullable<z.ZodString>;
  readonly progress: z.ZodNullable<typeof JobProgressSchema>;
  readonly error: z.ZodOptional<ErrorShape>;
} = {
  id: z.string().openapi({ example: "4c1b6e4e-0c9f-4d5e-9d43-1f6d3f7b1a2c" }),
  status: z.enum(["queued", "running", "succeeded", "failed", "cancelled"]),
  cancelRequested: z.boolean(),
  createdAt: z.string(),
  startedAt: z.string().nullable(),
  finishedAt: z.string().nullable(),
  expiresAt: z.string().nullable().openapi({
    description: "When a finished job is forgotten (GET then answers 404).",
  }),
  progress: JobProgressSchema.nullable(),
  error: ErrorBodySchema.shape.error.optional(),
} as const;

/** Path parameters of the job routes. */
export const JobParamsSchema: z.ZodObject<{ id: z.ZodString }, Strip> = z.object({
  id: z.string().min(1).max(100).openapi({ param: { name: "id", in: "path" } }),
});

/** The answer of GET /health. */
export const HealthSchema: z.ZodObject<{
  status: z.ZodLiteral<"ok">;
  service: z.ZodString;
  jobs: z.ZodObject<{ running: z.ZodInt; queued: z.ZodInt }, Strip>;
}, Strip> = z.object({
  status: z.literal("ok"),
  service: z.string().openapi({ example: "evaluate" }),
  jobs: z.object({ running: z.int(), queued: z.int() }),
}).openapi("Health");

/**
 * OpenAPI response objects for error statuses, each with the shared error body.
 *
 * @param descriptions What each status means for this route, by status.
 * @returns The `responses` entries to spread into a route.
 * @example
 * ```ts
 * import { errorResponses } from "@modelpress/http";
 * const responses = { ...errorResponses({ 404: "No such job" }) };
 * ```
 */
export function errorResponses(
  descriptions: Readonly<Record<number, string>>,
): Record<number, { description: string; content: Record<string, { schema: unknown }> }> {
  return Object.fromEntries(
    Object.entries(descriptions).map(([status, description]) => [status, {
      description,
      content: { "application/json": { schema: ErrorBodySchema } },
    }]),
  );
}

/**
 * A route's `errorResponses` for {@linkcode errorResponses}, from one table of what each status
 * means in a service: `(...statuses) => responses`, "Error" for a status not in the table.
 *
 * @param descriptions What each status means in the service, by status.
 * @returns The function that gives the `responses` entries of some statuses.
 * @example
 * ```ts
 * import { errorResponsesFor } from "@modelpress/http";
 * const responses = errorResponsesFor({ 404: "No such job", 409: "Not finished" });
 * const entries = { ...responses(404, 409) };
 * ```
 */
export function errorResponsesFor(
  descriptions: Readonly<Record<number, string>>,
): (...statuses: number[]) => Record<number, unknown> {
  return (...statuses) =>
    errorResponses(Object.fromEntries(statuses.map((s) => [s, descriptions[s] ?? "Error"])));
}
