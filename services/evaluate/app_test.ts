import assert from "node:assert/strict";
import {
  assertBusy,
  assertCancels,
  assertContentLengthLimit,
  assertIdleHealth,
  assertModelJobOpenApi,
  assertRefusesJsonBody,
  assertRunningJob,
  type ErrorBody,
  errorOf,
} from "../../test/support/service_checks.ts";
import { JobQueue } from "@modelpress/http";
import {
  appWith,
  controlledEvaluator,
  evaluationForm,
  fakeLoadDataset,
  MLP_PATH,
  PATH,
  pollUntil,
  post,
} from "./_testing.ts";
import type { EvaluationReport } from "@modelpress/evaluate";

const MLP = await Deno.readFile(MLP_PATH);

interface EvaluationBody {
  id: string;
  status: string;
  cancelRequested: boolean;
  progress: { phase: string; done: number; total: number; percent: number } | null;
  result?: { size: { fileBytes: number } };
  error?: ErrorBody["error"];
}

Deno.test("GET /health answers 200 with the queue's load", async () => {
  await assertIdleHealth(appWith(), "evaluate");
});

Deno.test("POST /v1/evaluations answers a small job directly with 200 and the report", async () => {
  const res = await post(appWith(), { model: MLP, dataset: "mnist", options: { limit: 10 } });
  assert.equal(res.status, 200);
  const body = await res.json() as EvaluationBody;
  assert.equal(body.status, "succeeded");
  assert.equal(body.result?.size.fileBytes, MLP.length);
  assert.equal(res.headers.get("content-location"), `/v1/evaluations/${body.id}`);
});

Deno.test("POST /v1/evaluations passes validated options on to the evaluator", async () => {
  const evaluator = controlledEvaluator();
  const app = appWith({ evaluate: evaluator.evaluate });
  const pending = post(app, {
    model: MLP,
    reference: MLP,
    dataset: "mnist",
    options: { batchSize: 7, topK: [3], limit: 20, latency: { runs: 4, warmupRuns: 1 } },
  });
  await evaluator.started();
  evaluator.release();
  assert.equal((await pending).status, 200);
  const options = evaluator.calls[0];
  assert.ok(options);
  assert.equal(options.batchSize, 7);
  assert.deepEqual(options.topK, [3]);
  assert.equal(options.limit, 20);
  assert.deepEqual(options.latency, { runs: 4, warmupRuns: 1 });
  assert.equal(options.reference?.length, MLP.length);
  assert.equal(options.dataset?.name, "mnist");
  assert.ok(options.signal instanceof AbortSignal);
});

Deno.test("POST /v1/evaluations answers 415 to a body that is not multipart/form-data", async () => {
  await assertRefusesJsonBody(appWith(), PATH, { limit: 10 });
});

Deno.test("POST /v1/evaluations answers 400 naming the field path of a bad option", async () => {
  const app = appWith();
  const cases: [unknown, string, RegExp][] = [
    [{ latency: { runs: 0 } }, "latency.runs", /latency\.runs/],
    [{ batchSize: 1.5 }, "batchSize", /batchSize/],
    [{ topK: [5, -1] }, "topK[1]", /topK\[1\]/],
    [{ batchsize: 8 }, "batchsize", /batchsize/], // a typo is not silently ignored
    [{ split: "validation" }, "split", /split/],
  ];
  for (const [options, field, message] of cases) {
    const error = await errorOf(await post(app, { model: MLP, dataset: "mnist", options }), 400);
    assert.equal(error.code, "invalid_options");
    assert.equal(error.details?.field, field, JSON.stringify(error));
    assert.match(error.message, message);
  }
  const notJson = await errorOf(
    await post(app, { model: MLP, dataset: "mnist", options: "{" }),
    400,
  );
  assert.equal(notJson.details?.field, "options");
});

