/**
 * A client of a job-backed service over a real socket, for tests of the services: an upload
 * that never ends (the 413 must come first), and following a job by its Location until it has
 * progressed, finished, or been cancelled.
 * @module
 */
import assert from "node:assert/strict";
import { pollUntil } from "./poll_until.ts";

/** A job as `GET {path}/{id}` answers it, as loosely typed as `Response.json()`. */
export interface JobBody {
  /** `queued`, `running`, `succeeded`, `failed` or `cancelled`. */
  readonly status: string;
  /** The other fields (`progress`, `result`, `error`, ...). */
  // deno-lint-ignore no-explicit-any
  readonly [field: string]: any;
}

/**
 * Posts a multipart body of 64 MiB of zeros, streamed, and checks that the server refuses it
 * with 413 `payload_too_large` before reading it all (the client sees the 413, or a reset
 * connection if it was still writing, but never a server that read 64 MiB).
 *
 * @param url The collection's URL (`http://127.0.0.1:1234/v1/prunings`).
 * @example
 * ```ts ignore
 * import { assertEndlessUploadRefused } from "./job_client.ts";
 * await assertEndlessUploadRefused("http://127.0.0.1:8102/v1/prunings");
 * ```
 */
export async function assertEndlessUploadRefused(url: string): Promise<void> {
  let sent = 0;
  const body = new ReadableStream<Uint8Array>({
    pull(controller) {
      sent += 16 * 1024;
      if (sent > 64 * 1024 * 1024) controller.close();
      else controller.enqueue(new Uint8Array(16 * 1024));
    },
  });
  const big = await fetch(url, {
    method: "POST",
    body,
    headers: { "content-type": "multipart/form-data; boundary=b" },
  }).catch((e) => e as Error);
  if (big instanceof Response) {
    assert.equal(big.status, 413);
    assert.equal((await big.json()).error.code, "payload_too_large");
  }
  assert.ok(sent < 64 * 1024 * 1024, `sent ${sent} bytes`);
}

/**
 * Polls a job until `ready(job)` or until it is neither queued nor running.
 *
 * @param location The job's URL.
 * @param ready Whether a running or queued job is what the test waits for (default: never).
 * @param timeoutMs How long to try (default 20 s).
 * @returns The job.
 * @example
 * ```ts ignore
 * import { pollJob } from "./job_client.ts";
 * const done = await pollJob("http://127.0.0.1:8102/v1/prunings/abc");
 * ```
 */
export function pollJob(
  location: string,
  ready: (job: JobBody) => boolean = () => false,
  timeoutMs = 20_000,
): Promise<JobBody> {
  return pollUntil(async () => {
    const body = await (await fetch(location)).json() as JobBody;
    if (body.status !== "running" && body.status !== "queued") return body;
    return ready(body) ? body : undefined;
  }, timeoutMs);
}

/**
 * Cancels a job (200 or 202) and waits until it is no longer running.
 *
 * @param location The job's URL.
 * @returns The job as it ends.
 * @example
 * ```ts ignore
 * import { cancelJob } from "./job_client.ts";
 * const final = await cancelJob("http://127.0.0.1:8102/v1/prunings/abc");
 * console.log(final.status); // "cancelled"
 * ```
 */
export async function cancelJob(location: string): Promise<JobBody> {
  const cancel = await fetch(`${location}/cancel`, { method: "POST" });
  assert.ok([200, 202].includes(cancel.status), String(cancel.status));
  await cancel.body?.cancel();
  return await pollUntil(async () => {
    const body = await (await fetch(location)).json() as JobBody;
    return body.status === "running" ? undefined : body;
  });
}
