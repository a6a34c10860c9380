import assert from "node:assert/strict";
import { type ErrorBody, errorOf, postForm } from "../../packages/http/_testing.ts";
import { JobQueue } from "@modelpress/http";
import { createApp, type QuantizeServiceDeps } from "./app.ts";
import type { QuantizationResult } from "./routes/quantizations.ts";
import {
  controlledQuantizer,
  fakeLoadDataset,
  fakeResult,
  MLP_PATH,
  pollUntil,
  quantizationForm,
  type QuantizationFormParts,
} from "./_testing.ts";

const MLP = await Deno.readFile(MLP_PATH);

interface QuantizationBody {
  id: string;
  status: string;
  cancelRequested: boolean;
  progress: { phase: string; done: number; total: number; percent: number } | null;
  result?: {
    report: { size: { before: number; after: number } };
    model: { url: string; bytes: number };
  };
  error?: ErrorBody["error"];
}

function appWith(deps: Partial<QuantizeServiceDeps> = {}): ReturnType<typeof createApp> {
  return createApp({
    quantize: (model, recipe) => Promise.resolve(fakeResult(model, recipe)),
    loadDataset: fakeLoadDataset(),
    ...deps,
  });
}

function post(
  app: ReturnType<typeof createApp>,
  parts: QuantizationFormParts,
  headers: Record<string, string> = {},
): Promise<Response> {
  return postForm(app, "/v1/quantizations", quantizationForm(parts), headers);
}

Deno.test("GET /health answers 200 naming the quantize service", async () => {
  const res = await appWith().request("/health");
  assert.equal(res.status, 200);
  assert.deepEqual(await res.json(), {
    status: "ok",
    service: "quantize",
    jobs: { running: 0, queued: 0 },
  });
});

Deno.test("POST /v1/quantizations answers a small model directly with the report and a model URL", async () => {
  const app = appWith();
  const res = await post(app, { model: MLP, recipe: { method: "dynamic" } });
  const body = await res.json() as QuantizationBody;
  assert.equal(res.status, 200, JSON.stringify(body));
  assert.equal(body.status, "succeeded");
  assert.equal(res.headers.get("content-location"), `/v1/quantizations/${body.id}`);
  assert.equal(body.result?.report.size.before, MLP.length);
  const url = body.result?.model.url ?? "";
  assert.equal(url, `/v1/quantizations/${body.id}/model`);
  const download = await app.request(url);
  assert.equal(download.status, 200);
  assert.equal(download.headers.get("content-type"), "application/octet-stream");
  assert.match(download.headers.get("content-disposition") ?? "", /mlp\.quantized\.onnx/);
  const bytes = new Uint8Array(await download.arrayBuffer());
  assert.equal(bytes.length, body.result?.model.bytes);
  assert.deepEqual(bytes, MLP.slice(0, bytes.length));
});

Deno.test("POST /v1/quantizations passes the validated recipe and train-split calibration data on", async () => {
  const quantizer = controlledQuantizer();
  const loads: unknown[] = [];
  const app = appWith({
    quantize: quantizer.quantize,
    loadDataset: (source, options) => {
      loads.push(options);
      return fakeLoadDataset()(source);
    },
  });
  const recipe = {
    method: "static",
    calibration: { method: "percentile", percentile: 99.9, samples: 64 },
    overrides: [{ match: { opType: "Gemm" }, bits: 8, range: { method: "mse", steps: 10 } }],
  };
  const pending = post(app, { model: MLP, recipe, calibration: "mnist" });
  await quantizer.started();
  quantizer.release();
  assert.equal((await pending).status, 200);
  const call = quantizer.calls[0];
  assert.ok(call);
  assert.deepEqual(call.recipe, recipe);
  assert.ok(Object.isFrozen(call.recipe), "validateRecipe's frozen copy");
  assert.equal(call.options.dataset?.name, "mnist");
  assert.deepEqual(loads, [{ split: "train" }], "built-in MNIST calibrates on its train split");
  assert.ok(call.options.signal instanceof AbortSignal);
});

