import assert from "node:assert/strict";
import { Hono } from "hono";
import { thrownApiError } from "../../test/support/service_checks.ts";
import { JobQueue } from "./job_queue.ts";
import { finishedResult, sendModelFile } from "./job_routes.ts";

const thrown = thrownApiError;

Deno.test("finishedResult() gives a succeeded job's result, 409 before that and 404 for none", async () => {
  const queue = new JobQueue<number>();
  const options = { queue, jobName: "pruning" };
  let release!: () => void;
  const gate = new Promise<void>((r) => (release = r));
  const job = queue.submit(async () => {
    await gate;
    return 7;
  });
  const running = thrown(() => finishedResult(options, job.id, "report"));
  assert.equal(running.status, 409);
  assert.equal(running.code, "conflict");
  assert.equal(
    running.message,
    `Cannot download the report of pruning '${job.id}': it is running; poll until it succeeds`,
  );
  assert.deepEqual(running.details, { status: "running" });
  release();
  await job.finished;
  assert.equal(finishedResult(options, job.id, "model"), 7);
  const failed = queue.submit(() => Promise.reject(new Error("no")));
  await failed.finished;
  assert.equal(
    thrown(() => finishedResult(options, failed.id, "model")).message,
    `Cannot download the model of pruning '${failed.id}': it is failed`,
  );
  assert.equal(thrown(() => finishedResult(options, "none", "model")).status, 404);
});

Deno.test("sendModelFile() answers the bytes as an attachment", async () => {
  const model = new Uint8Array([1, 2, 3]);
  const app = new Hono().get("/m", (c) => sendModelFile(c, { model, filename: "m.pruned.onnx" }));
  const res = await app.request("/m");
  assert.equal(res.status, 200);
  assert.equal(res.headers.get("content-type"), "application/octet-stream");
  assert.equal(res.headers.get("content-length"), "3");
  assert.equal(res.headers.get("content-disposition"), 'attachment; filename="m.pruned.onnx"');
  assert.deepEqual(new Uint8Array(await res.arrayBuffer()), model);
});
