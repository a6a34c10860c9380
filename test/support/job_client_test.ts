import assert from "node:assert/strict";
import { assertEndlessUploadRefused, cancelJob, pollJob } from "./job_client.ts";
import { withServer } from "./serve.ts";

/** A stand-in job service: 413 at once for any upload, and one job that runs until cancelled. */
function fakeService(): { fetch: (request: Request) => Response } {
  let polls = 0;
  let cancelled = false;
  return {
    fetch: (request) => {
      const { pathname } = new URL(request.url);
      if (request.method === "POST" && pathname === "/v1/jobs") {
        return Response.json({ error: { code: "payload_too_large" } }, { status: 413 });
      }
      if (request.method === "POST" && pathname === "/v1/jobs/a/cancel") {
        cancelled = true;
        return Response.json({ status: "running" }, { status: 202 });
      }
      polls++;
      if (cancelled) return Response.json({ status: "cancelled", progress: null });
      return Response.json({
        status: "running",
        progress: polls < 3 ? null : { phase: "x", done: polls, total: 10, percent: polls * 10 },
      });
    },
  };
}

Deno.test("assertEndlessUploadRefused() passes when the server answers 413 before the upload ends", async () => {
  await withServer(fakeService(), async (base) => {
    await assertEndlessUploadRefused(`${base}/v1/jobs`);
  });
});

Deno.test("pollJob() waits until ready and cancelJob() until the job stops running", async () => {
  await withServer(fakeService(), async (base) => {
    const progressed = await pollJob(`${base}/v1/jobs/a`, (job) => job.progress !== null);
    assert.equal(progressed.status, "running");
    assert.equal(progressed.progress.done, 3);
    const final = await cancelJob(`${base}/v1/jobs/a`);
    assert.equal(final.status, "cancelled");
    // Not running any more: pollJob answers at once, whatever ready says.
    assert.equal((await pollJob(`${base}/v1/jobs/a`)).status, "cancelled");
  });
});
