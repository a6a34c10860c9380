import assert from "node:assert/strict";
import { evaluateModel, loadDataset, reportFromJson, reportToJson } from "@modelpress/evaluate";
import { ingestRun } from "./ingest.ts";
import { runFromEvaluation } from "./run_from_evaluation.ts";
import { getRun } from "./runs.ts";
import { storeTest } from "./_testing.ts";

const MLP = await Deno.readFile(new URL("../../test/fixtures/mnist_mlp.onnx", import.meta.url));
// A real evaluation in onnxruntime-web, sent through JSON as the evaluate service answers it.
const report = reportFromJson(reportToJson(
  await evaluateModel(MLP, {
    dataset: await loadDataset("mnist"),
    reference: MLP,
    limit: 100,
    latency: { runs: 5, warmupRuns: 1 },
  }),
));

storeTest("runFromEvaluation() turns a real evaluation report into a stored run", async (store) => {
  const id = crypto.randomUUID();
  const input = runFromEvaluation(report, {
    model: "mnist_mlp",
    recipe: { config: {}, name: "fp32" },
    run: { id, startedAt: "2026-02-01T00:00:00Z", tags: { source: "test" } },
    environment: { cpuModel: "Test CPU", cores: 2 },
    params: { limit: 100 },
    report: { note: "no compression" },
  });
  const names = input.metrics!.map((m) => m.name);
  for (
    const name of ["size_bytes", "params", "accuracy", "latency_ms", "fidelity_agreement.logits"]
  ) {
    assert.ok(names.includes(name), `${name} in ${names.join(", ")}`);
  }
  // Identical outputs have an SQNR of Infinity, which a series cannot hold: left out.
  assert.ok(!names.includes("fidelity_sqnr_db.logits"));
  assert.equal(input.model.sizeBytes, MLP.length);
  assert.match(input.environment.runtime, /^onnxruntime-web \d/);
  assert.equal((await ingestRun(store.db, input)).created, true);
  assert.equal((await ingestRun(store.db, input)).created, false);
  const run = await getRun(store.db, id);
  assert.equal(run?.metrics.find((m) => m.name === "accuracy")?.value, report.accuracy!.top1);
  assert.equal(run?.metrics.find((m) => m.name === "latency_ms")?.samples?.length, 5);
  assert.equal(run?.metrics.find((m) => m.name === "fidelity_agreement.logits")?.value, 1);
  assert.deepEqual(run?.report, { note: "no compression" });
  assert.equal(run?.modelSha256, report.model.sha256);
});
