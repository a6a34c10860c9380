/**
 * Polling for tests of services: wait until a job reaches a state.
 * @module
 */

/**
 * Polls until `check` returns a value other than undefined (at most `timeoutMs`).
 *
 * @param check What to poll.
 * @param timeoutMs How long to try.
 * @returns The value.
 * @example
 * ```ts
 * import { pollUntil } from "./poll_until.ts";
 * const n = await pollUntil(() => Promise.resolve(Math.random() > 0.5 ? 1 : undefined));
 * ```
 */
export async function pollUntil<T>(
  check: () => Promise<T | undefined>,
  timeoutMs = 20_000,
): Promise<T> {
  const end = performance.now() + timeoutMs;
  while (true) {
    const value = await check();
    if (value !== undefined) return value;
    if (performance.now() > end) throw new Error(`gave up polling after ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 20));
  }
}
