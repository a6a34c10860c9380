import assert from "node:assert/strict";
import {
  decodeModel,
  encodeModel,
  type ModelProto,
  setTensorData,
  SPARSE_STORAGE_MARK,
  sparsifyStorage,
  tensorData,
} from "@modelpress/onnx";
import { createKernels } from "@modelpress/kernels";
import { loadMnist, Tensor } from "@modelpress/evaluate";
import { runModel } from "../../test/support/run_model.ts";
import { quantizeModel } from "./quantize_model.ts";

const kernels = await createKernels({ backend: "js" });
const MLP = await Deno.readFile("test/fixtures/mnist_mlp.onnx");
const mnist = await loadMnist({ split: "test" });
const feeds = { input: new Tensor("float32", mnist.images.slice(0, 32 * 784), [32, 784]) };

/** The MLP with every weight of magnitude under the median zeroed (as 50% pruning leaves it). */
function halfZeroed(): ModelProto {
  const model = decodeModel(MLP);
  for (const t of model.graph!.initializer) {
    if (t.dims.length !== 2) continue;
    const w = tensorData(t) as Float32Array;
    const sorted = Float32Array.from(w, Math.abs).sort();
    const median = sorted[sorted.length >> 1]!;
    for (let i = 0; i < w.length; i++) if (Math.abs(w[i]!) < median) w[i] = 0;
    setTensorData(t, w); // tensorData may be a copy of unaligned raw bytes
  }
  return model;
}

Deno.test("quantizeModel() quantizes weights kept in sparse storage and stores them sparsely again", async () => {
  const dense = halfZeroed();
  const sparse = halfZeroed();
  const stored = sparsifyStorage(sparse).tensors.filter((t) => t.sparse).map((t) => t.name);
  assert.equal(stored.length, 3, "the three Gemm weights are stored sparsely");

  const recipe = { method: "linear", bits: 8, granularity: "channel" } as const;
  await quantizeModel(dense, recipe, { kernels });
  const { report } = await quantizeModel(sparse, recipe, { kernels });

  assert.deepEqual([...report.sparseStorage!.densified].sort(), [...stored].sort());
  assert.equal(report.tensors.length, 3, "every weight was quantized, none skipped");
  // The large codes are stored sparsely again; fc3's 1,280 bytes are not worth the nodes.
  assert.deepEqual(report.sparseStorage!.stored, ["fc1.weight_quantized", "fc2.weight_quantized"]);
  assert.ok(
    sparse.graph!.node.some((n) => n.docString === SPARSE_STORAGE_MARK),
    "the model keeps sparse storage nodes",
  );
  const denseBytes = encodeModel(dense);
  const sparseBytes = encodeModel(sparse);
  assert.ok(
    sparseBytes.length < 0.75 * denseBytes.length,
    `sparse int8 ${sparseBytes.length} bytes, dense int8 ${denseBytes.length}`,
  );
  // Same codes, same outputs: the storage changes nothing that onnxruntime-web computes.
  const a = await runModel(denseBytes, feeds);
  const b = await runModel(sparseBytes, feeds);
  for (const name of Object.keys(a)) assert.deepEqual(b[name]!.data, a[name]!.data, name);
});

Deno.test("quantizeModel() leaves a model without sparse storage without a sparseStorage report", async () => {
  const model = decodeModel(MLP);
  const { report } = await quantizeModel(model, { method: "dynamic" }, { kernels });
  assert.equal(report.sparseStorage, undefined);
  assert.ok(!model.graph!.node.some((n) => n.docString === SPARSE_STORAGE_MARK));
});
