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
import { validatePruneRecipe } from "@modelpress/prune";
import { createApp, type PruneServiceDeps } from "./app.ts";
import type { PruningResult } from "./routes/prunings.ts";
import { PruneRecipeSchema } from "./schemas.ts";
import { controlledPruner, fakeLoadDataset, fakeResult, MLP_PATH } from "./_testing.ts";

const MLP = await Deno.readFile(MLP_PATH);
const PATH = "/v1/prunings";
const MAGNITUDE = { method: "magnitude", sparsity: 0.5 };

type PruningBody = ModelJobBody<
  { schema: string; totals: { bytes: { before: number; after: number } } }
>;

function appWith(deps: Partial<PruneServiceDeps> = {}): ReturnType<typeof createApp> {
  return createApp({
    prune: (model, recipe) => Promise.resolve(fakeResult(model, recipe)),
    loadDataset: fakeLoadDataset(),
    ...deps,
  });
}

const post = recipePoster(PATH);

Deno.test("GET /health answers 200 naming the prune service", async () => {
  await assertIdleHealth(appWith(), "prune");
});

Deno.test("POST /v1/prunings answers a small model directly with the report, a model URL and a report URL", async () => {
  const app = appWith();
  const body: PruningBody = await assertDirectAnswer(
    app,
    PATH,
    { model: MLP, recipe: MAGNITUDE },
    "mlp.pruned.onnx",
  );
  assert.equal(body.result?.report.totals.bytes.before, MLP.length);
  assert.equal(body.result?.reportUrl, `/v1/prunings/${body.id}/report`);
  const report = await app.request(body.result?.reportUrl ?? "");
  assert.equal(report.status, 200);
  assert.match(report.headers.get("content-type") ?? "", /^application\/json/);
  assert.deepEqual(await report.json(), body.result?.report);
});

Deno.test("POST /v1/prunings passes the validated recipe and calibration data on", async () => {
  const pruner = controlledPruner();
  const loads: [unknown, unknown][] = [];
  const load = fakeLoadDataset();
  const app = appWith({
    prune: pruner.prune,
    loadDataset: (source, options) => {
      loads.push([source, options]);
      return load(source);
    },
  });
  const recipe = {
    method: "wanda",
    sparsity: 0.6,
    calibration: { samples: 64, batchSize: 16 },
    exclude: [{ name: "fc3" }],
    bounds: [{ match: { opType: "Gemm" }, max: 0.8 }],
  };
  const pending = post(app, { model: MLP, recipe, calibration: "mnist" });
  await pruner.started();
  pruner.release();
  assert.equal((await pending).status, 200);
  const call = pruner.calls[0];
  assert.ok(call);
  assert.deepEqual(call.recipe, recipe);
  assert.ok(Object.isFrozen(call.recipe), "validatePruneRecipe's frozen copy");
  assert.equal(call.options.dataset?.name, "mnist");
  assert.ok(call.options.signal instanceof AbortSignal);
  // Calibration on the train split: the test split stays for evaluation.
  assert.deepEqual(loads, [["mnist", { split: "train" }]]);

  // Defaults are filled in by the library: nm's implied sparsity, 0.5 otherwise.
  const nm = controlledPruner();
  const nmApp = appWith({ prune: nm.prune });
  const nmPending = post(nmApp, { model: MLP, recipe: { method: "nm", pattern: "4:8" } });
  await nm.started();
  nm.release();
  assert.equal((await nmPending).status, 200);
  assert.deepEqual(nm.calls[0]?.recipe, { method: "nm", pattern: "4:8", sparsity: 0.5 });
  assert.equal(nm.calls[0]?.options.dataset, undefined);
});

Deno.test("POST /v1/prunings answers 415 to a body that is not multipart/form-data", async () => {
  await assertRefusesJsonBody(appWith(), PATH, MAGNITUDE);
});

