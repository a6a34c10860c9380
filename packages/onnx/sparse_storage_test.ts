import assert from "node:assert/strict";
import {
  decodeModel,
  encodeModel,
  makeGraph,
  makeModel,
  makeNode,
  makeTensor,
  makeValueInfo,
  type ModelProto,
  setTensorData,
  tensorData,
  TensorProto_DataType as T,
} from "./mod.ts";
import { densifyStorage, SPARSE_STORAGE_MARK, sparsifyStorage } from "./sparse_storage.ts";
import { createKernels } from "@modelpress/kernels";
import { loadMnist, Tensor } from "@modelpress/evaluate";
import { quantizeModel } from "@modelpress/quantize";
import { runModel } from "../../test/support/run_model.ts";
import { seededFloats } from "../../test/support/prng.ts";
import { findPrunableWeights, pruneMagnitude } from "@modelpress/prune";

const kernels = await createKernels({ backend: "js" });
const MLP = await Deno.readFile("test/fixtures/mnist_mlp.onnx");
const mnist = await loadMnist({ split: "test" });
const feeds = {
  input: new Tensor("float32", mnist.images.slice(0, 64 * 784), [64, 784]),
};

async function prunedMlp(k: number): Promise<ModelProto> {
  const model = decodeModel(MLP);
  const { weights } = findPrunableWeights(model);
  const layers = weights.map((w) => tensorData(w.tensor, { copy: true }) as Float32Array);
  await pruneMagnitude(layers, { kernels, sparsity: k, global: true });
  weights.forEach((w, i) => setTensorData(w.tensor, layers[i]!));
  return model;
}

Deno.test("sparsifyStorage() makes the 50%-pruned MNIST MLP <= 65% of dense, same outputs", async () => {
  const model = await prunedMlp(0.5);
  const dense = encodeModel(model);
  const expected = await runModel(dense, feeds);
  const { tensors, bytesBefore, bytesAfter } = sparsifyStorage(model);
  const bytes = encodeModel(model);
  assert.equal(bytesBefore, dense.length);
  assert.equal(bytesAfter, bytes.length);
  const ratio = bytes.length / MLP.length;
  assert.ok(ratio <= 0.65, `ratio ${ratio}`);
  assert.ok(ratio >= 0.5, `ratio ${ratio}: below what 50% sparsity allows`);
  // Weights are encoded, biases (no zeros) are not.
  assert.deepEqual(
    tensors.filter((t) => t.sparse).map((t) => t.name),
    ["fc1.weight", "fc2.weight", "fc3.weight"],
  );
  assert.ok(tensors.filter((t) => !t.sparse).every((t) => t.sparseBytes >= t.denseBytes));
  const outputs = await runModel(bytes, feeds);
  assert.deepEqual(outputs.logits!.data, expected.logits!.data);
});

Deno.test("sparsifyStorage() after int8 quantization of a pruned model keeps both savings", async () => {
  for (const method of ["linear", "dynamic"] as const) {
    const model = await prunedMlp(0.5);
    await quantizeModel(model, { method, bits: 8 }, { kernels });
    const quantized = encodeModel(model);
    const expected = await runModel(quantized, feeds);
    const { tensors } = sparsifyStorage(model);
    const bytes = encodeModel(model);
    const encoded = tensors.filter((t) => t.sparse);
    // fc3's 1,280 codes are too few to pay for the encoding's nodes.
    assert.equal(encoded.length, 2, `${method}: ${JSON.stringify(tensors)}`);
    assert.ok(encoded.every((t) => t.dataType === "INT8" || t.dataType === "UINT8"));
    // int8 alone is ~26% of fp32; with the mask at 50% sparsity ~5/8 of that.
    assert.ok(bytes.length <= 0.7 * quantized.length, `${method}: ${bytes.length}`);
    assert.ok(bytes.length <= 0.2 * MLP.length, `${method}: ${bytes.length / MLP.length}`);
    const outputs = await runModel(bytes, feeds);
    assert.deepEqual(outputs.logits!.data, expected.logits!.data, method);
  }
});

function oddModel(opset: number): ModelProto {
  // 3 x 7 = 21 elements: not a multiple of 8 (the mask is sliced); a float16 weight too.
  const w = seededFloats(21 * 5, 1);
  for (let i = 0; i < w.length; i += 3) w[i] = 0;
  w[1] = -0;
  const h = new Uint16Array(40).fill(0);
  h[3] = 0x3c00;
  h[17] = 0xbc00;
  const graph = makeGraph("odd", {
    nodes: [
      makeNode("MatMul", { inputs: ["x", "w"], outputs: ["y"] }),
      makeNode("Cast", { inputs: ["h"], outputs: ["hf"], attributes: { to: BigInt(T.FLOAT) } }),
      makeNode("Add", { inputs: ["hf", "zero"], outputs: ["z"] }),
    ],
    inputs: [makeValueInfo("x", T.FLOAT, { shape: [2, 21] })],
    outputs: [
      makeValueInfo("y", T.FLOAT, { shape: [2, 5] }),
      makeValueInfo("z", T.FLOAT, { shape: [40] }),
    ],
    initializers: [
      makeTensor("w", w, { dims: [21, 5] }),
      makeTensor("h", h, { dataType: T.FLOAT16, dims: [40] }),
      makeTensor("zero", new Float32Array([0])),
    ],
  });
  return makeModel(graph, { opsetImports: [{ domain: "", version: opset }] });
}

Deno.test("sparsifyStorage() sparse mode rebuilds odd sizes and float16 exactly; densifyStorage() undoes it", async () => {
  const x = { x: new Tensor("float32", seededFloats(42, 2), [2, 21]) };
  const original = oddModel(13);
  const expected = await runModel(original, x);
  const model = oddModel(13);
  const { tensors } = sparsifyStorage(model, { mode: "sparse", minElements: 1 });
  assert.deepEqual(tensors.map((t) => [t.name, t.stored, t.sparse]), [
    ["w", 69, true], // 35 zeros and one -0
    ["h", 2, true],
    ["zero", 0, true],
  ]);
  assert.equal(model.graph!.node.filter((n) => n.docString === SPARSE_STORAGE_MARK).length, 3);
  const outputs = await runModel(model, x);
  assert.deepEqual(outputs, expected);
  assert.deepEqual([...densifyStorage(model).tensors].sort(), ["h", "w", "zero"]);
  assert.equal(model.graph!.node.length, 3);
  const restored = new Map(model.graph!.initializer.map((t) => [t.name, tensorData(t)]));
  const before = new Map(original.graph!.initializer.map((t) => [t.name, tensorData(t)]));
  // -0 comes back as +0; everything else bit for bit.
  const w = before.get("w") as Float32Array;
  w[1] = 0;
  assert.deepEqual(restored, before);
  assert.deepEqual(await runModel(model, x), expected);
});

Deno.test("sparsifyStorage() leaves dense what would not shrink, and models below opset 11", () => {
  const model = decodeModel(MLP);
  const bytes = encodeModel(model);
  const { tensors, bytesAfter } = sparsifyStorage(model);
  assert.ok(tensors.length > 0 && tensors.every((t) => !t.sparse));
  assert.equal(bytesAfter, bytes.length);
  assert.deepEqual(encodeModel(model), bytes);
  const old = oddModel(10);
  const { tensors: none } = sparsifyStorage(old, { mode: "sparse", minElements: 1 });
  assert.deepEqual(none, []);
  assert.equal(old.graph!.node.length, 3);
});
