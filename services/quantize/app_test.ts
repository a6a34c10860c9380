import assert from "node:assert/strict";
import {
  assertBusy,
  assertCancels,
  assertDirectAnswer,
  assertIdleHealth,
  assertJobsExpireAndDelete,
  assertModelJobOpenApi,
  assertPreferAsync,
  assertRefusesInvalidModel,
  assertRefusesJsonBody,
  assertRefusesMissingAndUnknownParts,
  assertRunningJob,
  assertUploadLimits,
  errorOf,
  type ModelJobBody,
  recipePoster,
} from "../../test/support/service_checks.ts";
import { JobQueue } from "@modelpress/http";
import { createApp, type QuantizeServiceDeps } from "./app.ts";
import type { QuantizationResult } from "./routes/quantizations.ts";
import { controlledQuantizer, fakeLoadDataset, fakeResult, MLP_PATH } from "./_testing.ts";

const MLP = await Deno.readFile(MLP_PATH);
const PATH = "/v1/quantizations";
const DYNAMIC = { method: "dynamic" };

type QuantizationBody = ModelJobBody<{ size: { before: number; after: number } }>;

function appWith(deps: Partial<QuantizeServiceDeps> = {}): ReturnType<typeof createApp> {
  return createApp({
    quantize: (model, recipe) => Promise.resolve(fakeResult(model, recipe)),
    loadDataset: fakeLoadDataset(),
    ...deps,
  });
}

const post = recipePoster(PATH);

Deno.test("GET /health answers 200 naming the quantize service", async () => {
  await assertIdleHealth(appWith(), "quantize");
});

Deno.test("POST /v1/quantizations answers a small model directly with the report and a model URL", async () => {
  const app = appWith();
  const body: QuantizationBody = await assertDirectAnswer(app, PATH, {
    model: MLP,
    recipe: DYNAMIC,
  }, "mlp.quantized.onnx");
  assert.equal(body.result?.report.size.before, MLP.length);
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
  await assertRefusesJsonBody(appWith(), PATH, DYNAMIC);
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
  await assertRefusesMissingAndUnknownParts(app, PATH, MLP, DYNAMIC);
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
});

Deno.test("POST /v1/quantizations answers 413 to a part over its limit, and to a large Content-Length unread", async () => {
  const app = appWith({ limits: { maxModelBytes: 1024, maxBodyBytes: 10_000 } });
  await assertUploadLimits(app, PATH, DYNAMIC);
});

Deno.test("POST /v1/quantizations answers 422 with the parser's offset to an invalid model", async () => {
  await assertRefusesInvalidModel(appWith(), PATH, DYNAMIC);
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
  const location = await assertRunningJob(app, PATH, { model: MLP, recipe: DYNAMIC }, {
    runner: quantizer,
    progress: { phase: "quantize", done: 3, total: 12, percent: 25, samplesPerSecond: 60 },
  });
  await assertCancels(app, location);
});

Deno.test("POST /v1/quantizations honours Prefer: respond-async; a finished job's cancel is 409", async () => {
  await assertPreferAsync(appWith(), PATH, { model: MLP, recipe: DYNAMIC });
});

Deno.test("POST /v1/quantizations answers 503 with Retry-After when the queue is full", async () => {
  const quantizer = controlledQuantizer();
  const app = appWith({
    quantize: quantizer.quantize,
    queueOptions: { concurrency: 1, maxQueued: 0, retryAfterSeconds: 7 },
  });
  await assertBusy(app, PATH, { model: MLP, recipe: DYNAMIC }, {
    runner: quantizer,
    jobName: "quantization",
  });
});

Deno.test("GET and DELETE /v1/quantizations/{id} answer 404 for unknown, expired and deleted jobs", async () => {
  let now = Date.parse("2025-01-01T00:00:00Z");
  const queue = new JobQueue<QuantizationResult>({ ttlMs: 60_000, now: () => now });
  await assertJobsExpireAndDelete(appWith({ queue }), PATH, { model: MLP, recipe: DYNAMIC }, {
    subpaths: ["model"],
    advance: (ms) => (now += ms),
  });
});

Deno.test("GET /openapi.json is an OpenAPI 3.1 document listing every route", async () => {
  await assertModelJobOpenApi(appWith(), PATH, {
    subpaths: ["model"],
    schemas: ["QuantizeRecipe", "Quantization", "Error", "RangeMethod", "NodeOverride"],
  });
});
