import assert from "node:assert/strict";
import { JobQueue, QueueFullError } from "./job_queue.ts";

Deno.test("JobQueue.submit() refuses past the waiting line with a QueueFullError naming the job", () => {
  const queue = new JobQueue<number>({ concurrency: 1, maxQueued: 1, jobName: "quantization" });
  const never = () => new Promise<number>(() => {});
  queue.submit(never);
  queue.submit(never);
  assert.equal(queue.running, 1);
  assert.equal(queue.queued, 1);
  assert.throws(() => queue.submit(never), (e) => {
    assert.ok(e instanceof QueueFullError);
    assert.match(e.message, /^Cannot start quantization: 1 running and 1 waiting/);
    return true;
  });
  queue.cancelAll();
});

Deno.test("JobQueue keeps progress and results until ttlMs, and cancels queued jobs at once", async () => {
  let now = 0;
  const queue = new JobQueue<number>({ concurrency: 1, ttlMs: 1000, now: () => now });
  let release!: () => void;
  const gate = new Promise<void>((r) => (release = r));
  const first = queue.submit(async ({ onProgress }) => {
    onProgress({ phase: "work", done: 1, total: 3, samplesPerSecond: 0 });
    await gate;
    return 42;
  });
  const second = queue.submit(() => Promise.resolve(0));
  await Promise.resolve();
  assert.equal(queue.get(first.id)?.progress?.percent, 33.3);
  assert.equal(queue.cancel(second.id)?.status, "cancelled");
  release();
  assert.equal((await first.finished).result, 42);
  now += 999;
  assert.equal(queue.get(first.id)?.status, "succeeded");
  now += 1;
  assert.equal(queue.get(first.id), undefined);
});
