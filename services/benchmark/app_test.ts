import assert from "node:assert/strict";
import { createApp } from "./app.ts";
import { latencySamples, postJson, runBody, withStore } from "./_testing.ts";
import { withServer } from "../../test/support/serve.ts";
import { evaluateModel, loadDataset, reportToJson } from "@modelpress/evaluate";

// The shared PGlite instance outlives each test.
const opts = { sanitizeResources: false, sanitizeOps: false };

Deno.test(
  "POST /v1/runs stores a run once: 201, 200 on replay, 409 for another payload",
  opts,
  async () => {
    await withStore(async (store) => {
      const app = createApp({ store });
      const body = runBody();
      const first = await postJson(app, "/v1/runs", body);
      assert.equal(first.status, 201, await first.clone().text());
      assert.deepEqual((await first.json()).runs, [{
        id: (body.run as { id: string }).id,
        created: true,
      }]);
      const again = await postJson(app, "/v1/runs", body);
      assert.equal(again.status, 200);
      assert.equal((await again.json()).runs[0].created, false);
      const other = await postJson(app, "/v1/runs", { ...body, params: { bits: 4 } });
      assert.equal(other.status, 409);
      const error = (await other.json()).error;
      assert.equal(error.code, "conflict");
      assert.match(error.message, /different payload/);
    });
  },
);

Deno.test("POST /v1/runs answers 400 naming the field for an invalid run", opts, async () => {
  await withStore(async (store) => {
    const app = createApp({ store });
    const bad = runBody();
    (bad.run as Record<string, unknown>).id = "nope";
    const res = await postJson(app, "/v1/runs", bad);
    assert.equal(res.status, 400);
    const error = (await res.json()).error;
    assert.equal(error.code, "invalid_options");
    assert.equal(error.details.field, "run.id");
    const twice = runBody({ metrics: [{ name: "a", value: 1 }, { name: "a", value: 2 }] });
    const dup = await postJson(app, "/v1/runs", twice);
    assert.equal(dup.status, 400);
    assert.equal((await dup.json()).error.details.field, "metrics[1].name");
  });
});

Deno.test("POST /v1/runs/batch, then search, get and compare", opts, async () => {
  await withStore(async (store) => {
    const app = createApp({ store });
    const runs = Array.from({ length: 5 }, (_, i) =>
      runBody({
        minute: i,
        params: { bits: i < 3 ? 8 : 4 },
        tags: { ci: i % 2 === 0 ? "nightly" : "pr", team: "ml" },
        metrics: [{ name: "accuracy", value: 0.97 + i / 1000 }, {
          name: "size_bytes",
          value: 1000 - i,
        }],
      }));
    const res = await postJson(app, "/v1/runs/batch", { runs });
    assert.equal(res.status, 201, await res.clone().text());
    assert.equal((await res.json()).runs.length, 5);
    const ids = runs.map((r) => (r.run as { id: string }).id);

    const search = async (query: string) => await (await app.request(`/v1/runs?${query}`)).json();
    const bits8 = await search(`params=${encodeURIComponent('{"bits":8}')}`);
    assert.deepEqual(bits8.runs.map((r: { id: string }) => r.id), [ids[2], ids[1], ids[0]]);
    const nightly = await search(`tags=${encodeURIComponent('{"ci":"nightly"}')}`);
    assert.deepEqual(nightly.runs.map((r: { id: string }) => r.id), [ids[4], ids[2], ids[0]]);
    // Pages of two, newest first, then the rest.
    const page1 = await search("limit=2");
    assert.deepEqual(page1.runs.map((r: { id: string }) => r.id), [ids[4], ids[3]]);
    const page2 = await search(`limit=2&cursor=${page1.nextCursor}`);
    assert.deepEqual(page2.runs.map((r: { id: string }) => r.id), [ids[2], ids[1]]);
    const page3 = await search(`limit=2&cursor=${page2.nextCursor}`);
    assert.deepEqual(page3.runs.map((r: { id: string }) => r.id), [ids[0]]);
    assert.equal(page3.nextCursor, null);
    assert.equal((await app.request("/v1/runs?cursor=garbage")).status, 400);

    const one = await (await app.request(`/v1/runs/${ids[1]}`)).json();
    assert.deepEqual(one.params, { bits: 8 });
    assert.equal((await app.request(`/v1/runs/${crypto.randomUUID()}`)).status, 404);

    const cmp = await (await app.request(`/v1/runs/compare?a=${ids[0]}&b=${ids[4]}`)).json();
    assert.deepEqual(cmp.params, [{ key: "bits", a: 8, b: 4, same: false }]);
    const size = cmp.metrics.find((m: { name: string }) => m.name === "size_bytes");
    assert.equal(size.delta, -4);
    assert.ok(Math.abs(size.relativeDelta - -0.004) < 1e-12);
  });
});

