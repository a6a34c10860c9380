// The service over a real socket: Deno.serve on port 0, and main.ts as `deno task start` runs it.
import assert from "node:assert/strict";
import { loadDataset } from "@modelpress/evaluate";
import { healthStatus, withMain, withServer } from "../../test/support/serve.ts";
import { createApp } from "./app.ts";
import { pruneInWorker } from "./prune_in_worker.ts";
import { fakeLoadDataset, fakeResult, MLP_PATH, pollUntil, pruningForm } from "./_testing.ts";

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
    let sent = 0;
    const body = new ReadableStream<Uint8Array>({
      pull(controller) {
        sent += 16 * 1024;
        if (sent > 64 * 1024 * 1024) controller.close();
        else controller.enqueue(new Uint8Array(16 * 1024));
      },
    });
    const big = await fetch(`${base}/v1/prunings`, {
      method: "POST",
      body,
      headers: { "content-type": "multipart/form-data; boundary=b" },
    }).catch((e) => e as Error);
    // The server answers before the upload ends; the client sees the 413 (or, if it was still
    // writing, a reset connection), but never a server that read 64 MiB.
    if (big instanceof Response) {
      assert.equal(big.status, 413);
      assert.equal((await big.json()).error.code, "payload_too_large");
    }
    assert.ok(sent < 64 * 1024 * 1024, `sent ${sent} bytes`);
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
    const progressed = await pollUntil(async () => {
      const body = await (await fetch(location)).json();
      if (body.status !== "running" && body.status !== "queued") return body;
      return body.progress !== null ? body : undefined;
    }, 120_000); // the first run type-checks the worker's module graph
    assert.equal(progressed.status, "running", JSON.stringify(progressed));
    assert.equal(progressed.progress.phase, "prune");
    assert.equal(progressed.progress.total, 100);
    assert.ok(progressed.progress.percent < 100);
    const cancel = await fetch(`${location}/cancel`, { method: "POST" });
    assert.ok([200, 202].includes(cancel.status), String(cancel.status));
    await cancel.body?.cancel();
    const final = await pollUntil(async () => {
      const body = await (await fetch(location)).json();
      return body.status === "running" ? undefined : body;
    });
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
    const done = await pollUntil(async () => {
      const body = await (await fetch(location)).json();
      return body.status === "running" || body.status === "queued" ? undefined : body;
    }, 120_000);
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
