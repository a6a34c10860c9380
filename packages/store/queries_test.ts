import assert from "node:assert/strict";
import { ingestRuns } from "./ingest.ts";
import { listModels, paretoFront } from "./models.ts";
import {
  listChangePoints,
  listRegressions,
  recordChangePoints,
  recordRegressions,
  setRegressionStatus,
} from "./regressions.ts";
import { compareRuns, searchRuns } from "./runs.ts";
import {
  findSeries,
  listSeries,
  querySeries,
  seriesBaseline,
  seriesHistory,
  setSeriesBaseline,
} from "./series.ts";
import { NotFoundError } from "./errors.ts";
import { migrateDown, migrateToLatest } from "./migrations.ts";
import { sampleRun, storeTest } from "./_testing.ts";

const minute = (i: number): Date => new Date(Date.UTC(2026, 0, 1, 0, i));

storeTest("querySeries() answers raw points, or time buckets with min/avg/max", async (store) => {
  const runs = Array.from(
    { length: 100 },
    (_, i) =>
      sampleRun({
        startedAt: minute(i),
        metrics: [{ name: "latency_ms", value: i, samples: [i, i + 1] }],
      }),
  );
  const [first] = await ingestRuns(store.db, runs);
  const key = {
    model: "mlp",
    recipe: first!.recipeHash,
    environment: first!.environmentHash,
    metric: "latency_ms",
  };
  const raw = await querySeries(store.db, key);
  assert.equal(raw.downsampled, false);
  assert.deepEqual(raw.points.map((p) => p.value), runs.map((_, i) => i));
  const small = await querySeries(store.db, key, { maxPoints: 10 });
  assert.equal(small.downsampled, true);
  assert.equal(small.total, 100);
  assert.ok(small.points.length <= 10);
  assert.equal(small.points.reduce((n, p) => n + (p.count ?? 0), 0), 100);
  for (const p of small.points) {
    assert.ok(p.min! <= p.value && p.value <= p.max!, JSON.stringify(p));
  }
  assert.equal(small.points[0]!.min, 0);
  assert.equal(small.points.at(-1)!.max, 99);
  assert.equal(small.points.at(-1)!.runId, runs[99]!.run.id);
  const ranged = await querySeries(store.db, key, { from: minute(10), to: minute(15) });
  assert.deepEqual(ranged.points.map((p) => p.value), [10, 11, 12, 13, 14]);
  const history = await seriesHistory(store.db, small.seriesId, { before: minute(5), limit: 3 });
  assert.deepEqual(history.map((h) => h.value), [2, 3, 4]);
  assert.deepEqual(history[0]!.samples, [2, 3]);
  await assert.rejects(
    querySeries(store.db, { ...key, metric: "nope" }),
    (e) => e instanceof NotFoundError,
  );
  assert.equal(await findSeries(store.db, { ...key, model: "other" }), undefined);
});

storeTest(
  "querySeries() over hourly rollups answers what bucketing every point would",
  async (store) => {
    // 300 points 20 minutes apart (100 hours), values with a pattern; 10 buckets of >= 10 hours.
    const value = (i: number) => (i * 37) % 101;
    const runs = Array.from(
      { length: 300 },
      (_, i) => sampleRun({ startedAt: minute(20 * i), metrics: [{ name: "m", value: value(i) }] }),
    );
    for (let i = 0; i < runs.length; i += 100) {
      await ingestRuns(store.db, runs.slice(i, i + 100));
    }
    const [first] = await ingestRuns(store.db, runs.slice(0, 1));
    const key = {
      model: "mlp",
      recipe: first!.recipeHash,
      environment: first!.environmentHash,
      metric: "m",
    };
    const check = async (from: number, to: number) => {
      const result = await querySeries(store.db, key, {
        maxPoints: 10,
        from: minute(from),
        to: minute(to),
      });
      const inRange = runs.map((r, i) => ({ i, t: 20 * i, id: r.run.id }))
        .filter((p) => p.t >= from && p.t < to);
      assert.equal(result.downsampled, true);
      assert.ok(result.points.length <= 10);
      assert.equal(result.total, inRange.length);
      // Buckets partition the points in time order: each ends at its latest run.
      let k = 0;
      for (const point of result.points) {
        const members = inRange.slice(k, k + point.count!);
        k += point.count!;
        const values = members.map((m) => value(m.i));
        assert.equal(point.runId, members.at(-1)!.id);
        assert.equal(point.min, Math.min(...values));
        assert.equal(point.max, Math.max(...values));
        assert.ok(Math.abs(point.value - values.reduce((a, b) => a + b) / values.length) < 1e-9);
      }
      assert.equal(k, inRange.length);
    };
    await check(0, 6000);
    await check(45, 5000 + 15); // partial hours at both ends
    // The migration rolls up points that were stored before it.
    await migrateDown(store.db as never, { schema: store.schema! });
    await migrateToLatest(store.db as never, { schema: store.schema! });
    await check(45, 5000 + 15);
  },
);

