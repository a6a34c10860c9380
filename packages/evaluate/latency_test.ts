import assert from "node:assert/strict";
import { measureLatency, percentile, summarizeLatency } from "./latency.ts";
import { createSession, Tensor } from "./session.ts";

const MLP = new URL("../../test/fixtures/mnist_mlp.onnx", import.meta.url);

Deno.test("percentile() interpolates linearly between closest ranks (NumPy's default)", () => {
  const xs = [10, 20, 30, 40, 50];
  assert.equal(percentile(xs, 0), 10);
  assert.equal(percentile(xs, 1), 50);
  assert.equal(percentile(xs, 0.5), 30);
  assert.equal(percentile(xs, 0.9), 46); // h = 3.6 -> 40 + 0.6 * 10
  assert.ok(Math.abs(percentile(xs, 0.99) - 49.6) < 1e-12);
  assert.equal(percentile([1, 2, 3, 4], 0.5), 2.5);
  assert.ok(Number.isNaN(percentile([], 0.5)));
  assert.throws(() => percentile(xs, 1.5), RangeError);
});

Deno.test("summarizeLatency() gives min, max, mean, sample stddev, percentiles and throughput", () => {
  const s = summarizeLatency([4, 2, 6, 8], { batchSize: 10 });
  assert.equal(s.runs, 4);
  assert.equal(s.minMs, 2);
  assert.equal(s.maxMs, 8);
  assert.equal(s.meanMs, 5);
  assert.ok(Math.abs(s.stddevMs - Math.sqrt(20 / 3)) < 1e-12);
  assert.equal(s.p50Ms, 5);
  assert.equal(s.samplesPerSecond, 2000); // 40 samples in 20 ms
  assert.equal(summarizeLatency([3]).stddevMs, 0);
});

Deno.test("measureLatency() keeps one raw sample per run after the warm-up", async () => {
  const session = await createSession(await Deno.readFile(MLP));
  try {
    const feeds = { input: new Tensor("float32", new Float32Array(784 * 4), [4, 784]) };
    let calls = 0;
    const report = await measureLatency(session, feeds, {
      warmupRuns: 2,
      runs: 7,
      batchSize: 4,
      onRun: (done, total) => {
        calls++;
        assert.equal(done, calls);
        assert.equal(total, 7);
      },
    });
    assert.equal(report.samplesMs.length, 7);
    assert.equal(report.runs, 7);
    assert.equal(calls, 7);
    assert.equal(report.batchSize, 4);
    assert.equal(report.warmupRuns, 2);
    assert.ok(report.samplesMs.every((ms) => ms > 0));
    assert.ok(
      report.minMs <= report.p50Ms && report.p50Ms <= report.p90Ms && report.p90Ms <= report.p99Ms,
    );
    assert.ok(report.p99Ms <= report.maxMs);
  } finally {
    await session.release();
  }
});

Deno.test("measureLatency() in budget mode stops near the budget", async () => {
  const session = await createSession(await Deno.readFile(MLP));
  try {
    const feeds = { input: new Tensor("float32", new Float32Array(784 * 64), [64, 784]) };
    const t0 = performance.now();
    const report = await measureLatency(session, feeds, {
      warmupRuns: 1,
      budgetMs: 150,
      batchSize: 64,
    });
    const elapsed = performance.now() - t0;
    const timed = report.samplesMs.reduce((a, b) => a + b, 0);
    assert.equal(report.budgetMs, 150);
    assert.ok(report.samplesMs.length > 1);
    assert.ok(timed <= 150 + report.maxMs, `${timed} ms timed`);
    assert.ok(elapsed >= 150 && elapsed < 150 + 5 * report.maxMs + 200, `${elapsed} ms elapsed`);
  } finally {
    await session.release();
  }
});

Deno.test("measureLatency() rejects with the signal's reason and bad counts with RangeError", async () => {
  const session = await createSession(await Deno.readFile(MLP));
  try {
    const feeds = { input: new Tensor("float32", new Float32Array(784), [1, 784]) };
    const controller = new AbortController();
    await assert.rejects(
      measureLatency(session, feeds, {
        runs: 1000,
        signal: controller.signal,
        onRun: (done) => done === 3 && controller.abort(),
      }),
      (e: unknown) => e instanceof DOMException && e.name === "AbortError",
    );
    await assert.rejects(
      measureLatency(session, feeds, { runs: 0 }),
      /runs must be an integer >= 1/,
    );
    await assert.rejects(measureLatency(session, feeds, { budgetMs: -1 }), RangeError);
  } finally {
    await session.release();
  }
});
