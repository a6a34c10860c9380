// The service over a real socket: Deno.serve on port 0, and main.ts as `deno task start` runs it.
import assert from "node:assert/strict";
import { loadDataset } from "@modelpress/evaluate";
import { createApp } from "./app.ts";
import { evaluateInWorker } from "./evaluate_in_worker.ts";
import { evaluationForm, fakeLoadDataset, fakeReport, MLP_PATH } from "./_testing.ts";
import { assertEndlessUploadRefused } from "../../test/support/job_client.ts";
import { healthStatus, withMain, withServer } from "../../test/support/serve.ts";

const MLP = await Deno.readFile(MLP_PATH);

const fakeApp = (): ReturnType<typeof createApp> =>
  createApp({
    evaluate: (model) => Promise.resolve(fakeReport(model.length)),
    loadDataset: fakeLoadDataset(),
    limits: { maxBodyBytes: 64 * 1024 },
  });

Deno.test("evaluate service over a socket: health, a direct evaluation, 404 JSON", async () => {
  await withServer(fakeApp(), async (base) => {
    const health = await fetch(`${base}/health`);
    assert.equal(health.status, 200);
    assert.equal((await health.json()).status, "ok");
    const small = new Uint8Array(0); // zero bytes decode as an empty ONNX model
    const res = await fetch(`${base}/v1/evaluations`, {
      method: "POST",
      body: evaluationForm({ model: small, dataset: "mnist" }),
    });
    assert.equal(res.status, 200, await res.clone().text());
    assert.equal((await res.json()).status, "succeeded");
    const missing = await fetch(`${base}/v1/evaluations/none`);
    assert.equal(missing.status, 404);
    assert.equal((await missing.json()).error.code, "not_found");
  });
});

Deno.test("evaluate service over a socket: 413 for a body over the limit, streamed", async () => {
  await withServer(fakeApp(), async (base) => {
    await assertEndlessUploadRefused(`${base}/v1/evaluations`);
  });
});

Deno.test("evaluate service over a socket: 415 and 422 keep the error shape", async () => {
  await withServer(fakeApp(), async (base) => {
    const json = await fetch(`${base}/v1/evaluations`, {
      method: "POST",
      body: "{}",
      headers: { "content-type": "application/json" },
    });
    assert.equal(json.status, 415);
    assert.equal((await json.json()).error.code, "unsupported_media_type");
    const invalid = await fetch(`${base}/v1/evaluations`, {
      method: "POST",
      body: evaluationForm({ model: new Uint8Array([0xff, 0xff, 0xff]), dataset: "mnist" }),
    });
    assert.equal(invalid.status, 422);
    const error = (await invalid.json()).error;
    assert.equal(error.code, "invalid_model");
    assert.equal(typeof error.details.offset, "number");
  });
});

Deno.test("evaluate service over a socket: the real evaluator in a worker, and OpenAPI", async () => {
  const app = createApp({ evaluate: evaluateInWorker, loadDataset });
  await withServer(app, async (base) => {
    const res = await fetch(`${base}/v1/evaluations`, {
      method: "POST",
      body: evaluationForm({
        model: MLP,
        reference: MLP,
        dataset: "mnist",
        options: { limit: 100, latency: { runs: 3 } },
      }),
    });
    const body = await res.json();
    assert.equal(res.status, 200, JSON.stringify(body));
    assert.equal(body.result.fidelity.logits.top1Agreement, 1);
    const doc = await (await fetch(`${base}/openapi.json`)).json();
    assert.ok("/v1/evaluations" in doc.paths);
  });
});

Deno.test("main.ts serves on PORT and answers /health", async () => {
  await withMain(new URL("./main.ts", import.meta.url), async (base) => {
    const status = await healthStatus(base);
    assert.equal(status, 200);
  });
});