storeTest(
  "setSeriesBaseline() pins a run of the series and seriesBaseline() reads it",
  async (store) => {
    const runs = [0, 1, 2].map((i) =>
      sampleRun({ startedAt: minute(i), metrics: [{ name: "x", value: i }] })
    );
    const [first] = await ingestRuns(store.db, runs);
    const key = {
      model: "mlp",
      recipe: first!.recipeHash,
      environment: first!.environmentHash,
      metric: "x",
    };
    const id = await setSeriesBaseline(store.db, key, runs[1]!.run.id);
    assert.equal((await seriesBaseline(store.db, id))?.value, 1);
    await setSeriesBaseline(store.db, key, null);
    assert.equal(await seriesBaseline(store.db, id), undefined);
    await assert.rejects(
      setSeriesBaseline(store.db, key, crypto.randomUUID()),
      (e) => e instanceof NotFoundError,
    );
    const list = await listSeries(store.db, "mlp");
    assert.deepEqual(list.map((s) => [s.metric, s.points]), [["x", 3]]);
    assert.match(list[0]!.environmentLabel, /^wasm, 2 cores, Test CPU; deno/);
  },
);

storeTest(
  "compareRuns() and searchRuns() answer params side by side and filtered pages",
  async (store) => {
    const a = sampleRun({
      startedAt: minute(0),
      params: { bits: 8, method: "dynamic" },
      tags: { ci: "pr", os: "linux" },
    });
    const b = sampleRun({
      startedAt: minute(1),
      params: { bits: 4, method: "dynamic", block: 32 },
      tags: { ci: "nightly", os: "linux" },
      metrics: [{ name: "accuracy", value: 0.5 }, { name: "size_bytes", value: 0 }],
    });
    await ingestRuns(store.db, [a, b]);
    const cmp = await compareRuns(store.db, a.run.id, b.run.id);
    assert.deepEqual(cmp.params, [
      { key: "bits", a: 8, b: 4, same: false },
      { key: "block", a: undefined, b: 32, same: false },
      { key: "method", a: "dynamic", b: "dynamic", same: true },
    ]);
    const acc = cmp.metrics.find((m) => m.name === "accuracy")!;
    assert.ok(Math.abs(acc.delta! - (0.5 - 0.978)) < 1e-12);
    const latency = cmp.metrics.find((m) => m.name === "latency_ms")!;
    assert.deepEqual([latency.a, latency.b, latency.delta], [1.5, null, null]);
    await assert.rejects(compareRuns(store.db, a.run.id, crypto.randomUUID()), NotFoundError);

    const ids = async (options: Parameters<typeof searchRuns>[1]) =>
      (await searchRuns(store.db, options)).runs.map((r) => r.id);
    assert.deepEqual(await ids({ params: { method: "dynamic" } }), [b.run.id, a.run.id]);
    assert.deepEqual(await ids({ params: { method: "dynamic", bits: 8 } }), [a.run.id]);
    assert.deepEqual(await ids({ params: { bits: "8" } }), []); // JSON types count
    assert.deepEqual(await ids({ tags: { os: "linux" } }), [b.run.id, a.run.id]);
    assert.deepEqual(await ids({ tags: { ci: "nightly" } }), [b.run.id]);
    assert.deepEqual(await ids({ model: "other" }), []);
    const page = await searchRuns(store.db, { limit: 1 });
    assert.deepEqual(page.runs.map((r) => r.id), [b.run.id]);
    assert.deepEqual(await ids({ limit: 1, cursor: page.nextCursor! }), [a.run.id]);
    await assert.rejects(searchRuns(store.db, { cursor: "bad" }), RangeError);
  },
);

