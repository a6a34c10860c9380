import assert from "node:assert/strict";
import { decodeModel, makeValueInfo, TensorProto_DataType as T } from "@modelpress/onnx";
import { findPrunableWeights } from "./prunable_weights.ts";
import { smallModel } from "./_testing.ts";

Deno.test("findPrunableWeights() finds Gemm, MatMul and Conv weights with their axes, not biases", () => {
  const { weights, skipped } = findPrunableWeights(smallModel());
  assert.deepEqual(
    weights.map((w) => [w.node, w.name, w.shape, w.inputAxis, w.outputAxis, w.activation]),
    [
      ["fc1", "g", [12, 16], 1, 0, "x"],
      ["fc2", "w", [12, 8], 0, 1, "r"],
      ["conv", "k", [4, 3, 3, 3], 1, 0, "c"],
    ],
  );
  assert.deepEqual(skipped, []);
});

Deno.test("findPrunableWeights() reads the MNIST MLP's transB=1 Gemm weights as [out, in]", async () => {
  const model = decodeModel(await Deno.readFile("test/fixtures/mnist_mlp.onnx"));
  const { weights } = findPrunableWeights(model);
  assert.deepEqual(weights.map((w) => w.shape), [[256, 784], [128, 256], [10, 128]]);
  assert.ok(weights.every((w) => w.inputAxis === 1 && w.outputAxis === 0));
  assert.equal(weights.reduce((a, w) => a + w.params, 0), 784 * 256 + 256 * 128 + 128 * 10);
});

Deno.test("findPrunableWeights() honours include and exclude, and skips overridable weights", () => {
  const only = findPrunableWeights(smallModel(), { include: [{ opType: "Conv" }] });
  assert.deepEqual(only.weights.map((w) => w.node), ["conv"]);
  assert.deepEqual(only.skipped.map((s) => [s.node, s.reason]), [
    ["fc1", "not included"],
    ["fc2", "not included"],
  ]);
  const but = findPrunableWeights(smallModel(), { exclude: [{ pattern: "^fc" }] });
  assert.deepEqual(but.weights.map((w) => w.node), ["conv"]);
  const model = smallModel();
  model.graph!.input.push(makeValueInfo("w", T.FLOAT, { shape: [12, 8] }));
  const found = findPrunableWeights(model);
  assert.deepEqual(found.weights.map((w) => w.node), ["fc1", "conv"]);
  assert.equal(found.skipped[0]?.reason, "the weight is also a graph input");
});
