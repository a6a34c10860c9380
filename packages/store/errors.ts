/**
 * The store's errors: what callers catch. Driver errors (from postgres.js or PGlite) are
 * rethrown as one of these, with the caller's stack and the driver's error as `cause`.
 * @module
 */

/** Options of {@linkcode StoreError}. */
export interface StoreErrorOptions extends ErrorOptions {
  /** The SQLSTATE code, when the database gave one (`23505`). */
  readonly sqlState?: string;
  /** The constraint that failed, when there was one. */
  readonly constraint?: string;
}

/**
 * A database operation failed. `sqlState` and `constraint` say how, when the database said.
 *
 * @example
 * ```ts
 * import { StoreError } from "@modelpress/store";
 * const error = new StoreError("Cannot run query: connection refused");
 * console.log(error.sqlState); // undefined
 * ```
 */
export class StoreError extends Error {
  /** The SQLSTATE code, if any. */
  readonly sqlState: string | undefined;
  /** The failing constraint's name, if any. */
  readonly constraint: string | undefined;

  /**
   * Makes the error.
   *
   * @param message What failed.
   * @param options SQLSTATE, constraint and cause.
   */
  constructor(message: string, options: StoreErrorOptions = {}) {
    super(message, options.cause === undefined ? {} : { cause: options.cause });
    this.name = "StoreError";
    this.sqlState = options.sqlState;
    this.constraint = options.constraint;
  }
}

/**
 * A write conflicts with what is stored: a unique violation, or a run id reused with another
 * payload. Services answer 409.
 *
 * @example
 * ```ts
 * import { ConflictError } from "@modelpress/store";
 * throw new ConflictError("Cannot ingest run 'r1': a different run has this id");
 * ```
 */
export class ConflictError extends StoreError {
  /**
   * Makes the error.
   *
   * @param message What conflicted.
   * @param options SQLSTATE, constraint and cause.
   */
  constructor(message: string, options: StoreErrorOptions = {}) {
    super(message, options);
    this.name = "ConflictError";
  }
}

/**
 * A write refers to a row that does not exist (a foreign-key violation). Services answer 422.
 *
 * @example
 * ```ts
 * import { MissingReferenceError } from "@modelpress/store";
 * throw new MissingReferenceError("Cannot pin baseline: run 'r1' does not exist");
 * ```
 */
export class MissingReferenceError extends StoreError {
  /**
   * Makes the error.
   *
   * @param message What was missing.
   * @param options SQLSTATE, constraint and cause.
   */
  constructor(message: string, options: StoreErrorOptions = {}) {
    super(message, options);
    this.name = "MissingReferenceError";
  }
}

/**
 * The thing asked for does not exist. Services answer 404.
 *
 * @example
 * ```ts
 * import { NotFoundError } from "@modelpress/store";
 * throw new NotFoundError("Cannot acknowledge regression 'x': no such regression");
 * ```
 */
export class NotFoundError extends StoreError {
  /**
   * Makes the error.
   *
   * @param message What was not found.
   * @param options Cause.
   */
  constructor(message: string, options: StoreErrorOptions = {}) {
    super(message, options);
    this.name = "NotFoundError";
  }
}

/**
 * Turns a driver's error into a store error: 23505 (unique) becomes a {@linkcode ConflictError},
 * 23503 (foreign key) a {@linkcode MissingReferenceError}, anything else a
 * {@linkcode StoreError}. The new error's stack is `trace`'s (captured where the caller asked
 * for the query), because drivers throw from their socket or WASM loop, far from the caller.
 *
 * @param error What the driver threw.
 * @param trace An error made when the query was issued; its stack is kept.
 * @returns The store error (the driver's error as `cause`).
 * @example
 * ```ts
 * import { ConflictError, toStoreError } from "@modelpress/store";
 * const error = toStoreError(Object.assign(new Error("duplicate key"), { code: "23505" }), new Error());
 * console.log(error instanceof ConflictError); // true
 * ```
 */
export function toStoreError(error: unknown, trace: Error): StoreError {
  if (error instanceof StoreError) return error;
  const fields = (typeof error === "object" && error !== null ? error : {}) as {
    code?: unknown;
    constraint?: unknown;
    constraint_name?: unknown;
    message?: unknown;
    detail?: unknown;
  };
  const sqlState = typeof fields.code === "string" ? fields.code : undefined;
  const constraintValue = fields.constraint ?? fields.constraint_name;
  const constraint = typeof constraintValue === "string" ? constraintValue : undefined;
  const reason = typeof fields.message === "string" ? fields.message : String(error);
  const detail = typeof fields.detail === "string" && fields.detail ? ` (${fields.detail})` : "";
  const options: StoreErrorOptions = {
    cause: error,
    ...(sqlState === undefined ? {} : { sqlState }),
    ...(constraint === undefined ? {} : { constraint }),
  };
  const message = `Cannot run query: ${reason}${detail}`;
  const result = sqlState === "23505"
    ? new ConflictError(message, options)
    : sqlState === "23503"
    ? new MissingReferenceError(message, options)
    : new StoreError(message, options);
  const frames = trace.stack?.split("\n").slice(1).join("\n");
  if (frames) result.stack = `${result.name}: ${result.message}\n${frames}`;
  return result;
}