Deno.test("POST /v1/prunings answers 400 with validatePruneRecipe's message, naming the field", async () => {
  const app = appWith();
  const cases: [unknown, string, RegExp][] = [
    [{ method: "prune" }, "method", /method must be one of magnitude, random, nm, wanda/],
    [{ sparsity: 0.5 }, "method", /method is required/],
    [{ method: "magnitude", sparsity: 1.2 }, "sparsity", /sparsity must be in \[0, 1\), got 1\.2/],
    [{ method: "magnitude", sparsty: 0.5 }, "sparsty", /unknown field 'sparsty'/], // a typo
    [{ method: "nm", sparsity: 0.3 }, "sparsity", /removes 0\.5, got sparsity 0\.3/],
    [{ method: "wanda", global: true }, "global", /global is only supported by methods/],
    [{ method: "magnitude", importance: "l1" }, "importance", /importance is only used by/],
    [{ method: "magnitude", pattern: "2:4" }, "pattern", /pattern is only used by method 'nm'/],
    [
      { method: "magnitude", bounds: [{ min: 0.6, max: 0.2 }] },
      "bounds[0].min",
      /bounds\[0\]\.min 0\.6 is above max 0\.2/,
    ],
    [
      { method: "magnitude", exclude: [{ pattern: "(" }] },
      "exclude[0].pattern",
      /exclude\[0\]\.pattern is not a regular expression/,
    ],
    [{ method: "magnitude", schedule: { steps: 0 } }, "schedule.steps", /schedule\.steps must/],
    [{ method: "magnitude", calibration: { rows: 2 } }, "calibration.rows", /unknown field/],
    [{ method: "nm", recovery: { batchNorm: true } }, "recovery", /recovery is only used by/],
    [{ method: "channel", recovery: { bn: true } }, "recovery.bn", /unknown field 'recovery\.bn'/],
    [[1, 2], "", /recipe must be an object/],
  ];
  for (const [recipe, field, message] of cases) {
    const error = await errorOf(await post(app, { model: MLP, recipe }), 400);
    assert.equal(error.code, "invalid_recipe", JSON.stringify(error));
    assert.equal(
      error.details?.field,
      field,
      `${JSON.stringify(recipe)}: ${JSON.stringify(error)}`,
    );
    assert.match(error.message, /^Invalid recipe: /);
    assert.match(error.message, message);
  }
  const notJson = await errorOf(await post(app, { model: MLP, recipe: "{" }), 400);
  assert.equal(notJson.details?.field, "recipe");
});

Deno.test("PruneRecipeSchema accepts every field validatePruneRecipe accepts", () => {
  const recipes = [
    MAGNITUDE,
    { method: "magnitude", sparsity: 0.9, global: true, storage: "dense", seed: 3 },
    { method: "random", sparsity: 0.2, global: true, seed: 7, schedule: { steps: 3 } },
    { method: "nm", pattern: "2:4", sparsity: 0.5 },
    { method: "wanda", calibration: { samples: 8, batchSize: 4 } },
    { method: "neuron", importance: "activation", storage: "auto" },
    { method: "neuron", recovery: { batchNorm: true, biasCorrection: false } },
    {
      method: "channel",
      importance: "l1",
      include: [{ opType: "Conv" }],
      exclude: [{ name: "conv1", pattern: "^c" }],
      bounds: [{ match: { opType: "Conv" }, min: 0, max: 0.5 }],
    },
  ];
  for (const recipe of recipes) {
    validatePruneRecipe(recipe);
    const parsed = PruneRecipeSchema.safeParse(recipe);
    assert.ok(parsed.success, `${JSON.stringify(recipe)}: ${parsed.error?.message}`);
  }
});

Deno.test("POST /v1/prunings answers 400 to missing parts, missing or misplaced calibration, unknown fields", async () => {
  const app = appWith();
  await assertRefusesMissingAndUnknownParts(app, PATH, MLP, MAGNITUDE);
  const needs: [unknown, string][] = [
    [{ method: "wanda" }, "method 'wanda'"],
    [{ method: "neuron", importance: "activation" }, "activation importance"],
    [{ method: "channel", recovery: { batchNorm: true } }, "recovery"],
  ];
  for (const [recipe, what] of needs) {
    const noData = await errorOf(await post(app, { model: MLP, recipe }), 400);
    assert.equal(noData.details?.field, "calibration");
    assert.match(noData.message, new RegExp(`${what} needs the 'calibration' field`));
  }
  for (const recipe of [MAGNITUDE, { method: "channel", recovery: { batchNorm: false } }]) {
    const unused = await errorOf(
      await post(app, { model: MLP, recipe, calibration: "mnist" }),
      400,
    );
    assert.match(unused.message, /'calibration' field is only used by method 'wanda'/);
  }
  const unknownName = await errorOf(
    await post(app, { model: MLP, recipe: { method: "wanda" }, calibration: "cifar" }),
    400,
  );
  assert.match(unknownName.message, /unknown built-in dataset 'cifar'/);
});

Deno.test("POST /v1/prunings answers 413 to a part over its limit, and to a large Content-Length unread", async () => {
  const app = appWith({ limits: { maxModelBytes: 1024, maxBodyBytes: 10_000 } });
  await assertUploadLimits(app, PATH, MAGNITUDE);
});

Deno.test("POST /v1/prunings answers 422 with the parser's offset to an invalid model", async () => {
  await assertRefusesInvalidModel(appWith(), PATH, MAGNITUDE);
});

