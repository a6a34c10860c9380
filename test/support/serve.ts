/**
 * Services over a real socket, for tests: an app served on a free port, and a service's
 * `main.ts` run as `deno task start` runs it.
 * @module
 */
import { freePort } from "./free_port.ts";

/**
 * Serves `app` on 127.0.0.1 (a port the OS picks) while `fn` runs, then shuts it down.
 *
 * @param app What to serve (a Hono app, or anything with `fetch`).
 * @param fn The test, given the server's base URL.
 * @example
 * ```ts
 * import { withServer } from "./serve.ts";
 * await withServer({ fetch: () => new Response("ok") }, async (base) => {
 *   console.log(await (await fetch(base)).text()); // "ok"
 * });
 * ```
 */
export async function withServer(
  app: { fetch: (request: Request) => Response | Promise<Response> },
  fn: (base: string) => Promise<void>,
): Promise<void> {
  const server = Deno.serve(
    { port: 0, hostname: "127.0.0.1", onListen: () => {} },
    (request) => app.fetch(request),
  );
  try {
    await fn(`http://127.0.0.1:${server.addr.port}`);
  } finally {
    await server.shutdown();
  }
}

/**
 * Runs a service's `main.ts` (`deno run -A`) with `PORT` set to a free port while `fn` runs,
 * then stops it with SIGTERM.
 *
 * @param main The `main.ts` file's URL.
 * @param fn The test, given the service's base URL (it may not answer yet; see
 *   {@linkcode healthStatus}).
 * @example
 * ```ts ignore
 * import { healthStatus, withMain } from "./serve.ts";
 * await withMain(new URL("./main.ts", import.meta.url), async (base) => {
 *   console.log(await healthStatus(base)); // 200
 * });
 * ```
 */
export async function withMain(main: URL, fn: (base: string) => Promise<void>): Promise<void> {
  const port = freePort();
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", main.pathname],
    env: { PORT: String(port) },
    stdout: "null",
    stderr: "piped",
  }).spawn();
  try {
    await fn(`http://127.0.0.1:${port}`);
  } finally {
    child.kill("SIGTERM");
    await child.status;
    await child.stderr.cancel();
  }
}

/**
 * Polls `GET {base}/health` until it answers 200 (at most 300 tries, 100 ms apart while the
 * connection is refused).
 *
 * @param base The service's base URL.
 * @returns The last status seen (0 if it never answered).
 * @example
 * ```ts ignore
 * import { healthStatus } from "./serve.ts";
 * console.log(await healthStatus("http://127.0.0.1:8103")); // 200
 * ```
 */
export async function healthStatus(base: string): Promise<number> {
  let status = 0;
  for (let i = 0; i < 300 && status !== 200; i++) {
    try {
      const res = await fetch(`${base}/health`);
      status = res.status;
      await res.body?.cancel();
    } catch {
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  return status;
}