Deno.test("POST /v1/evaluations answers 400 to a missing model or dataset and unknown fields", async () => {
  const app = appWith();
  const noModel = await errorOf(await post(app, { dataset: "mnist" }), 400);
  assert.equal(noModel.details?.field, "model");
  const noDataset = await errorOf(await post(app, { model: MLP }), 400);
  assert.equal(noDataset.details?.field, "dataset");
  const unknownName = await errorOf(await post(app, { model: MLP, dataset: "cifar" }), 400);
  assert.match(unknownName.message, /unknown built-in dataset 'cifar'/);
  const form = evaluationForm({ model: MLP, dataset: "mnist" });
  form.set("extra", "1");
  const extra = await errorOf(
    await app.request("/v1/evaluations", { method: "POST", body: form }),
    400,
  );
  assert.match(extra.message, /unknown form field 'extra'/);
});

Deno.test("POST /v1/evaluations answers 413 to a part over its limit", async () => {
  const app = appWith({ limits: { maxModelBytes: 1024 } });
  const error = await errorOf(
    await post(app, { model: new Uint8Array(4096), dataset: "mnist" }),
    413,
  );
  assert.equal(error.code, "payload_too_large");
  assert.deepEqual(error.details, { part: "model", limitBytes: 1024 });
});

Deno.test("POST /v1/evaluations answers 413 to a Content-Length over the limit without reading", async () => {
  await assertContentLengthLimit(appWith({ limits: { maxBodyBytes: 10_000 } }), PATH);
});

Deno.test("POST /v1/evaluations stops reading an endless chunked upload at the limit", async () => {
  let pulled = 0;
  const body = new ReadableStream<Uint8Array>({
    pull(controller) {
      pulled++;
      controller.enqueue(new Uint8Array(1024).fill(0x61));
    },
  });
  const res = await appWith({ limits: { maxBodyBytes: 10_000 } }).request("/v1/evaluations", {
    method: "POST",
    body,
    headers: { "content-type": "multipart/form-data; boundary=x" },
  });
  await errorOf(res, 413);
  assert.ok(pulled <= 12, `read ${pulled} KiB for a 10,000-byte limit`);
});

Deno.test("POST /v1/evaluations answers 422 with the parser's message and offset to an invalid model", async () => {
  const app = appWith();
  const garbage = new Uint8Array([0x08, 0x07, 0x12, 0xff, 0xff, 0xff]);
  const error = await errorOf(await post(app, { model: garbage, dataset: "mnist" }), 422);
  assert.equal(error.code, "invalid_model");
  assert.equal(error.details?.field, "model");
  assert.equal(typeof error.details?.offset, "number");
  assert.match(error.message, new RegExp(`at byte ${error.details?.offset}: `));
  const reference = await errorOf(
    await post(app, { model: MLP, reference: MLP.subarray(0, 1000), dataset: "mnist" }),
    422,
  );
  assert.equal(reference.details?.field, "reference");
});

Deno.test("POST /v1/evaluations answers 422 to a dataset the loader refuses", async () => {
  const error = await errorOf(
    await post(appWith(), { model: MLP, dataset: new TextEncoder().encode("bad") }),
    422,
  );
  assert.equal(error.code, "invalid_dataset");
  assert.match(error.message, /not an NPZ/);
});

Deno.test("POST /v1/evaluations answers 422 when a direct evaluation fails", async () => {
  const app = appWith({
    evaluate: () => Promise.reject(new TypeError("Cannot evaluate model: input 'x' is missing")),
  });
  const error = await errorOf(await post(app, { model: MLP, dataset: "mnist" }), 422);
  assert.equal(error.code, "evaluation_failed");
  assert.match(error.message, /input 'x' is missing/);
});

