/**
 * JSON responses that keep non-finite numbers.
 * @module
 */
import type { Context } from "hono";
import type { ContentfulStatusCode } from "hono/utils/http-status";

/**
 * Answers with a JSON body, writing non-finite numbers as the strings `"Infinity"`,
 * `"-Infinity"` and `"NaN"` (as `reportToJson` of `@modelpress/evaluate` does), where
 * `c.json()` would write `null`: an SQNR of Infinity means "identical", which null would lose.
 *
 * @param c The request's context; headers set on it are kept.
 * @param value The body.
 * @param status The status.
 * @returns The response.
 * @example
 * ```ts
 * import { Hono } from "hono";
 * import { sendJson } from "@modelpress/http";
 * new Hono().get("/", (c) => sendJson(c, { sqnrDb: Infinity }, 200));
 * ```
 */
export function sendJson(c: Context, value: unknown, status: ContentfulStatusCode): Response {
  const text = JSON.stringify(
    value,
    (_key, v: unknown) => typeof v === "number" && !Number.isFinite(v) ? String(v) : v,
  );
  return c.body(text, status, { "Content-Type": "application/json; charset=UTF-8" });
}