storeTest(
  "paretoFront() keeps the recipes that nothing beats on size and accuracy",
  async (store) => {
    const points: [string, number, number][] = [
      ["fp32", 1000, 0.98],
      ["int8", 260, 0.978],
      ["int4", 150, 0.97],
      ["dominated", 300, 0.95],
    ];
    await ingestRuns(
      store.db,
      points.map(([name, size, accuracy], i) =>
        sampleRun({
          startedAt: minute(i),
          recipe: { name },
          recipeName: name,
          metrics: [{ name: "size_bytes", value: size }, { name: "accuracy", value: accuracy }],
        })
      ),
    );
    // A newer int8 run replaces the older one's point.
    await ingestRuns(store.db, [
      sampleRun({
        startedAt: minute(10),
        recipe: { name: "int8" },
        recipeName: "int8",
        metrics: [{ name: "size_bytes", value: 250 }, { name: "accuracy", value: 0.979 }],
      }),
    ]);
    const result = await paretoFront(store.db, "mlp");
    assert.equal(result.all.length, 4);
    assert.deepEqual(result.front.map((p) => [p.recipeName, p.size]), [
      ["int4", 150],
      ["int8", 250],
      ["fp32", 1000],
    ]);
    const models = await listModels(store.db);
    assert.deepEqual(models.map((m) => [m.name, m.runs, m.metrics]), [
      ["mlp", 5, { accuracy: 0.979, size_bytes: 250 }],
    ]);
  },
);

storeTest(
  "recordRegressions() stores each once; setRegressionStatus() moves it along",
  async (store) => {
    const runs = [0, 1].map((i) =>
      sampleRun({ startedAt: minute(i), metrics: [{ name: "size_bytes", value: i }] })
    );
    const [r0, r1] = await ingestRuns(store.db, runs);
    const seriesId = r1!.metrics[0]!.seriesId;
    const finding = {
      seriesId,
      runId: r1!.id,
      metric: "size_bytes",
      baselineValue: 0,
      baselineRunIds: [r0!.id],
      value: 1,
      change: 1,
      relativeChange: Infinity,
      pValue: null,
      test: "exact",
      message: "size_bytes grew",
    };
    const [id] = await recordRegressions(store.db, [finding]);
    assert.ok(id);
    assert.deepEqual(await recordRegressions(store.db, [finding]), [undefined]);
    const [open] = await listRegressions(store.db, { status: "open" });
    assert.equal(open?.relativeChange, Infinity);
    assert.deepEqual(open?.baselineRunIds, [r0!.id]);
    assert.equal(open?.model, "mlp");
    assert.equal((await setRegressionStatus(store.db, id, "acknowledged")).status, "acknowledged");
    assert.deepEqual(await listRegressions(store.db, { status: "open" }), []);
    await assert.rejects(setRegressionStatus(store.db, "x", "fixed"), NotFoundError);
    await assert.rejects(
      setRegressionStatus(store.db, crypto.randomUUID(), "fixed"),
      NotFoundError,
    );
    const cp = { runId: r1!.id, time: minute(1), pValue: 1e-4, meanBefore: 0, meanAfter: 1 };
    assert.equal(await recordChangePoints(store.db, seriesId, [cp]), 1);
    assert.equal(await recordChangePoints(store.db, seriesId, [cp]), 0);
    assert.deepEqual(await listChangePoints(store.db, seriesId), [{ seriesId, ...cp }]);
  },
);