Deno.test("POST /v1/evaluations answers 202 with a Location for large jobs, which report progress and can be cancelled", async () => {
  const evaluator = controlledEvaluator();
  const app = appWith({
    evaluate: evaluator.evaluate,
    loadDataset: fakeLoadDataset(5000),
    syncMaxInferences: 1000,
  });
  const form = evaluationForm({ model: MLP, dataset: "mnist", options: { latency: false } });
  const location = await assertRunningJob(app, PATH, form, {
    runner: evaluator,
    progress: { phase: "accuracy", done: 5, total: 10, percent: 50, samplesPerSecond: 250 },
    subpaths: [],
  });
  await assertCancels(app, location, []);
  const again = await errorOf(await app.request(`${location}/cancel`, { method: "POST" }), 409)
    .catch(() => undefined);
  // A cancelled job may be cancelled again (idempotent); only finished ones are a conflict.
  assert.equal(again, undefined);
});

Deno.test("POST /v1/evaluations honours Prefer: respond-async for small jobs", async () => {
  const app = appWith();
  const res = await post(app, { model: MLP, dataset: "mnist" }, { prefer: "respond-async" });
  assert.equal(res.status, 202);
  const location = res.headers.get("location") ?? "";
  const done = await pollUntil(async () => {
    const body = await (await app.request(location)).json() as EvaluationBody;
    return body.status === "succeeded" ? body : undefined;
  });
  assert.equal(done.result?.size.fileBytes, MLP.length);
  const conflict = await errorOf(await app.request(`${location}/cancel`, { method: "POST" }), 409);
  assert.equal(conflict.code, "conflict");
});

Deno.test("POST /v1/evaluations answers 503 with Retry-After when the queue is full", async () => {
  const evaluator = controlledEvaluator();
  const app = appWith({
    evaluate: evaluator.evaluate,
    queueOptions: { concurrency: 1, maxQueued: 0, retryAfterSeconds: 7 },
  });
  const location = await assertBusy(app, PATH, evaluationForm({ model: MLP, dataset: "mnist" }), {
    runner: evaluator,
    jobName: "evaluation",
  });
  await pollUntil(async () => {
    const body = await (await app.request(location)).json() as EvaluationBody;
    return body.status === "succeeded" ? body : undefined;
  });
  const next = post(app, { model: MLP, dataset: "mnist" });
  await evaluator.started();
  evaluator.release();
  assert.equal((await next).status, 200, "a slot is free again");
});

Deno.test("GET /v1/evaluations/{id} answers 404 for unknown and expired jobs", async () => {
  let now = Date.parse("2025-01-01T00:00:00Z");
  const queue = new JobQueue<EvaluationReport>({ ttlMs: 60_000, now: () => now });
  const app = appWith({ queue });
  const unknown = await errorOf(await app.request("/v1/evaluations/nope"), 404);
  assert.equal(unknown.code, "not_found");
  assert.match(unknown.message, /'nope'/);
  const res = await post(app, { model: MLP, dataset: "mnist" });
  const { id } = await res.json() as EvaluationBody;
  const kept = await app.request(`/v1/evaluations/${id}`);
  assert.equal(kept.status, 200);
  assert.equal((await kept.json() as { expiresAt: string }).expiresAt, "2025-01-01T00:01:00.000Z");
  now += 60_000;
  await errorOf(await app.request(`/v1/evaluations/${id}`), 404);
});

Deno.test("DELETE /v1/evaluations/{id} forgets a job; unknown routes answer 404 JSON", async () => {
  const app = appWith();
  const { id } = await (await post(app, { model: MLP, dataset: "mnist" })).json() as EvaluationBody;
  assert.equal((await app.request(`/v1/evaluations/${id}`, { method: "DELETE" })).status, 204);
  await errorOf(await app.request(`/v1/evaluations/${id}`), 404);
  await errorOf(await app.request(`/v1/evaluations/${id}`, { method: "DELETE" }), 404);
  await errorOf(await app.request(`/v1/evaluations/${id}/cancel`, { method: "POST" }), 404);
  const route = await errorOf(await app.request("/v2/nothing"), 404);
  assert.equal(route.code, "not_found");
});

Deno.test("GET /openapi.json is an OpenAPI 3.1 document listing every route", async () => {
  await assertModelJobOpenApi(appWith(), PATH, {
    subpaths: [],
    schemas: ["EvaluationOptions", "Evaluation", "Error", "LatencyOptions"],
  });
});