Deno.test(
  "POST /v1/runs flags a latency regression, lists it, acknowledges it, calls the webhook",
  opts,
  async () => {
    const received: unknown[] = [];
    await withServer({
      fetch: async (req) => {
        received.push(await req.json());
        return new Response("ok");
      },
    }, async (hook) => {
      await withStore(async (store) => {
        const app = createApp({ store, webhookUrl: `${hook}/hook` });
        const runs = Array.from({ length: 8 }, (_, i) =>
          runBody({
            minute: i,
            metrics: [
              { name: "latency_ms", value: 10, unit: "ms", samples: latencySamples(10) },
              { name: "accuracy", value: 0.978 },
              { name: "size_bytes", value: 240_000 },
            ],
          }));
        const base = await postJson(app, "/v1/runs/batch", { runs });
        assert.equal(base.status, 201);
        assert.deepEqual((await base.json()).regressions, []);
        // Same accuracy and size; latency 20% slower: one regression, on latency.
        const slow = runBody({
          minute: 9,
          metrics: [
            { name: "latency_ms", value: 12, unit: "ms", samples: latencySamples(12) },
            { name: "accuracy", value: 0.977 },
            { name: "size_bytes", value: 240_000 },
          ],
        });
        const res = await postJson(app, "/v1/runs", slow);
        const body = await res.json();
        assert.equal(res.status, 201);
        assert.equal(body.regressions.length, 1, JSON.stringify(body.regressions));
        const regression = body.regressions[0];
        assert.equal(regression.metric, "latency_ms");
        assert.equal(regression.status, "open");
        assert.equal(regression.test, "mann-whitney");
        assert.ok(regression.pValue <= 0.01);
        assert.equal(received.length, 1);
        assert.equal((received[0] as { regression: { id: string } }).regression.id, regression.id);

        // Accuracy 1 pp lower (over the 0.5 pp tolerance) and one byte bigger: two more.
        const worse = runBody({
          minute: 10,
          metrics: [{ name: "accuracy", value: 0.968 }, { name: "size_bytes", value: 240_001 }],
        });
        const worseBody = await (await postJson(app, "/v1/runs", worse)).json();
        assert.deepEqual(
          worseBody.regressions.map((r: { metric: string }) => r.metric).sort(),
          ["accuracy", "size_bytes"],
        );

        const open = await (await app.request("/v1/regressions?status=open")).json();
        assert.equal(open.regressions.length, 3);
        const ack = await app.request(`/v1/regressions/${regression.id}/acknowledge`, {
          method: "POST",
        });
        assert.equal(ack.status, 200);
        assert.equal((await ack.json()).status, "acknowledged");
        const stillOpen = await (await app.request("/v1/regressions?status=open")).json();
        assert.equal(stillOpen.regressions.length, 2);
        const fixed = await app.request(`/v1/regressions/${regression.id}/fix`, { method: "POST" });
        assert.equal((await fixed.json()).status, "fixed");
        const missing = await app.request(`/v1/regressions/${crypto.randomUUID()}/acknowledge`, {
          method: "POST",
        });
        assert.equal(missing.status, 404);
        assert.equal((await missing.json()).error.code, "not_found");
        // Replaying the slow run neither stores nor flags anything again.
        const replay = await (await postJson(app, "/v1/runs", slow)).json();
        assert.deepEqual(replay.regressions, []);
        assert.equal(received.length, 3);
      });
    });
  },
);

