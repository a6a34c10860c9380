import assert from "node:assert/strict";
import { OpenAPIHono, z } from "@hono/zod-openapi";
import { JobQueue } from "./job_queue.ts";
import {
  addModelDownloadRoute,
  answersDirectly,
  DEFAULT_RECIPE_UPLOAD_LIMITS,
  DEFAULT_SYNC_MAX_MODEL_BYTES,
  describeSubmitRoute,
  modelJobDocs,
  modelJobErrorDescriptions,
  type ModelJobResult,
  modelJobRoutesContext,
  modelJobView,
} from "./model_job_routes.ts";
import { errorResponsesFor } from "./schemas.ts";

const errorResponses = errorResponsesFor(modelJobErrorDescriptions("It failed"));

Deno.test("modelJobRoutesContext() fills in the default limits and threshold", () => {
  const queue = new JobQueue<ModelJobResult>();
  const loadDataset = (): void => {};
  const context = modelJobRoutesContext({ loadDataset, limits: { maxRecipeBytes: 10 } }, queue);
  assert.equal(context.queue, queue);
  assert.equal(context.loadDataset, loadDataset);
  assert.deepEqual(context.limits, { ...DEFAULT_RECIPE_UPLOAD_LIMITS, maxRecipeBytes: 10 });
  assert.ok(Object.isFrozen(context.limits));
  assert.equal(context.syncMaxModelBytes, DEFAULT_SYNC_MAX_MODEL_BYTES);
  assert.equal(
    modelJobRoutesContext({ loadDataset, syncMaxModelBytes: 5 }, queue).syncMaxModelBytes,
    5,
  );
});

Deno.test("modelJobErrorDescriptions() and modelJobDocs() word a model job service's routes", () => {
  const table = modelJobErrorDescriptions("Invalid model");
  assert.deepEqual(Object.keys(table), ["400", "404", "409", "413", "415", "422", "503"]);
  assert.equal(table[422], "Invalid model");
  const docs = modelJobDocs("pruning");
  assert.equal(docs.get, "Status, progress and result of a pruning");
  assert.equal(docs.delete, "Cancel a pruning if it runs, and forget it (and its model)");
});

Deno.test("modelJobView() shows the report and the model's URL, never its bytes", () => {
  const snapshot = {
    id: "a",
    status: "succeeded" as const,
    cancelRequested: false,
    createdAt: "t",
    startedAt: null,
    finishedAt: null,
    expiresAt: null,
    progress: null,
  };
  assert.deepEqual(modelJobView("/v1/x", snapshot), snapshot);
  const result = { model: new Uint8Array(3), filename: "m.onnx", report: { n: 1 } };
  assert.deepEqual(modelJobView("/v1/x", { ...snapshot, result }, { reportUrl: "/r" }), {
    ...snapshot,
    result: { report: { n: 1 }, model: { url: "/v1/x/a/model", bytes: 3 }, reportUrl: "/r" },
  });
});

Deno.test("answersDirectly() waits for small models unless the client prefers async", async () => {
  const app = new OpenAPIHono().post("/", (c) => c.json(answersDirectly(c, 10, 10)));
  assert.equal(await (await app.request("/", { method: "POST" })).json(), true);
  const asyncRes = await app.request("/", { method: "POST", headers: { prefer: "respond-async" } });
  assert.equal(await asyncRes.json(), false);
  const big = new OpenAPIHono().post("/", (c) => c.json(answersDirectly(c, 11, 10)));
  assert.equal(await (await big.request("/", { method: "POST" })).json(), false);
});

Deno.test("describeSubmitRoute() and addModelDownloadRoute() describe and serve the routes", async () => {
  const app = new OpenAPIHono();
  const queue = new JobQueue<ModelJobResult>();
  const schema = z.object({ id: z.string() });
  describeSubmitRoute(app, {
    path: "/v1/x",
    summary: "Do x",
    description: "Does x.",
    form: z.object({ model: z.string() }),
    schema,
    jobName: "x",
    errorResponses,
  });
  const routes = {
    queue,
    path: "/v1/x",
    jobName: "x",
    failedCode: "pruning_failed" as const,
    schema,
    errorResponses,
    docs: modelJobDocs("x"),
  };
  addModelDownloadRoute(app, routes, { summary: "Download", description: "The model" });
  const job = queue.submit(() =>
    Promise.resolve({ model: new Uint8Array([1, 2]), filename: "m.x.onnx", report: {} })
  );
  await job.finished;
  const res = await app.request(`/v1/x/${job.id}/model`);
  assert.equal(res.status, 200);
  assert.equal(res.headers.get("content-disposition"), 'attachment; filename="m.x.onnx"');
  assert.deepEqual(new Uint8Array(await res.arrayBuffer()), new Uint8Array([1, 2]));
  const doc = app.getOpenAPI31Document({ openapi: "3.1.0", info: { title: "t", version: "1" } });
  assert.deepEqual(Object.keys(doc.paths ?? {}), ["/v1/x", "/v1/x/{id}/model"]);
  assert.deepEqual(
    Object.keys(doc.paths?.["/v1/x"]?.post?.responses ?? {}),
    ["200", "202", "400", "413", "415", "422", "503"],
  );
  assert.equal(doc.paths?.["/v1/x"]?.post?.responses?.["200"]?.description, "The finished x");
  assert.deepEqual(Object.keys(doc.paths?.["/v1/x/{id}/model"]?.get?.responses ?? {}), [
    "200",
    "404",
    "409",
  ]);
});
