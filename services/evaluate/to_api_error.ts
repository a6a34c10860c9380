/**
 * The one mapping from thrown errors to HTTP errors, used by `app.onError` and by failed jobs.
 * @module
 */
import { HTTPException } from "hono/http-exception";
import { z } from "@hono/zod-openapi";
import { OnnxParseError } from "@modelpress/onnx";
import { ApiError, type ApiErrorStatus } from "./api_error.ts";
import { QueueFullError } from "./job_queue.ts";

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
 * import { toApiError } from "./to_api_error.ts";
 * toApiError(new OnnxParseError("truncated varint", 7)).status; // 422
 * ```
 */
export function toApiError(error: unknown): ApiError {
  if (error instanceof ApiError) return error;
  if (error instanceof z.ZodError) {
    const issues = error.issues.map((issue) => ({
      // An unknown key is reported at its parent; name the key itself.
      path: formatPath(
        issue.code === "unrecognized_keys" ? [...issue.path, issue.keys[0] ?? ""] : issue.path,
      ),
      message: issue.message,
    }));
    const first = issues[0] ?? { path: "", message: "invalid" };
    return new ApiError(
      `Invalid options: ${first.path ? `${first.path}: ` : ""}${first.message}` +
        (issues.length > 1 ? ` (and ${issues.length - 1} more)` : ""),
      {
        status: 400,
        code: "invalid_options",
        details: { field: first.path, issues },
        cause: error,
      },
    );
  }
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

function formatPath(path: readonly PropertyKey[]): string {
  return path.map((p, i) => typeof p === "number" ? `[${p}]` : `${i === 0 ? "" : "."}${String(p)}`)
    .join("");
}

const STATUSES: ReadonlySet<number> = new Set([400, 404, 409, 413, 415, 422, 500, 503]);

function isApiStatus(status: number): status is ApiErrorStatus {
  return STATUSES.has(status);
}
