// The service over a real socket: Deno.serve on port 0, and main.ts as `deno task start` runs it.
import assert from "node:assert/strict";
import { loadDataset } from "@modelpress/evaluate";
import { assertEndlessUploadRefused, cancelJob, pollJob } from "../../test/support/job_client.ts";
import { healthStatus, withMain, withServer } from "../../test/support/serve.ts";
import { createApp } from "./app.ts";
import { pruneInWorker } from "./prune_in_worker.ts";
import { fakeLoadDataset, fakeResult, MLP_PATH, pruningForm } from "./_testing.ts";

const MLP = await Deno.readFile(MLP_PATH);

const fakeApp = (): ReturnType<typeof createApp> =>
  createApp({
    prune: (model, recipe) => Promise.resolve(fakeResult(model, recipe)),
    loadDataset: fakeLoadDataset(),
    limits: { maxBodyBytes: 2 * 1024 * 1024 },
  });

Deno.test("prune service over a socket: health, a direct pruning, its model and report, 404", async () => {
  await withServer(fakeApp(), async (base) => {
    const health = await fetch(`${base}/health`);
    assert.equal((await health.json()).service, "prune");
    const res = await fetch(`${base}/v1/prunings`, {
      method: "POST",
      body: pruningForm({ model: MLP, recipe: { method: "magnitude", sparsity: 0.5 } }),
    });
    const body = await res.json();
    assert.equal(res.status, 200, JSON.stringify(body));
    const download = await fetch(`${base}${body.result.model.url}`);
    assert.equal(download.status, 200);
    assert.equal((await download.arrayBuffer()).byteLength, body.result.model.bytes);
    const report = await fetch(`${base}${body.result.reportUrl}`);
    assert.deepEqual(await report.json(), body.result.report);
    const missing = await fetch(`${base}/v1/prunings/none`);
    assert.equal(missing.status, 404);
    assert.equal((await missing.json()).error.code, "not_found");
  });
});

Deno.test("prune service over a socket: 413 for an endless upload, 415, 400 and 422 keep the error shape", async () => {
  await withServer(fakeApp(), async (base) => {
    await assertEndlessUploadRefused(`${base}/v1/prunings`);
    const json = await fetch(`${base}/v1/prunings`, {
      method: "POST",
      body: "{}",
      headers: { "content-type": "application/json" },
    });
    assert.equal(json.status, 415);
    assert.equal((await json.json()).error.code, "unsupported_media_type");
    const recipe = await fetch(`${base}/v1/prunings`, {
      method: "POST",
      body: pruningForm({ model: MLP, recipe: { method: "magnitude", sparsity: 1 } }),
    });
    assert.equal(recipe.status, 400);
    const error = (await recipe.json()).error;
    assert.equal(error.code, "invalid_recipe");
    assert.match(error.message, /sparsity must be in \[0, 1\), got 1/);
    const invalid = await fetch(`${base}/v1/prunings`, {
      method: "POST",
      body: pruningForm({
        model: new Uint8Array([0xff, 0xff, 0xff]),
        recipe: { method: "magnitude" },
      }),
    });
    assert.equal(invalid.status, 422);
    assert.equal(typeof (await invalid.json()).error.details.offset, "number");
  });
});

Deno.test("prune service over a socket: a Wanda job in a worker shows progress and cancels", async () => {
  const app = createApp({ prune: pruneInWorker, loadDataset, syncMaxModelBytes: 1024 });
  await withServer(app, async (base) => {
    const res = await fetch(`${base}/v1/prunings`, {
      method: "POST",
      body: pruningForm({
        model: MLP,
        // Every MNIST sample one by one: far longer than the test waits.
        recipe: { method: "wanda", sparsity: 0.5, calibration: { samples: 2000, batchSize: 1 } },
        calibration: "mnist",
      }),
    });
    assert.equal(res.status, 202, await res.clone().text());
    const location = `${base}${res.headers.get("location")}`;
    await res.body?.cancel();
    // The first run type-checks the worker's module graph: allow it 2 minutes.
    const progressed = await pollJob(location, (job) => job.progress !== null, 120_000);
    assert.equal(progressed.status, "running", JSON.stringify(progressed));
    assert.equal(progressed.progress.phase, "prune");
    assert.equal(progressed.progress.total, 100);
    assert.ok(progressed.progress.percent < 100);
    const final = await cancelJob(location);
    assert.equal(final.status, "cancelled");
    assert.equal(final.result, undefined);
  });
});

Deno.test("prune service over a socket: an N:M job in a worker succeeds with every layer 2:4", async () => {
  const app = createApp({ prune: pruneInWorker, loadDataset, syncMaxModelBytes: 1024 });
  await withServer(app, async (base) => {
    const res = await fetch(`${base}/v1/prunings`, {
      method: "POST",
      body: pruningForm({ model: MLP, recipe: { method: "nm", pattern: "2:4" } }),
    });
    assert.equal(res.status, 202);
    const location = `${base}${res.headers.get("location")}`;
    await res.body?.cancel();
    const done = await pollJob(location, undefined, 120_000);
    assert.equal(done.status, "succeeded", JSON.stringify(done.error));
    assert.equal(done.progress.percent, 100);
    const layers = done.result.report.layers as { status: string; sparsity: number }[];
    assert.equal(layers.length, 3);
    assert.ok(layers.every((l) => l.status === "pruned" && l.sparsity === 0.5));
    const model = await fetch(`${base}${done.result.model.url}`);
    assert.equal((await model.arrayBuffer()).byteLength, done.result.model.bytes);
  });
});

Deno.test("main.ts serves on PORT and answers /health", async () => {
  await withMain(new URL("./main.ts", import.meta.url), async (base) => {
    const status = await healthStatus(base);
    assert.equal(status, 200);
  });
});
