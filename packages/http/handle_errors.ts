/**
 * The one error handler of every ModelPress service.
 * @module
 */
import type { Hono } from "hono";
import { ApiError } from "./api_error.ts";
import { toApiError } from "./to_api_error.ts";

/**
 * Makes an app answer every error, and every unknown route (404), as
 * `{ error: { code, message, details? } }` with the status of {@linkcode toApiError}, and its
 * headers (such as Retry-After). Errors that map to 500 are bugs: their stack is logged.
 *
 * @param app The app (after its routes were added).
 * @example
 * ```ts
 * import { Hono } from "hono";
 * import { handleErrors } from "@modelpress/http";
 * const app = new Hono();
 * handleErrors(app);
 * (await app.request("/nothing")).status; // 404
 * ```
 */
// deno-lint-ignore no-explicit-any
export function handleErrors(app: Hono<any, any, any>): void {
  app.notFound((c) => {
    throw new ApiError(`Cannot ${c.req.method} ${c.req.path}: no such route`, {
      status: 404,
      code: "not_found",
    });
  });
  app.onError((error, c) => {
    const api = toApiError(error);
    if (api.status === 500) console.error(error); // a bug: keep the stack in the log
    return c.json(
      {
        error: {
          code: api.code,
          message: api.message,
          ...(api.details && { details: api.details }),
        },
      },
      api.status,
      api.headers,
    );
  });
}