Deno.test("POST /v1/quantizations answers 415 to a body that is not multipart/form-data", async () => {
  const res = await appWith().request("/v1/quantizations", {
    method: "POST",
    body: JSON.stringify({ recipe: { method: "dynamic" } }),
    headers: { "content-type": "application/json" },
  });
  const error = await errorOf(res, 415);
  assert.equal(error.code, "unsupported_media_type");
});

Deno.test("POST /v1/quantizations answers 400 naming the field of a bad recipe", async () => {
  const app = appWith();
  const cases: [unknown, string, RegExp][] = [
    // the zod schema: shapes and types
    [{ method: "float" }, "method", /method/],
    [{ method: "linear", bits: 4.5 }, "bits", /bits/],
    [{ method: "linear", granularty: "block" }, "granularty", /granularty/], // a typo
    [{ method: "linear", range: { method: "percentile", k: 2 } }, "range.k", /range\.k/],
    [
      { method: "linear", overrides: [{ match: { opType: "Conv" }, bits: 1 }] },
      "overrides[0].bits",
      /overrides\[0\]\.bits/,
    ],
    [{ bits: 8 }, "method", /method/],
    // validateRecipe: what depends on several fields
    [{ method: "dynamic", bits: 4 }, "", /dynamic quantization needs 8 bits/],
    [{ method: "linear", bits: 12 }, "bits", /bits must be an integer 2\.\.8 or 16/],
    [{ method: "static" }, "calibration", /needs recipe\.calibration/],
    [
      { method: "linear", calibration: { method: "minmax" } },
      "calibration",
      /only used by method 'static'/,
    ],
    [
      { method: "linear", overrides: [{ match: {} }] },
      "overrides[0].match",
      /needs name, pattern or opType/,
    ],
    [
      { method: "linear", overrides: [{ match: { pattern: "(" } }] },
      "overrides[0].match.pattern",
      /not a regular expression/,
    ],
    [{ method: "log", bits: 2 }, "", /log quantization needs 3\.\.8 bits/],
  ];
  for (const [recipe, field, message] of cases) {
    const error = await errorOf(await post(app, { model: MLP, recipe }), 400);
    assert.equal(error.code, "invalid_recipe", JSON.stringify(error));
    assert.equal(
      error.details?.field,
      field,
      `${JSON.stringify(recipe)}: ${JSON.stringify(error)}`,
    );
    assert.match(error.message, message);
  }
  const notJson = await errorOf(await post(app, { model: MLP, recipe: "{" }), 400);
  assert.equal(notJson.details?.field, "recipe");
});

Deno.test("POST /v1/quantizations answers 400 to missing parts, misplaced calibration, unknown fields", async () => {
  const app = appWith();
  const noModel = await errorOf(await post(app, { recipe: { method: "dynamic" } }), 400);
  assert.equal(noModel.details?.field, "model");
  const noRecipe = await errorOf(await post(app, { model: MLP }), 400);
  assert.equal(noRecipe.details?.field, "recipe");
  const staticRecipe = { method: "static", calibration: { method: "minmax" } };
  const noData = await errorOf(await post(app, { model: MLP, recipe: staticRecipe }), 400);
  assert.equal(noData.details?.field, "calibration");
  const unused = await errorOf(
    await post(app, { model: MLP, recipe: { method: "dynamic" }, calibration: "mnist" }),
    400,
  );
  assert.match(unused.message, /only used by method 'static'/);
  const unknownName = await errorOf(
    await post(app, { model: MLP, recipe: staticRecipe, calibration: "cifar" }),
    400,
  );
  assert.match(unknownName.message, /unknown built-in dataset 'cifar'/);
  const form = quantizationForm({ model: MLP, recipe: { method: "dynamic" } });
  form.set("options", "{}");
  const extra = await errorOf(
    await app.request("/v1/quantizations", { method: "POST", body: form }),
    400,
  );
  assert.match(extra.message, /unknown form field 'options'/);
});

