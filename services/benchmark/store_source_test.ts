import assert from "node:assert/strict";
import { createApp } from "./app.ts";
import { storeSource } from "./store_source.ts";
import { latencySamples, postJson, runBody, withStore } from "./_testing.ts";

const opts = { sanitizeResources: false, sanitizeOps: false };

Deno.test(
  "storeSource() answers the dashboard from the store: series, change points, regressions, runs",
  opts,
  async () => {
    await withStore(async (store) => {
      const app = createApp({ store });
      // 20 runs at 10 ms, then 20 at 15 ms: one regression (the first slow run), one change point.
      const runs = Array.from({ length: 40 }, (_, i) =>
        runBody({
          minute: i,
          recipeName: "int8",
          params: { bits: 8, note: { nested: true } },
          metrics: [
            {
              name: "latency_ms",
              value: i < 20 ? 10 : 15,
              unit: "ms",
              samples: latencySamples(i < 20 ? 10 : 15),
            },
            { name: "accuracy", value: 0.97, unit: "ratio" },
            { name: "size_bytes", value: 240_000, unit: "bytes" },
          ],
        }));
      const res = await postJson(app, "/v1/runs/batch", { runs });
      assert.equal(res.status, 201);
      const source = storeSource(store.db);

      const models = await source.listModels();
      assert.deepEqual(models.map((m) => [m.name, m.runs, m.latencyMs, m.accuracy, m.sizeBytes]), [
        ["mlp", 40, 15, 0.97, 240_000],
      ]);
      assert.equal(models[0]!.openRegressions, 1);
      assert.equal(await source.hasModel("mlp"), true);
      assert.equal(await source.hasModel("nope"), false);

      const keys = await source.listSeries("mlp");
      assert.deepEqual(keys.map((k) => k.metric), ["accuracy", "latency_ms", "size_bytes"]);
      const latencyKey = keys.find((k) => k.metric === "latency_ms")!;
      assert.equal(latencyKey.recipeName, "int8");
      assert.equal(latencyKey.unit, "ms");
      const data = await source.series(latencyKey, { maxPoints: 100 });
      assert.equal(data.points.length, 40);
      const slowRun = (runs[20]!.run as { id: string }).id;
      assert.deepEqual(data.regressions.map((r) => r.runId), [slowRun]);
      assert.deepEqual(data.changePoints.map((c) => c.runId), [slowRun]);
      const few = await source.series(latencyKey, { maxPoints: 5 });
      assert.ok(few.points.length <= 5 && few.points.every((p) => p.min !== undefined));

      const open = await source.openRegressions();
      assert.equal(open.length, 1);
      assert.equal(open[0]!.series.metric, "latency_ms");
      assert.equal(open[0]!.baseline, 10);

      const run = await source.run(slowRun);
      assert.deepEqual(run?.params, { bits: 8, note: '{"nested":true}' });
      assert.equal(run?.recipeName, "int8");
      assert.equal(await source.run(crypto.randomUUID()), null);
      const pareto = await source.pareto("mlp");
      assert.deepEqual(pareto.front.map((p) => [p.sizeBytes, p.accuracy]), [[240_000, 0.97]]);

      // The pages the service serves from it.
      const home = await app.request("/");
      assert.equal(home.status, 200);
      assert.match(await home.text(), /mlp/);
      const page = await app.request("/regressions");
      assert.match(await page.text(), /latency_ms/);
      assert.equal((await app.request(`/runs/${slowRun}`)).status, 200);
      assert.equal((await app.request("/models/nope")).status, 404);
    });
  },
);
