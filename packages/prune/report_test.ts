import assert from "node:assert/strict";
import { decodeModel, makeGraph, makeTensor, TensorProto_DataType as T } from "@modelpress/onnx";
import { countNonzero, countParameters } from "./report.ts";

Deno.test("countParameters() counts float initializer elements and their nonzeros", async () => {
  const model = decodeModel(await Deno.readFile("test/fixtures/mnist_mlp.onnx"));
  assert.deepEqual(countParameters(model.graph!), { params: 235146, nonzero: 235146 });
  const graph = makeGraph("g", {
    initializers: [
      makeTensor("a", new Float32Array([0, 1, -0, 2])),
      makeTensor("h", new Uint16Array([0x8000, 0x3c00]), { dataType: T.FLOAT16 }),
      makeTensor("shape", new BigInt64Array([1n, 2n])),
    ],
  });
  assert.deepEqual(countParameters(graph), { params: 6, nonzero: 3 });
});

Deno.test("countNonzero() treats -0 as zero, float16 by bits", () => {
  assert.equal(countNonzero(new Float32Array([0, -0, 1, NaN]), T.FLOAT), 2);
  assert.equal(countNonzero(new Uint16Array([0x8000, 0, 1]), T.FLOAT16), 1);
});
