import assert from "node:assert/strict";
import {
  attrInt,
  attrInts,
  decodeModel,
  makeGraph,
  makeNode,
  makeTensor,
  makeValueInfo,
  TensorProto_DataType,
} from "@modelpress/onnx";
import { countMacs } from "./macs.ts";

const FIXTURES = new URL("../../test/fixtures/", import.meta.url);
const { FLOAT } = TensorProto_DataType;

async function graphOf(file: string): Promise<ReturnType<typeof decodeModel>["graph"] & object> {
  return decodeModel(await Deno.readFile(new URL(file, FIXTURES))).graph!;
}

Deno.test("countMacs() counts the MNIST MLP's Gemms as 784·256 + 256·128 + 128·10 per sample", async () => {
  const graph = await graphOf("mnist_mlp.onnx");
  const report = countMacs(graph);
  assert.equal(report.total, 784 * 256 + 256 * 128 + 128 * 10);
  assert.deepEqual(report.nodes.map((n) => n.macs), [784 * 256, 256 * 128, 128 * 10]);
  assert.deepEqual(report.inputShapes, { input: [1, 784] });
  assert.deepEqual(report.unknown, []);
  assert.equal(countMacs(graph, { inputShapes: { input: [32, 784] } }).total, 32 * report.total);
  assert.equal(countMacs(graph, { batchSize: 8 }).total, 8 * report.total);
});

Deno.test("countMacs() counts the MNIST CNN's convolutions and Gemm as computed by hand", async () => {
  const report = countMacs(await graphOf("mnist_cnn.onnx"));
  // conv1: 8 maps of 28x28, each output 1x3x3 MACs; conv2: 16 maps of 28x28 over 8x3x3;
  // fc: 16*14*14 inputs to 10 outputs.
  const conv1 = 8 * 28 * 28 * (1 * 3 * 3);
  const conv2 = 16 * 28 * 28 * (8 * 3 * 3);
  const fc = 16 * 14 * 14 * 10;
  assert.deepEqual(report.nodes.map((n) => [n.opType, n.macs]), [["Conv", conv1], ["Conv", conv2], [
    "Gemm",
    fc,
  ]]);
  assert.equal(report.total, conv1 + conv2 + fc);
});

Deno.test("countMacs() counts grouped and strided convolutions and batched MatMul", () => {
  const graph = makeGraph("g", {
    nodes: [
      // 4 -> 6 channels in 2 groups, 3x3, stride 2, pad 1: 8x8 -> 4x4.
      makeNode("Conv", {
        inputs: ["x", "w"],
        outputs: ["c"],
        name: "grouped",
        attributes: { group: attrInt(2), strides: attrInts([2, 2]), pads: attrInts([1, 1, 1, 1]) },
      }),
      // Depthwise: 6 groups of 1 channel, 3x3, no pad: 4x4 -> 2x2.
      makeNode("Conv", {
        inputs: ["c", "dw"],
        outputs: ["d"],
        name: "depthwise",
        attributes: { group: attrInt(6) },
      }),
      makeNode("MatMul", { inputs: ["a", "b"], outputs: ["m"], name: "mm" }),
    ],
    initializers: [
      makeTensor("w", new Float32Array(6 * 2 * 9), { dims: [6, 2, 3, 3] }),
      makeTensor("dw", new Float32Array(6 * 9), { dims: [6, 1, 3, 3] }),
      makeTensor("b", new Float32Array(4 * 5), { dims: [4, 5] }),
    ],
    inputs: [
      makeValueInfo("x", FLOAT, { shape: ["n", 4, 8, 8] }),
      makeValueInfo("a", FLOAT, { shape: ["n", 3, 4] }),
    ],
    outputs: [makeValueInfo("d", FLOAT), makeValueInfo("m", FLOAT)],
  });
  const report = countMacs(graph, { batchSize: 2 });
  assert.deepEqual(report.nodes.map((n) => [n.node, n.macs]), [
    ["grouped", 2 * 6 * 4 * 4 * (2 * 3 * 3)],
    ["depthwise", 2 * 6 * 2 * 2 * (1 * 3 * 3)],
    ["mm", 2 * 3 * 5 * 4],
  ]);
});

Deno.test("countMacs() lists nodes with unknown shapes and rejects bad input shapes", () => {
  const graph = makeGraph("g", {
    nodes: [makeNode("MatMul", { inputs: ["a", "b"], outputs: ["m"], name: "mm" })],
    inputs: [makeValueInfo("a", FLOAT), makeValueInfo("b", FLOAT, { shape: [4, 5] })],
  });
  assert.deepEqual(countMacs(graph).unknown, ["mm"]);
  assert.equal(countMacs(graph, { inputShapes: { a: [3, 4] } }).total, 60);
  assert.throws(
    () => countMacs(graph, { inputShapes: { q: [1] } }),
    /'q' is not an input of the graph/,
  );
  assert.throws(() => countMacs(graph, { inputShapes: { b: [4] } }), RangeError);
  assert.throws(() => countMacs(graph, { batchSize: 0 }), RangeError);
});