Deno.test("POST /v1/quantizations answers 413 to a part over its limit, and to a large Content-Length unread", async () => {
  const app = appWith({ limits: { maxModelBytes: 1024, maxBodyBytes: 10_000 } });
  const part = await errorOf(
    await post(app, { model: new Uint8Array(4096), recipe: { method: "dynamic" } }),
    413,
  );
  assert.equal(part.code, "payload_too_large");
  assert.deepEqual(part.details, { part: "model", limitBytes: 1024 });
  let pulled = 0;
  const body = new ReadableStream<Uint8Array>({
    pull(controller) {
      pulled++;
      controller.enqueue(new Uint8Array(1024));
    },
  });
  const res = await app.request("/v1/quantizations", {
    method: "POST",
    body,
    headers: { "content-type": "multipart/form-data; boundary=x", "content-length": "99999999" },
  });
  const whole = await errorOf(res, 413);
  assert.equal(whole.details?.limitBytes, 10_000);
  assert.ok(pulled <= 1, `pulled ${pulled} chunks`);
});

Deno.test("POST /v1/quantizations answers 422 with the parser's offset to an invalid model", async () => {
  const garbage = new Uint8Array([0x08, 0x07, 0x12, 0xff, 0xff, 0xff]);
  const error = await errorOf(
    await post(appWith(), { model: garbage, recipe: { method: "dynamic" } }),
    422,
  );
  assert.equal(error.code, "invalid_model");
  assert.equal(error.details?.field, "model");
  assert.equal(typeof error.details?.offset, "number");
  assert.match(error.message, new RegExp(`at byte ${error.details?.offset}: `));
});

Deno.test("POST /v1/quantizations answers 422 to a calibration file the loader refuses, and to a failed quantization", async () => {
  const staticRecipe = { method: "static", calibration: { method: "minmax" } };
  const dataset = await errorOf(
    await post(appWith(), {
      model: MLP,
      recipe: staticRecipe,
      calibration: new TextEncoder().encode("bad"),
    }),
    422,
  );
  assert.equal(dataset.code, "invalid_dataset");
  assert.equal(dataset.details?.field, "calibration");
  const app = appWith({
    quantize: () => Promise.reject(new TypeError("Cannot quantize model: it has no graph")),
  });
  const failed = await errorOf(await post(app, { model: MLP, recipe: { method: "dynamic" } }), 422);
  assert.equal(failed.code, "quantization_failed");
  assert.match(failed.message, /no graph/);
});

Deno.test("POST /v1/quantizations answers 202 for large models, which report progress, 409 on download, and cancel", async () => {
  const quantizer = controlledQuantizer();
  const app = appWith({ quantize: quantizer.quantize, syncMaxModelBytes: 1000 });
  const res = await post(app, { model: MLP, recipe: { method: "dynamic" } });
  assert.equal(res.status, 202);
  const location = res.headers.get("location") ?? "";
  const created = await res.json() as QuantizationBody;
  assert.equal(location, `/v1/quantizations/${created.id}`);
  await quantizer.started();
  const running = await (await app.request(location)).json() as QuantizationBody;
  assert.equal(running.status, "running");
  assert.deepEqual(running.progress, {
    phase: "quantize",
    done: 3,
    total: 12,
    percent: 25,
    samplesPerSecond: 60,
  });
  const early = await errorOf(await app.request(`${location}/model`), 409);
  assert.equal(early.details?.status, "running");
  const cancel = await app.request(`${location}/cancel`, { method: "POST" });
  assert.ok(cancel.status === 200 || cancel.status === 202, String(cancel.status));
  assert.equal((await cancel.json() as QuantizationBody).cancelRequested, true);
  const final = await pollUntil(async () => {
    const body = await (await app.request(location)).json() as QuantizationBody;
    return body.status === "running" ? undefined : body;
  });
  assert.equal(final.status, "cancelled");
  assert.equal(final.result, undefined);
  const none = await errorOf(await app.request(`${location}/model`), 409);
  assert.equal(none.details?.status, "cancelled");
});

Deno.test("POST /v1/quantizations honours Prefer: respond-async; a finished job's cancel is 409", async () => {
  const app = appWith();
  const res = await post(app, { model: MLP, recipe: { method: "dynamic" } }, {
    prefer: "respond-async",
  });
  assert.equal(res.status, 202);
  const location = res.headers.get("location") ?? "";
  const done = await pollUntil(async () => {
    const body = await (await app.request(location)).json() as QuantizationBody;
    return body.status === "succeeded" ? body : undefined;
  });
  assert.equal((await app.request(done.result?.model.url ?? "")).status, 200);
  const conflict = await errorOf(await app.request(`${location}/cancel`, { method: "POST" }), 409);
  assert.equal(conflict.code, "conflict");
});

