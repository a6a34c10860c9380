// The service with the real pruneModel of @modelpress/prune, run in a worker as main.ts runs it;
// the downloaded model then runs in onnxruntime-web on this thread. Keep every worker that uses
// onnxruntime-web (wanda, activation importance, recovery) out of this file: once it has run
// here, sessions in a worker of the same isolate never start (seen with onnxruntime-web 1.30;
// magnitude pruning does not use it).
import assert from "node:assert/strict";
import { loadDataset, Tensor } from "@modelpress/evaluate";
import { decodeModel, tensorData } from "@modelpress/onnx";
import { densifyStorage, type PruneReport } from "@modelpress/prune";
import { runModel } from "../../test/support/run_model.ts";
import { createApp } from "./app.ts";
import { pruneInWorker } from "./prune_in_worker.ts";
import { MLP_PATH, pruningForm } from "./_testing.ts";

const MLP = await Deno.readFile(MLP_PATH);
const SAMPLES = 500;

Deno.test("POST /v1/prunings prunes 50% of the MNIST MLP by global magnitude: the download runs, is 50% zeros and <= 65% of the file", async () => {
  const app = createApp({ prune: pruneInWorker, loadDataset });
  const recipe = { method: "magnitude", sparsity: 0.5, global: true };
  const res = await app.request("/v1/prunings", {
    method: "POST",
    body: pruningForm({ model: MLP, recipe }),
  });
  const body = await res.json();
  assert.equal(res.status, 200, JSON.stringify(body));
  assert.equal(body.status, "succeeded");
  const report = body.result.report as PruneReport;
  assert.equal(report.schema, "modelpress.prune/1");
  assert.deepEqual(report.recipe, recipe);
  assert.deepEqual(report.layers.map((l) => [l.node, l.status]), [
    ["fc1", "pruned"],
    ["fc2", "pruned"],
    ["fc3", "pruned"],
  ]);
  assert.equal(report.totals.bytes.before, MLP.length);

  const download = await app.request(body.result.model.url);
  assert.equal(download.status, 200);
  const pruned = new Uint8Array(await download.arrayBuffer());
  assert.equal(pruned.length, body.result.model.bytes);
  assert.equal(pruned.length, report.totals.bytes.after);
  const share = pruned.length / MLP.length;
  assert.ok(share <= 0.65, `pruned model is ${(share * 100).toFixed(1)}% of the input`);

  // Exactly round(k * n) of the weights are zero, counted in the downloaded model itself.
  const model = decodeModel(pruned);
  densifyStorage(model);
  let weights = 0;
  let zeros = 0;
  for (const name of ["fc1.weight", "fc2.weight", "fc3.weight"]) {
    const t = model.graph!.initializer.find((i) => i.name === name);
    assert.ok(t, name);
    const data = tensorData(t) as Float32Array;
    weights += data.length;
    zeros += data.filter((v) => v === 0).length;
  }
  assert.equal(zeros, Math.round(0.5 * weights));
  assert.equal(report.totals.nonzero.before - report.totals.nonzero.after, zeros);

  // It runs in onnxruntime-web, and loses at most 1 pp of accuracy on MNIST test digits.
  const mnist = await loadDataset("mnist");
  const images = (mnist.inputs.images!.data as Float32Array).slice(0, SAMPLES * 784);
  const feeds = { input: new Tensor("float32", images, [SAMPLES, 784]) };
  const labels = Array.from(mnist.labels!.data.slice(0, SAMPLES), Number);
  const accuracy = async (bytes: Uint8Array): Promise<number> => {
    const logits = (await runModel(bytes, feeds)).logits!.data as Float32Array;
    let right = 0;
    for (let i = 0; i < SAMPLES; i++) {
      const row = logits.subarray(i * 10, i * 10 + 10);
      if (row.indexOf(Math.max(...row)) === labels[i]) right++;
    }
    return right / SAMPLES;
  };
  const [before, after] = [await accuracy(MLP), await accuracy(pruned)];
  assert.ok(before - after <= 0.01, `accuracy ${before} -> ${after}`);
});