Deno.test("POST /v1/runs succeeds when the webhook is down", opts, async () => {
  await withStore(async (store) => {
    const warn = console.warn;
    const warnings: string[] = [];
    console.warn = (message: string) => warnings.push(message);
    try {
      const app = createApp({
        store,
        webhookUrl: "http://127.0.0.1:9/hook",
        fetch: () => Promise.reject(new TypeError("connection refused")),
      });
      await postJson(
        app,
        "/v1/runs",
        runBody({ minute: 0, metrics: [{ name: "size_bytes", value: 1 }] }),
      );
      const res = await postJson(
        app,
        "/v1/runs",
        runBody({ minute: 1, metrics: [{ name: "size_bytes", value: 2 }] }),
      );
      assert.equal(res.status, 201);
      assert.equal((await res.json()).regressions.length, 1);
      assert.equal(warnings.length, 1);
      assert.match(warnings[0]!, /Cannot notify webhook .*connection refused/);
    } finally {
      console.warn = warn;
    }
  });
});

Deno.test("GET /v1/series downsamples; PUT /v1/series/baseline pins a run", opts, async () => {
  await withStore(async (store) => {
    const app = createApp({ store });
    const runs = Array.from(
      { length: 40 },
      (_, i) =>
        runBody({ minute: i, metrics: [{ name: "size_bytes", value: 1000 + i, unit: "bytes" }] }),
    );
    await postJson(app, "/v1/runs/batch", { runs });
    const series = (await (await app.request("/v1/models/mlp/series")).json()).series;
    assert.equal(series.length, 1);
    const key = series[0];
    assert.equal(key.points, 40);
    assert.equal(key.unit, "bytes");
    const q = `model=mlp&recipe=${key.recipe}&environment=${key.environment}&metric=size_bytes`;
    const full = await (await app.request(`/v1/series?${q}`)).json();
    assert.equal(full.points.length, 40);
    assert.equal(full.downsampled, false);
    const small = await (await app.request(`/v1/series?${q}&maxPoints=4`)).json();
    assert.equal(small.downsampled, true);
    assert.ok(small.points.length <= 4 && small.points.length >= 3, String(small.points.length));
    assert.equal(small.points[0].min, 1000);
    assert.equal(small.points.at(-1).max, 1039);
    const counted = small.points.reduce((n: number, p: { count: number }) => n + p.count, 0);
    assert.equal(counted, 40);
    const ranged = await (await app.request(
      `/v1/series?${q}&from=2026-01-01T00:10:00Z&to=2026-01-01T00:20:00Z`,
    )).json();
    assert.deepEqual(ranged.points.map((p: { value: number }) => p.value), [
      1010,
      1011,
      1012,
      1013,
      1014,
      1015,
      1016,
      1017,
      1018,
      1019,
    ]);
    // Pin run 0 (1000 bytes): a new run at 1039 bytes is bigger than the pin, so it regresses,
    // though it equals the latest point.
    const pin = await postJson(app, "/v1/series/baseline", {
      model: "mlp",
      recipe: key.recipe,
      environment: key.environment,
      metric: "size_bytes",
      runId: (runs[0]!.run as { id: string }).id,
    }, "PUT");
    assert.equal(pin.status, 200, await pin.clone().text());
    const next = await (await postJson(
      app,
      "/v1/runs",
      runBody({ minute: 50, metrics: [{ name: "size_bytes", value: 1039 }] }),
    )).json();
    assert.equal(next.regressions.length, 1);
    assert.equal(next.regressions[0].baselineValue, 1000);
    const notIn = await postJson(app, "/v1/series/baseline", {
      model: "mlp",
      recipe: key.recipe,
      environment: key.environment,
      metric: "size_bytes",
      runId: crypto.randomUUID(),
    }, "PUT");
    assert.equal(notIn.status, 404);
    const unknown = await app.request(`/v1/series?${q.replace("model=mlp", "model=none")}`);
    assert.equal(unknown.status, 404);
  });
});

