import assert from "node:assert/strict";
import { createMemorySource, type MemoryRun } from "./memory_source.ts";
import { sampleDashboardData } from "./_testing.ts";

function runAt(i: number, value: number, extra: Partial<MemoryRun> = {}): MemoryRun {
  return {
    id: `r${i}`,
    model: "m",
    recipe: "h",
    environment: "e",
    startedAt: new Date(Date.UTC(2026, 0, 1, i)).toISOString(),
    metrics: [{ name: "latency_ms", value }],
    ...extra,
  };
}

Deno.test("createMemorySource() listModels() gives each model's latest numbers and open regressions", async () => {
  const { data, expected } = sampleDashboardData();
  const models = await createMemorySource(data).listModels();
  assert.deepEqual(models.map((m) => m.name), ["mnist_cnn", "mnist_mlp"]);
  const mlp = models.find((m) => m.name === expected.model)!;
  const mlpRuns = data.runs.filter((r) => r.model === expected.model);
  const last = mlpRuns.toSorted((a, b) => a.startedAt.localeCompare(b.startedAt)).at(-1)!;
  assert.equal(mlp.runs, mlpRuns.length);
  assert.equal(mlp.openRegressions, 1);
  assert.equal(mlp.lastRunAt, last.startedAt);
  assert.equal(mlp.sizeBytes, last.metrics.find((m) => m.name === "size_bytes")!.value);
  assert.equal(models.find((m) => m.name === "mnist_cnn")!.openRegressions, 0);
});

Deno.test("createMemorySource() series() orders points by time and keeps regressions and change points", async () => {
  const runs = [runAt(2, 3), runAt(0, 1), runAt(1, 2)];
  const source = createMemorySource({
    runs,
    regressions: [{ id: "x", runId: "r2", metric: "latency_ms", status: "open", message: "slow" }],
    changePoints: [{ runId: "r1", metric: "latency_ms" }, { runId: "r1", metric: "accuracy" }],
  });
  const [key] = await source.listSeries("m");
  assert.ok(key);
  const series = await source.series(key, { maxPoints: 10 });
  assert.deepEqual(series.points.map((p) => p.value), [1, 2, 3]);
  assert.equal(series.points[0]!.min, undefined);
  assert.deepEqual(series.regressions.map((r) => [r.id, r.value, r.time]), [[
    "x",
    3,
    runs[0]!.startedAt,
  ]]);
  assert.deepEqual(series.changePoints.map((c) => c.runId), ["r1"]);
});

Deno.test("createMemorySource() series() downsamples into buckets with mean, min and max", async () => {
  const runs = Array.from({ length: 10 }, (_, i) => runAt(i, i));
  const source = createMemorySource({ runs });
  const [key] = await source.listSeries("m");
  const { points } = await source.series(key!, { maxPoints: 4 });
  assert.equal(points.length, 4);
  // buckets [0,1] [2,3,4] [5,6] [7,8,9]
  assert.deepEqual(points.map((p) => [p.value, p.min, p.max, p.runId]), [
    [0.5, 0, 1, "r1"],
    [3, 2, 4, "r4"],
    [5.5, 5, 6, "r6"],
    [8, 7, 9, "r9"],
  ]);
  await assert.rejects(() => source.series(key!, { maxPoints: 0 }), RangeError);
});

Deno.test("createMemorySource() pareto() keeps each recipe's latest run and the non-dominated front", async () => {
  const point = (
    id: string,
    recipe: string,
    hour: number,
    size: number,
    accuracy: number,
  ): MemoryRun => ({
    ...runAt(hour, 1),
    id,
    recipe,
    metrics: [{ name: "size_bytes", value: size }, { name: "accuracy", value: accuracy }],
  });
  const source = createMemorySource({
    runs: [
      point("old", "a", 0, 10, 0.1), // replaced by a's later run
      point("a2", "a", 5, 100, 0.9),
      point("b", "b", 1, 50, 0.8),
      point("c", "c", 2, 60, 0.7), // dominated by b
      point("d", "d", 3, 200, 0.95),
      point("e", "e", 4, 200, 0.90), // same size as d, less accurate
    ],
  });
  const { all, front } = await source.pareto("m");
  assert.deepEqual(all.map((p) => p.runId), ["b", "c", "a2", "d", "e"]);
  assert.deepEqual(front.map((p) => p.runId), ["b", "a2", "d"]);
  assert.deepEqual(await source.pareto("nope"), { all: [], front: [] });
});

Deno.test("createMemorySource() run() and hasModel() answer null and false for unknown ids", async () => {
  const source = createMemorySource({ runs: [runAt(0, 1)] });
  assert.equal(await source.run("zzz"), null);
  assert.equal((await source.run("r0"))?.report, null);
  assert.equal(await source.hasModel("m"), true);
  assert.equal(await source.hasModel("n"), false);
  assert.deepEqual(await source.listSeries("n"), []);
});

Deno.test("createMemorySource() openRegressions() lists only open ones, newest first", async () => {
  const runs = [runAt(0, 1), runAt(1, 2), runAt(2, 3)];
  const source = createMemorySource({
    runs,
    regressions: [
      { id: "a", runId: "r0", metric: "latency_ms", status: "open", message: "m", baseline: 0.5 },
      { id: "b", runId: "r1", metric: "latency_ms", status: "fixed", message: "m" },
      { id: "c", runId: "r2", metric: "latency_ms", status: "open", message: "m" },
    ],
  });
  const rows = await source.openRegressions();
  assert.deepEqual(rows.map((r) => [r.id, r.baseline, r.series.metric]), [
    ["c", null, "latency_ms"],
    ["a", 0.5, "latency_ms"],
  ]);
});
