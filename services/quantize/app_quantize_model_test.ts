// The service with the real quantizer of @modelpress/quantize, run in a worker as main.ts runs
// it; the downloaded model then runs in onnxruntime-web on this thread. Keep every worker that
// uses onnxruntime-web out of this file: once it has run here, sessions in a worker of the same
// isolate never start (seen with onnxruntime-web 1.30; dynamic quantization does not use it).
import assert from "node:assert/strict";
import { loadDataset } from "@modelpress/evaluate";
import { decodeModel } from "@modelpress/onnx";
import { randomInput, runModel } from "../../test/support/run_model.ts";
import { createApp } from "./app.ts";
import { quantizeInWorker } from "./quantize_in_worker.ts";
import { MLP_PATH, quantizationForm } from "./_testing.ts";

const MLP = await Deno.readFile(MLP_PATH);

Deno.test("POST /v1/quantizations quantizes the MNIST MLP dynamically: the download runs and is <= 26%", async () => {
  const app = createApp({ quantize: quantizeInWorker, loadDataset });
  const res = await app.request("/v1/quantizations", {
    method: "POST",
    body: quantizationForm({ model: MLP, recipe: { method: "dynamic" } }),
  });
  const body = await res.json();
  assert.equal(res.status, 200, JSON.stringify(body));
  assert.equal(body.status, "succeeded");
  const report = body.result.report;
  assert.equal(report.recipe.method, "dynamic");
  assert.equal(report.size.before, MLP.length);
  assert.ok(report.nodes.length > 0 && report.nodes.every((n: { status: string }) => n.status));

  const download = await app.request(body.result.model.url);
  assert.equal(download.status, 200);
  const quantized = new Uint8Array(await download.arrayBuffer());
  assert.equal(quantized.length, body.result.model.bytes);
  assert.equal(quantized.length, report.size.after);
  const share = quantized.length / MLP.length;
  assert.ok(share <= 0.26, `quantized model is ${(share * 100).toFixed(1)}% of the input`);
  const ops = decodeModel(quantized).graph?.node.map((n) => n.opType) ?? [];
  assert.ok(ops.includes("MatMulInteger"), ops.join());
  assert.ok(ops.includes("DynamicQuantizeLinear"), ops.join());

  const input = randomInput([4, 784], 7);
  const [fp32, int8] = [await runModel(MLP, { input }), await runModel(quantized, { input })];
  const a = fp32.logits?.data as Float32Array;
  const b = int8.logits?.data as Float32Array;
  assert.deepEqual(int8.logits?.dims, fp32.logits?.dims);
  let dot = 0, na = 0, nb = 0;
  for (let i = 0; i < a.length; i++) {
    dot += a[i]! * b[i]!;
    na += a[i]! * a[i]!;
    nb += b[i]! * b[i]!;
  }
  const cosine = dot / Math.sqrt(na * nb);
  assert.ok(cosine > 0.99, `cosine ${cosine}`);
});