Deno.test("POST /v1/quantizations answers 503 with Retry-After when the queue is full", async () => {
  const quantizer = controlledQuantizer();
  const app = appWith({
    quantize: quantizer.quantize,
    queueOptions: { concurrency: 1, maxQueued: 0, retryAfterSeconds: 7 },
  });
  const first = await post(app, { model: MLP, recipe: { method: "dynamic" } }, {
    prefer: "respond-async",
  });
  assert.equal(first.status, 202);
  await quantizer.started();
  const busy = await post(app, { model: MLP, recipe: { method: "dynamic" } });
  const error = await errorOf(busy, 503);
  assert.equal(error.code, "busy");
  assert.match(error.message, /Cannot start quantization/);
  assert.equal(busy.headers.get("retry-after"), "7");
  quantizer.release();
});

Deno.test("GET and DELETE /v1/quantizations/{id} answer 404 for unknown, expired and deleted jobs", async () => {
  let now = Date.parse("2025-01-01T00:00:00Z");
  const queue = new JobQueue<QuantizationResult>({ ttlMs: 60_000, now: () => now });
  const app = appWith({ queue });
  const unknown = await errorOf(await app.request("/v1/quantizations/nope"), 404);
  assert.equal(unknown.code, "not_found");
  assert.match(unknown.message, /'nope'/);
  await errorOf(await app.request("/v1/quantizations/nope/model"), 404);
  const { id } = await (await post(app, { model: MLP, recipe: { method: "dynamic" } }))
    .json() as QuantizationBody;
  assert.equal((await app.request(`/v1/quantizations/${id}`)).status, 200);
  now += 60_000;
  await errorOf(await app.request(`/v1/quantizations/${id}/model`), 404);
  const second = await (await post(app, { model: MLP, recipe: { method: "dynamic" } }))
    .json() as QuantizationBody;
  const del = await app.request(`/v1/quantizations/${second.id}`, { method: "DELETE" });
  assert.equal(del.status, 204);
  await errorOf(await app.request(`/v1/quantizations/${second.id}`), 404);
  await errorOf(await app.request(`/v1/quantizations/${second.id}`, { method: "DELETE" }), 404);
  assert.equal((await errorOf(await app.request("/v2/nothing"), 404)).code, "not_found");
});

Deno.test("GET /openapi.json is an OpenAPI 3.1 document listing every route", async () => {
  const res = await appWith().request("/openapi.json");
  assert.equal(res.status, 200);
  const doc = await res.json() as {
    openapi: string;
    paths: Record<string, Record<string, { responses: Record<string, unknown> }>>;
    components: { schemas: Record<string, unknown> };
  };
  assert.equal(doc.openapi, "3.1.0");
  assert.deepEqual(Object.keys(doc.paths).sort(), [
    "/health",
    "/v1/quantizations",
    "/v1/quantizations/{id}",
    "/v1/quantizations/{id}/cancel",
    "/v1/quantizations/{id}/model",
  ]);
  assert.deepEqual(Object.keys(doc.paths["/v1/quantizations"] ?? {}), ["post"]);
  assert.deepEqual(Object.keys(doc.paths["/v1/quantizations/{id}"] ?? {}).sort(), [
    "delete",
    "get",
  ]);
  assert.deepEqual(
    Object.keys(doc.paths["/v1/quantizations"]?.post?.responses ?? {}).sort(),
    ["200", "202", "400", "413", "415", "422", "503"],
  );
  assert.deepEqual(
    Object.keys(doc.paths["/v1/quantizations/{id}/model"]?.get?.responses ?? {}).sort(),
    ["200", "404", "409"],
  );
  for (const name of ["QuantizeRecipe", "Quantization", "Error", "RangeMethod", "NodeOverride"]) {
    assert.ok(name in doc.components.schemas, `schema ${name}`);
  }
});
