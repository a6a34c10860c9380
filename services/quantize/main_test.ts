// The service over a real socket: Deno.serve on port 0, and main.ts as `deno task start` runs it.
import assert from "node:assert/strict";
import { loadDataset } from "@modelpress/evaluate";
import { assertEndlessUploadRefused, cancelJob, pollJob } from "../../test/support/job_client.ts";
import { healthStatus, withMain, withServer } from "../../test/support/serve.ts";
import { createApp } from "./app.ts";
import { quantizeInWorker } from "./quantize_in_worker.ts";
import { fakeLoadDataset, fakeResult, MLP_PATH, quantizationForm } from "./_testing.ts";

const MLP = await Deno.readFile(MLP_PATH);
const CNN = await Deno.readFile(new URL("../../test/fixtures/mnist_cnn.onnx", import.meta.url));

const fakeApp = (): ReturnType<typeof createApp> =>
  createApp({
    quantize: (model, recipe) => Promise.resolve(fakeResult(model, recipe)),
    loadDataset: fakeLoadDataset(),
    limits: { maxBodyBytes: 2 * 1024 * 1024 },
  });

Deno.test("quantize service over a socket: health, a direct quantization and its download, 404", async () => {
  await withServer(fakeApp(), async (base) => {
    const health = await fetch(`${base}/health`);
    assert.equal((await health.json()).service, "quantize");
    const res = await fetch(`${base}/v1/quantizations`, {
      method: "POST",
      body: quantizationForm({ model: MLP, recipe: { method: "linear", bits: 8 } }),
    });
    const body = await res.json();
    assert.equal(res.status, 200, JSON.stringify(body));
    const download = await fetch(`${base}${body.result.model.url}`);
    assert.equal(download.status, 200);
    assert.equal((await download.arrayBuffer()).byteLength, body.result.model.bytes);
    const missing = await fetch(`${base}/v1/quantizations/none`);
    assert.equal(missing.status, 404);
    assert.equal((await missing.json()).error.code, "not_found");
  });
});

Deno.test("quantize service over a socket: 413 for an endless upload, 415, 400 and 422 keep the error shape", async () => {
  await withServer(fakeApp(), async (base) => {
    await assertEndlessUploadRefused(`${base}/v1/quantizations`);
    const json = await fetch(`${base}/v1/quantizations`, {
      method: "POST",
      body: "{}",
      headers: { "content-type": "application/json" },
    });
    assert.equal(json.status, 415);
    assert.equal((await json.json()).error.code, "unsupported_media_type");
    const recipe = await fetch(`${base}/v1/quantizations`, {
      method: "POST",
      body: quantizationForm({ model: MLP, recipe: { method: "dynamic", bits: 4 } }),
    });
    assert.equal(recipe.status, 400);
    assert.equal((await recipe.json()).error.code, "invalid_recipe");
    const invalid = await fetch(`${base}/v1/quantizations`, {
      method: "POST",
      body: quantizationForm({
        model: new Uint8Array([0xff, 0xff, 0xff]),
        recipe: { method: "dynamic" },
      }),
    });
    assert.equal(invalid.status, 422);
    assert.equal(typeof (await invalid.json()).error.details.offset, "number");
  });
});

Deno.test("quantize service over a socket: a static quantization job in a worker shows calibration progress and cancels", async () => {
  const app = createApp({ quantize: quantizeInWorker, loadDataset, syncMaxModelBytes: 1024 });
  await withServer(app, async (base) => {
    const res = await fetch(`${base}/v1/quantizations`, {
      method: "POST",
      body: quantizationForm({
        model: CNN,
        // Every MNIST sample, one histogram pass each: far longer than the test waits.
        recipe: { method: "static", calibration: { method: "entropy", samples: 2000 } },
        calibration: "mnist",
      }),
    });
    assert.equal(res.status, 202, await res.clone().text());
    const location = `${base}${res.headers.get("location")}`;
    await res.body?.cancel();
    // The first run type-checks the worker's module graph: allow it 2 minutes.
    const progressed = await pollJob(
      location,
      (job) => job.progress !== null && job.progress.done > 0,
      120_000,
    );
    assert.equal(progressed.status, "running", JSON.stringify(progressed));
    assert.equal(progressed.progress.phase, "calibration");
    assert.equal(progressed.progress.total, 2000);
    assert.ok(progressed.progress.percent > 0 && progressed.progress.percent < 100);
    const final = await cancelJob(location);
    assert.equal(final.status, "cancelled");
    assert.equal(final.result, undefined);
    const doc = await (await fetch(`${base}/openapi.json`)).json();
    assert.ok("/v1/quantizations/{id}/model" in doc.paths);
  });
});

Deno.test("main.ts serves on PORT and answers /health", async () => {
  await withMain(new URL("./main.ts", import.meta.url), async (base) => {
    const status = await healthStatus(base);
    assert.equal(status, 200);
  });
});
