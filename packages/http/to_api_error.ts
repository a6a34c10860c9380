/**
 * The one mapping from thrown errors to HTTP errors, used by the error handler of every service
 * and by failed jobs.
 * @module
 */
import { HTTPException } from "hono/http-exception";
import { z } from "@hono/zod-openapi";
import { OnnxParseError } from "@modelpress/onnx";
import { ApiError, type ApiErrorStatus } from "./api_error.ts";
import { issueField } from "./form_parts.ts";
import { type JobError, QueueFullError } from "./job_queue.ts";

/**
 * Turns anything thrown into an {@linkcode ApiError}: ApiErrors stay as they are, a ZodError is
 * 400 `invalid_options` naming the field path, an OnnxParseError is 422 `invalid_model` with the
 * byte offset, a QueueFullError is 503 `busy` with Retry-After, Hono's HTTPException keeps its
 * status, and anything else is 500 `internal`.
 *
 * @param error What was thrown.
 * @returns The error to answer with.
 * @example
 * ```ts
 * import { OnnxParseError } from "@modelpress/onnx";
 * import { toApiError } from "@modelpress/http";
 * toApiError(new OnnxParseError("truncated varint", 7)).status; // 422
 * ```
 */
export function toApiError(error: unknown): ApiError {
  if (error instanceof ApiError) return error;
  if (error instanceof z.ZodError) return zodErrorToApiError(error);
  if (error instanceof OnnxParseError) {
    return new ApiError(error.message, {
      status: 422,
      code: "invalid_model",
      details: { offset: error.offset },
      cause: error,
    });
  }
  if (error instanceof QueueFullError) {
    return new ApiError(error.message, {
      status: 503,
      code: "busy",
      details: { retryAfterSeconds: error.retryAfterSeconds },
      headers: { "Retry-After": String(error.retryAfterSeconds) },
      cause: error,
    });
  }
  if (error instanceof HTTPException && isApiStatus(error.status)) {
    return new ApiError(error.message || `HTTP ${error.status}`, {
      status: error.status,
      code: error.status === 413 ? "payload_too_large" : "bad_request",
      cause: error,
    });
  }
  return new ApiError(
    `Internal error: ${error instanceof Error ? error.message : String(error)}`,
    { status: 500, code: "internal", cause: error },
  );
}

/**
 * Describes a failed job's error as {@linkcode toApiError} maps it: what a `JobQueue`'s
 * `describeError` should be, so that a job's error reads like the direct answer would.
 *
 * @param error What the task threw.
 * @returns The job's error.
 * @example
 * ```ts
 * import { JobQueue, toJobError } from "@modelpress/http";
 * const queue = new JobQueue<number>({ describeError: toJobError });
 * ```
 */
export function toJobError(error: unknown): JobError {
  const api = toApiError(error);
  return { code: api.code, message: api.message, ...(api.details && { details: api.details }) };
}

/** Options of {@linkcode zodErrorToApiError}. */
export interface ZodErrorToApiErrorOptions {
  /** What failed validation, for the message: "Invalid <subject>: ..." (default `options`). */
  readonly subject?: string;
  /** The code (default `invalid_options`). */
  readonly code?: "invalid_options" | "invalid_recipe";
}

/**
 * Turns a ZodError into a 400 naming the first failing field's path (`latency.runs`,
 * `topK[1]`, an unknown key itself) in the message and in `details.field`, with every issue in
 * `details.issues`.
 *
 * @param error The ZodError.
 * @param options The subject and code.
 * @returns The error to answer with.
 * @example
 * ```ts
 * import { z } from "@hono/zod-openapi";
 * import { zodErrorToApiError } from "@modelpress/http";
 * const result = z.strictObject({ bits: z.int() }).safeParse({ bits: 1.5 });
 * if (!result.success) zodErrorToApiError(result.error).details?.field; // "bits"
 * ```
 */
export function zodErrorToApiError(
  error: z.ZodError,
  options: ZodErrorToApiErrorOptions = {},
): ApiError {
  const issues = error.issues.map((issue) => ({
    // An unknown key is reported at its parent; name the key itself.
    path: issueField(issue),
    message: issue.message,
  }));
  const first = issues[0] ?? { path: "", message: "invalid" };
  return new ApiError(
    `Invalid ${options.subject ?? "options"}: ${
      first.path ? `${first.path}: ` : ""
    }${first.message}` +
      (issues.length > 1 ? ` (and ${issues.length - 1} more)` : ""),
    {
      status: 400,
      code: options.code ?? "invalid_options",
      details: { field: first.path, issues },
      cause: error,
    },
  );
}

const STATUSES: ReadonlySet<number> = new Set([400, 404, 409, 413, 415, 422, 500, 503]);

function isApiStatus(status: number): status is ApiErrorStatus {
  return STATUSES.has(status);
}
