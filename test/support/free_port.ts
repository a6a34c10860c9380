/**
 * A TCP port for a test server.
 * @module
 */

/**
 * A TCP port on 127.0.0.1 that was free a moment ago (the OS picked it; nothing holds it now).
 *
 * @returns The port.
 * @example
 * ```ts
 * import { freePort } from "./free_port.ts";
 * const port = freePort();
 * ```
 */
export function freePort(): number {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (listener.addr as Deno.NetAddr).port;
  listener.close();
  return port;
}