Deno.test(
  "GET /v1/models and /v1/models/{name}/pareto answer latest metrics and the front",
  opts,
  async () => {
    await withStore(async (store) => {
      const app = createApp({ store });
      const points: [string, number, number][] = [
        ["fp32", 1000, 0.98],
        ["int8", 260, 0.978],
        ["int4", 150, 0.97],
        ["bad", 300, 0.95], // dominated by int8
        ["prune", 150, 0.96], // dominated by int4 (same size, less accurate)
      ];
      const runs = points.map(([name, size, accuracy], i) =>
        runBody({
          minute: i,
          recipe: { method: name },
          recipeName: name,
          metrics: [{ name: "size_bytes", value: size }, { name: "accuracy", value: accuracy }],
        })
      );
      await postJson(app, "/v1/runs/batch", { runs });
      const pareto = await (await app.request("/v1/models/mlp/pareto")).json();
      assert.equal(pareto.all.length, 5);
      assert.deepEqual(pareto.front.map((p: { recipeName: string }) => p.recipeName), [
        "int4",
        "int8",
        "fp32",
      ]);
      const models = (await (await app.request("/v1/models")).json()).models;
      assert.equal(models.length, 1);
      assert.equal(models[0].name, "mlp");
      assert.equal(models[0].runs, 5);
      assert.deepEqual(models[0].metrics, { accuracy: 0.96, size_bytes: 150 });
    });
  },
);

Deno.test(
  "GET /openapi.json documents the routes; unknown routes answer the error shape",
  opts,
  async () => {
    await withStore(async (store) => {
      const app = createApp({ store });
      const doc = await (await app.request("/openapi.json")).json();
      for (const path of ["/v1/runs", "/v1/runs/batch", "/v1/regressions", "/v1/series"]) {
        assert.ok(path in doc.paths, path);
      }
      const res = await app.request("/v1/nothing");
      assert.equal(res.status, 404);
      assert.equal((await res.json()).error.code, "not_found");
      assert.equal((await app.request("/health")).status, 200);
    });
  },
);

Deno.test("POST /v1/evaluations records a real evaluation report as a run", opts, async () => {
  const mlp = await Deno.readFile(new URL("../../test/fixtures/mnist_mlp.onnx", import.meta.url));
  const report = await evaluateModel(mlp, {
    dataset: await loadDataset("mnist"),
    reference: mlp,
    limit: 100,
    latency: { runs: 5, warmupRuns: 1 },
  });
  await withStore(async (store) => {
    const app = createApp({ store });
    const id = crypto.randomUUID();
    // As scripts/demo.ts sends it: the evaluate service's JSON, "Infinity" as a string.
    const body = {
      id,
      model: "mnist_mlp",
      recipe: { name: "fp32", quantize: null },
      startedAt: "2026-03-01T00:00:00Z",
      commit: "abc",
      branch: "main",
      tags: { source: "test" },
      evaluation: JSON.parse(reportToJson(report)),
      reports: { quantize: { nodes: 3 } },
    };
    assert.match(JSON.stringify(body.evaluation), /"Infinity"/);
    const res = await postJson(app, "/v1/evaluations", body);
    assert.equal(res.status, 201, await res.clone().text());
    assert.equal((await postJson(app, "/v1/evaluations", body)).status, 200);
    const run = await (await app.request(`/v1/runs/${id}`)).json();
    assert.equal(run.recipeName, "fp32");
    assert.deepEqual(run.recipeConfig, { quantize: null });
    assert.deepEqual(run.report, { quantize: { nodes: 3 } });
    assert.equal(run.gitCommit, "abc");
    const metric = (name: string) => run.metrics.find((m: { name: string }) => m.name === name);
    assert.equal(metric("accuracy").value, report.accuracy!.top1);
    assert.equal(metric("size_bytes").value, mlp.length);
    assert.equal(metric("latency_ms").samples.length, 5);
    assert.equal(metric("fidelity_sqnr_db.logits"), undefined); // Infinity: not a point
    const bad = await postJson(app, "/v1/evaluations", { ...body, evaluation: {} });
    assert.equal(bad.status, 400);
    assert.equal((await bad.json()).error.details.field, "evaluation.model");
  });
});
