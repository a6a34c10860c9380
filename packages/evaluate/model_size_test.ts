import assert from "node:assert/strict";
import {
  encodeModel,
  float32ToFloat16,
  makeGraph,
  makeModel,
  makeNode,
  makeTensor,
  makeValueInfo,
  TensorProto_DataType,
} from "@modelpress/onnx";
import { measureModelSize } from "./model_size.ts";

const { FLOAT, FLOAT16, INT8 } = TensorProto_DataType;

Deno.test("measureModelSize() counts parameters, bytes per type and exact zeros per tensor", async () => {
  const graph = makeGraph("g", {
    nodes: [
      makeNode("MatMul", { inputs: ["x", "w"], outputs: ["y"] }),
      makeNode("Add", { inputs: ["y", "h"], outputs: ["z"] }),
    ],
    initializers: [
      makeTensor("w", new Float32Array([0, 1, -0, 2, 0, 3]), { dims: [2, 3] }),
      makeTensor("h", float32ToFloat16([0, -0, 1]), { dims: [3], dataType: FLOAT16 }),
      makeTensor("q", new Int8Array([0, 5, 0, 0]), { dims: [4], dataType: INT8 }),
    ],
    inputs: [makeValueInfo("x", FLOAT, { shape: ["n", 2] })],
    outputs: [makeValueInfo("z", FLOAT)],
  });
  const bytes = encodeModel(makeModel(graph, { opsetImports: [{ version: 13 }], irVersion: 8 }));
  const size = await measureModelSize(bytes);
  assert.equal(size.fileBytes, bytes.length);
  assert.ok(size.gzipBytes > 0 && size.gzipBytes < bytes.length + 32);
  assert.equal(size.parameters, 13);
  assert.equal(size.parameterBytes, 24 + 6 + 4);
  assert.deepEqual(size.bytesByType, { float32: 24, float16: 6, int8: 4 });
  assert.deepEqual(size.tensors.map((t) => [t.name, t.dataType, t.zeros, t.sparsity]), [
    ["w", "float32", 3, 0.5],
    ["h", "float16", 2, 2 / 3],
    ["q", "int8", 3, 0.75],
  ]);
  assert.equal(size.zeros, 8);
  assert.equal(size.sparsity, 8 / 13);
  assert.equal(size.macs?.total, 6);
  assert.equal((await measureModelSize(bytes, { macs: false })).macs, undefined);
});

Deno.test("measureModelSize() reports the MNIST MLP's parameters and a gzip size below the file's", async () => {
  const bytes = await Deno.readFile(new URL("../../test/fixtures/mnist_mlp.onnx", import.meta.url));
  const size = await measureModelSize(bytes);
  assert.equal(size.fileBytes, 941252);
  assert.equal(size.parameters, 784 * 256 + 256 + 256 * 128 + 128 + 128 * 10 + 10);
  assert.equal(size.parameterBytes, size.parameters * 4);
  assert.ok(size.gzipBytes < size.fileBytes);
});
