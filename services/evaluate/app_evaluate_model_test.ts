// The service with the real evaluator of @modelpress/evaluate (onnxruntime-web, MNIST), run in
// workers as main.ts runs it. Keep onnxruntime-web off this file's own thread: once it has run
// here, sessions in a worker of the same isolate never start (seen with onnxruntime-web 1.30).
import assert from "node:assert/strict";
import { loadDataset } from "@modelpress/evaluate";
import { createApp } from "./app.ts";
import { evaluateInWorker } from "./evaluate_in_worker.ts";
import { evaluationForm, MLP_PATH, pollUntil } from "./_testing.ts";

const MLP = await Deno.readFile(MLP_PATH);
const CNN = await Deno.readFile(new URL("../../test/fixtures/mnist_cnn.onnx", import.meta.url));

interface Evaluation {
  id: string;
  status: string;
  progress: {
    phase: string;
    done: number;
    total: number;
    percent: number;
    samplesPerSecond: number;
  } | null;
  result?: {
    dataset: { evaluated: number };
    accuracy: { top1: number };
    fidelity: Record<string, { top1Agreement: number; cosineSimilarity: number; sqnrDb: unknown }>;
    latency: { runs: number };
    size: { fileBytes: number };
  };
}

Deno.test("POST /v1/evaluations evaluates the MNIST MLP against itself directly: agreement 1", async () => {
  const app = createApp({ evaluate: evaluateInWorker, loadDataset });
  const res = await app.request("/v1/evaluations", {
    method: "POST",
    body: evaluationForm({
      model: MLP,
      reference: MLP,
      dataset: "mnist",
      options: { limit: 200, latency: { runs: 5, warmupRuns: 1 } },
    }),
  });
  const body = await res.json() as Evaluation;
  assert.equal(res.status, 200, JSON.stringify(body));
  assert.equal(body.status, "succeeded");
  const report = body.result;
  assert.ok(report);
  assert.equal(report.dataset.evaluated, 200);
  assert.ok(report.accuracy.top1 > 0.9, `top-1 ${report.accuracy.top1}`);
  const logits = report.fidelity.logits;
  assert.ok(logits, Object.keys(report.fidelity).join());
  assert.equal(logits.top1Agreement, 1);
  assert.equal(logits.cosineSimilarity, 1);
  assert.equal(logits.sqnrDb, "Infinity"); // identical outputs, kept through JSON
  assert.equal(report.latency.runs, 5);
  assert.equal(report.size.fileBytes, MLP.length);
});

Deno.test("POST /v1/evaluations runs a long evaluation as a job whose progress shows and which cancels", async () => {
  // On the test's own thread the WebAssembly would keep the event loop (and so the polls below)
  // waiting until the evaluation is over: the worker is what makes progress observable.
  const app = createApp({ evaluate: evaluateInWorker, loadDataset, syncMaxInferences: 1000 });
  const res = await app.request("/v1/evaluations", {
    method: "POST",
    body: evaluationForm({
      model: CNN,
      reference: CNN,
      dataset: "mnist",
      // Far more latency runs than the test waits for: only cancellation ends it in time.
      options: { batchSize: 10, latency: { runs: 100_000 } },
    }),
  });
  assert.equal(res.status, 202);
  const location = res.headers.get("location") ?? "";
  await res.body?.cancel();
  const progressed = await pollUntil(async () => {
    const body = await (await app.request(location)).json() as Evaluation;
    if (body.status !== "running" && body.status !== "queued") return body;
    return body.progress !== null && body.progress.done > 0 ? body : undefined;
  }, 120_000); // the first run type-checks the worker's module graph: slow on 2 cores
  assert.equal(progressed.status, "running", JSON.stringify(progressed));
  const progress = progressed.progress;
  assert.ok(progress);
  assert.ok(["fidelity", "latency"].includes(progress.phase), progress.phase);
  assert.ok(progress.percent > 0 && progress.percent <= 100, String(progress.percent));
  assert.ok(progress.samplesPerSecond > 0);
  const cancel = await app.request(`${location}/cancel`, { method: "POST" });
  assert.ok([200, 202].includes(cancel.status), String(cancel.status));
  await cancel.body?.cancel();
  const final = await pollUntil(async () => {
    const body = await (await app.request(location)).json() as Evaluation;
    return body.status === "running" ? undefined : body;
  });
  assert.equal(final.status, "cancelled");
  assert.equal(final.result, undefined);
});
