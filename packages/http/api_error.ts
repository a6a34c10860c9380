/**
 * The errors that ModelPress services answer with a status of their own. The error handler
 * (`handleErrors`) turns them, and a few errors of other packages, into
 * `{ error: { code, message, details? } }`.
 * @module
 */

/** Machine-readable error codes of ModelPress services, one per kind of failure. */
export type ApiErrorCode =
  | "bad_request" // 400: the request is malformed (multipart framing, missing part)
  | "invalid_options" // 400: an option failed validation; details name the field
  | "invalid_recipe" // 400: a quantization recipe failed validation; details name the field
  | "not_found" // 404: no such route or job
  | "conflict" // 409: the job cannot do that now
  | "payload_too_large" // 413: the body or one part is over its limit
  | "unsupported_media_type" // 415: not multipart/form-data
  | "invalid_model" // 422: a model is not valid ONNX; details hold the byte offset
  | "invalid_dataset" // 422: the dataset cannot be read or does not fit the model
  | `${string}_failed` // 422: the work itself failed: `evaluation_failed`, `quantization_failed`
  | "busy" // 503: the job queue is full; Retry-After says when to try again
  | "internal"; // 500: a bug

/** HTTP statuses that services answer errors with. */
export type ApiErrorStatus = 400 | 404 | 409 | 413 | 415 | 422 | 500 | 503;

/** Options for {@linkcode ApiError}: status and code are required. */
export interface ApiErrorOptions extends ErrorOptions {
  /** The HTTP status. */
  readonly status: ApiErrorStatus;
  /** The machine-readable code. */
  readonly code: ApiErrorCode;
  /** Extra machine-readable facts, such as `{ offset: 12 }` or the failing field's path. */
  readonly details?: Readonly<Record<string, unknown>>;
  /** Response headers to add, such as `Retry-After`. */
  readonly headers?: Readonly<Record<string, string>>;
}

/**
 * An error with the HTTP status and code that a service answers with.
 *
 * @example
 * ```ts
 * import { ApiError } from "@modelpress/http";
 * throw new ApiError("Cannot accept part 'model': it is over 1 MiB", {
 *   status: 413,
 *   code: "payload_too_large",
 *   details: { part: "model", limitBytes: 1048576 },
 * });
 * ```
 */
export class ApiError extends Error {
  /** The HTTP status. */
  readonly status: ApiErrorStatus;
  /** The machine-readable code. */
  readonly code: ApiErrorCode;
  /** Extra facts for the response's `details`, if any. */
  readonly details: Readonly<Record<string, unknown>> | undefined;
  /** Headers for the response. */
  readonly headers: Readonly<Record<string, string>>;

  /**
   * Makes the error.
   *
   * @param message What went wrong, for people: "Cannot evaluate: ...".
   * @param options Status, code, details, headers and the cause.
   */
  constructor(message: string, options: ApiErrorOptions) {
    super(message, options.cause === undefined ? {} : { cause: options.cause });
    this.name = "ApiError";
    this.status = options.status;
    this.code = options.code;
    this.details = options.details === undefined
      ? undefined
      : Object.freeze({ ...options.details });
    this.headers = Object.freeze({ ...options.headers });
  }
}