Deno.test("POST /v1/prunings answers 422 to a refused calibration file, a failed pruning, and a model with nothing to prune", async () => {
  const dataset = await errorOf(
    await post(appWith(), {
      model: MLP,
      recipe: { method: "wanda" },
      calibration: new TextEncoder().encode("bad"),
    }),
    422,
  );
  assert.equal(dataset.code, "invalid_dataset");
  assert.equal(dataset.details?.field, "calibration");
  const app = appWith({
    prune: () => Promise.reject(new RangeError("Cannot prune model: bounds cannot meet 0.9")),
  });
  const failed = await errorOf(await post(app, { model: MLP, recipe: MAGNITUDE }), 422);
  assert.equal(failed.code, "pruning_failed");
  assert.match(failed.message, /bounds cannot meet 0\.9/);

  const nothing = appWith({
    prune: (model, recipe) => Promise.resolve(fakeResult(model, recipe, false)),
  });
  const res = await post(nothing, { model: MLP, recipe: { method: "nm" } });
  const unsupported = await errorOf(res, 422);
  assert.equal(unsupported.code, "pruning_failed");
  assert.match(unsupported.message, /^Cannot prune model: no layer can be pruned: /);
  assert.match(unsupported.message, /node 'conv' \(Conv\): its weight is not a constant/);
  assert.deepEqual(unsupported.details?.nodes, [
    { node: "conv", opType: "Conv", reason: "its weight is not a constant" },
    { node: "fc1", opType: "Gemm", reason: "its input length 784 is not a multiple of 3" },
  ]);
  assert.equal(typeof unsupported.details?.pruning, "string");
  // Structured pruning says why per group, and names nodes it cannot see through.
  const structured = appWith({
    prune: (model, recipe) => {
      const { report, ...rest } = fakeResult(model, recipe);
      const groups = [
        { id: 0, sources: ["fc1"], members: [{ node: "fc1", op: "Gemm", role: "source" }] },
        { id: 1, sources: ["fc3"], members: [{ node: "fc3", op: "Gemm", role: "source" }] },
      ].map((g, i) => ({ ...g, units: 8, removed: 0, prunable: i === 0, reason: `why ${i}` }));
      const unsupported = [{ node: "loop", op: "Loop", reason: "channel mapping unclear" }];
      return Promise.resolve({
        ...rest,
        report: { ...report, layers: [], structured: { groups, unsupported } },
      });
    },
  });
  const channel = await errorOf(
    await post(structured, { model: MLP, recipe: { method: "channel" } }),
    422,
  );
  assert.deepEqual(channel.details?.nodes, [
    { node: "fc1", opType: "Gemm", reason: "why 0" },
    { node: "fc3", opType: "Gemm", reason: "why 1" },
    { node: "loop", opType: "Loop", reason: "channel mapping unclear" },
  ]);

  const job = await (await nothing.request(`/v1/prunings/${unsupported.details?.pruning}`))
    .json() as PruningBody;
  assert.equal(job.status, "failed");
  assert.equal(job.error?.code, "pruning_failed");
  assert.equal(
    (await errorOf(await nothing.request(`/v1/prunings/${job.id}/model`), 409))
      .details?.status,
    "failed",
  );
});

Deno.test("POST /v1/prunings answers 202 for large models, which report progress, 409 on download, and cancel", async () => {
  const pruner = controlledPruner();
  const app = appWith({ prune: pruner.prune, syncMaxModelBytes: 1000 });
  const location = await assertRunningJob(app, PATH, { model: MLP, recipe: MAGNITUDE }, {
    runner: pruner,
    progress: { phase: "prune", done: 40, total: 100, percent: 40, samplesPerSecond: 80 },
  });
  const earlyReport = await errorOf(await app.request(`${location}/report`), 409);
  assert.equal(earlyReport.details?.status, "running");
  await assertCancels(app, location);
});

Deno.test("POST /v1/prunings honours Prefer: respond-async; a finished job's cancel is 409", async () => {
  const app = appWith();
  const done = await assertPreferAsync(app, PATH, { model: MLP, recipe: MAGNITUDE });
  assert.equal((await app.request(done.result?.reportUrl ?? "")).status, 200);
});

Deno.test("POST /v1/prunings answers 503 with Retry-After when the queue is full", async () => {
  const pruner = controlledPruner();
  const app = appWith({
    prune: pruner.prune,
    queueOptions: { concurrency: 1, maxQueued: 0, retryAfterSeconds: 7 },
  });
  await assertBusy(app, PATH, { model: MLP, recipe: MAGNITUDE }, {
    runner: pruner,
    jobName: "pruning",
  });
});

Deno.test("GET and DELETE /v1/prunings/{id} answer 404 for unknown, expired and deleted jobs", async () => {
  let now = Date.parse("2025-01-01T00:00:00Z");
  const queue = new JobQueue<PruningResult>({ ttlMs: 60_000, now: () => now });
  await assertJobsExpireAndDelete(appWith({ queue }), PATH, { model: MLP, recipe: MAGNITUDE }, {
    subpaths: ["model", "report"],
    advance: (ms) => (now += ms),
  });
});

Deno.test("GET /openapi.json is an OpenAPI 3.1 document listing every route", async () => {
  await assertModelJobOpenApi(appWith(), PATH, {
    subpaths: ["model", "report"],
    schemas: ["PruneRecipe", "Pruning", "PruneReport", "Error", "SparsityBounds"],
  });
});
