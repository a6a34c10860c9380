import { deepStrictEqual, equal } from "node:assert/strict";
import { create } from "@bufbuild/protobuf";
import { SparseTensorProtoSchema, TensorProto_DataType } from "./_gen/onnx_pb.ts";
import { readSilero } from "../../test/support/silero.ts";
import { makeGraph, makeTensor, makeValueInfo } from "./build.ts";
import {
  findValueInfo,
  setValueInfo,
  tensorTypeOf,
  tensorTypeOfType,
  toTypeProto,
  toValueInfo,
} from "./shapes.ts";

const { FLOAT, INT64 } = TensorProto_DataType;

function graph() {
  return makeGraph("g", {
    inputs: [makeValueInfo("x", FLOAT, { shape: ["batch", 3, null] })],
    outputs: [makeValueInfo("y", FLOAT)],
    valueInfo: [makeValueInfo("h", INT64, { shape: [] })],
    initializers: [makeTensor("w", new Float32Array(6), { dims: [2, 3] })],
    sparseInitializers: [
      create(SparseTensorProtoSchema, {
        values: makeTensor("sp", new Float32Array([1])),
        indices: makeTensor("", new BigInt64Array([0n])),
        dims: [5n, 2n],
      }),
    ],
  });
}

Deno.test("tensorTypeOf() reads dims as number, string or null", () => {
  const g = graph();
  deepStrictEqual(tensorTypeOf(g, "x"), { elemType: FLOAT, shape: ["batch", 3, null] });
  deepStrictEqual(tensorTypeOf(g, "y"), { elemType: FLOAT, shape: undefined });
  deepStrictEqual(tensorTypeOf(g, "h"), { elemType: INT64, shape: [] });
  deepStrictEqual(tensorTypeOf(g, "w"), { elemType: FLOAT, shape: [2, 3] });
  deepStrictEqual(tensorTypeOf(g, "sp"), { elemType: FLOAT, shape: [5, 2] });
  equal(tensorTypeOf(g, "nothing"), undefined);
  equal(findValueInfo(g, "h")?.name, "h");
  equal(findValueInfo(g, "w"), undefined);
});

Deno.test("setValueInfo() updates inputs and outputs in place and value_info by name", () => {
  const g = graph();
  g.input[0]!.docString = "keep me";
  setValueInfo(g, toValueInfo("x", { elemType: FLOAT, shape: [1, 3, 7] }));
  deepStrictEqual(tensorTypeOf(g, "x"), { elemType: FLOAT, shape: [1, 3, 7] });
  equal(g.input[0]!.docString, "keep me");
  setValueInfo(g, toValueInfo("h", { elemType: INT64, shape: [4] }));
  setValueInfo(g, toValueInfo("new", { elemType: FLOAT, shape: ["n"] }));
  deepStrictEqual(g.valueInfo.map((v) => v.name), ["h", "new"]);
  deepStrictEqual(tensorTypeOf(g, "h")?.shape, [4]);
  deepStrictEqual(tensorTypeOf(g, "new")?.shape, ["n"]);
  equal(g.input.length + g.output.length, 2);
});

Deno.test("toTypeProto() and tensorTypeOfType() round-trip", () => {
  for (
    const type of [
      { elemType: FLOAT, shape: ["a", 2, null] },
      { elemType: INT64, shape: [] },
      { elemType: TensorProto_DataType.UNDEFINED, shape: undefined },
    ]
  ) {
    deepStrictEqual(tensorTypeOfType(toTypeProto(type)), type);
  }
});

Deno.test("tensorTypeOf() reads the silero inputs", async () => {
  const model = await readSilero("v5");
  deepStrictEqual(tensorTypeOf(model.graph!, "input"), { elemType: FLOAT, shape: [null, null] });
  deepStrictEqual(tensorTypeOf(model.graph!, "state"), { elemType: FLOAT, shape: [2, null, 128] });
  deepStrictEqual(tensorTypeOf(model.graph!, "sr"), { elemType: INT64, shape: [] });
});
