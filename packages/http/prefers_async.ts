/**
 * The `Prefer: respond-async` request header (RFC 7240).
 * @module
 */

/**
 * Whether a Prefer header asks for an asynchronous answer (202 and a job to poll) even where
 * the service would answer directly.
 *
 * @param prefer The Prefer header, or undefined.
 * @returns Whether it has `respond-async`.
 * @example
 * ```ts
 * import { prefersAsync } from "@modelpress/http";
 * prefersAsync("respond-async, wait=10"); // true
 * ```
 */
export function prefersAsync(prefer: string | undefined): boolean {
  return (prefer ?? "").split(/[,;]/).some((p) => p.trim().toLowerCase() === "respond-async");
}
