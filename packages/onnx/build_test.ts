import assert from "node:assert/strict";
import {
  AttributeProto_AttributeType as A,
  type ModelProto,
  TensorProto_DataType as T,
} from "./_gen/onnx_pb.ts";
import {
  attrFloat,
  attrFloats,
  attrInt,
  attrInts,
  DEFAULT_IR_VERSION,
  DEFAULT_OPSET_VERSION,
  makeAttribute,
  makeGraph,
  makeModel,
  makeNode,
  makeTensor,
  makeValueInfo,
} from "./build.ts";
import { decodeModel, encodeModel } from "./codec.ts";
import { tensorData } from "./tensor.ts";
import { float32Input, runModel } from "../../test/support/run_model.ts";

const { FLOAT } = T;

function mlp(): ModelProto {
  return makeModel(makeGraph("mlp", {
    nodes: [
      makeNode("MatMul", { inputs: ["x", "w"], outputs: ["h"], name: "matmul" }),
      makeNode("Add", { inputs: ["h", "b"], outputs: ["a"], name: "add" }),
      makeNode("Relu", { inputs: ["a"], outputs: ["y"], name: "relu" }),
    ],
    inputs: [makeValueInfo("x", FLOAT, { shape: ["n", 2] })],
    outputs: [makeValueInfo("y", FLOAT, { shape: ["n", 3] })],
    initializers: [
      makeTensor("w", new Float32Array([1, -1, 2, 0.5, 1, -3]), { dims: [2, 3] }),
      makeTensor("b", new Float32Array([0, 0.25, 1])),
    ],
  }));
}

Deno.test("makeModel() builds a MatMul + Add + Relu model that onnxruntime-web runs", async () => {
  const out = await runModel(mlp(), { x: float32Input([1, 2, -1, 1], [2, 2]) });
  // [1, 2] @ w + b = [2, 1.25, -3]; [-1, 1] @ w + b = [-0.5, 2.25, -4]; then Relu.
  assert.deepEqual(out.y?.data, new Float32Array([2, 1.25, 0, 0, 2.25, 0]));
  assert.deepEqual(out.y?.dims, [2, 3]);
});

Deno.test("makeNode() attributes reach onnxruntime-web with the right types", async () => {
  const model = makeModel(makeGraph("attrs", {
    nodes: [
      makeNode("Gemm", {
        inputs: ["x", "w"],
        outputs: ["g"],
        attributes: { transB: attrInt(1), alpha: attrFloat(2) },
      }),
      makeNode("LeakyRelu", {
        inputs: ["g"],
        outputs: ["l"],
        attributes: { alpha: attrFloat(0.5) },
      }),
      makeNode("Transpose", { inputs: ["l"], outputs: ["y"], attributes: { perm: [1n, 0n] } }),
    ],
    inputs: [makeValueInfo("x", FLOAT, { shape: [1, 2] })],
    outputs: [makeValueInfo("y", FLOAT, { shape: [2, 1] })],
    // w is [out=2, in=2]; transB makes y = 2 * x @ w^T.
    initializers: [makeTensor("w", new Float32Array([1, 0, 0, -1]), { dims: [2, 2] })],
  }));
  const out = await runModel(model, { x: float32Input([3, 4], [1, 2]) });
  // g = 2 * [3, -4] = [6, -8]; LeakyRelu(0.5) = [6, -4]; transposed to [[6], [-4]].
  assert.deepEqual(out.y?.data, new Float32Array([6, -4]));
  assert.deepEqual(out.y?.dims, [2, 1]);
});

Deno.test("makeModel() survives encode and decode unchanged", () => {
  const model = mlp();
  const back = decodeModel(encodeModel(model));
  assert.equal(back.irVersion, BigInt(DEFAULT_IR_VERSION));
  assert.equal(back.producerName, "modelpress");
  assert.deepEqual(back.opsetImport.map((o) => [o.domain, o.version]), [
    ["", BigInt(DEFAULT_OPSET_VERSION)],
  ]);
  assert.deepEqual(back.graph?.node.map((n) => n.opType), ["MatMul", "Add", "Relu"]);
  assert.deepEqual(
    tensorData(back.graph!.initializer[0]!),
    new Float32Array([1, -1, 2, 0.5, 1, -3]),
  );
  assert.deepEqual(back.graph!.initializer[0]!.dims, [2n, 3n]);
});

Deno.test("makeModel() applies opset imports, IR version, producer and metadata", () => {
  const model = makeModel(makeGraph("g"), {
    opsetImports: [{ version: 17 }, { domain: "com.microsoft", version: 1n }],
    irVersion: 8,
    producerName: "test",
    producerVersion: "1.2",
    modelVersion: 3,
    metadata: { author: "me" },
  });
  const back = decodeModel(encodeModel(model));
  assert.deepEqual(back.opsetImport.map((o) => [o.domain, o.version]), [
    ["", 17n],
    ["com.microsoft", 1n],
  ]);
  assert.equal(back.irVersion, 8n);
  assert.equal(back.producerName, "test");
  assert.equal(back.producerVersion, "1.2");
  assert.equal(back.modelVersion, 3n);
  assert.deepEqual(back.metadataProps.map((p) => [p.key, p.value]), [["author", "me"]]);
});

Deno.test("makeTensor() infers the data type from the typed array", () => {
  const cases: [Parameters<typeof makeTensor>[1], T][] = [
    [new Float32Array(2), T.FLOAT],
    [new Float64Array(2), T.DOUBLE],
    [new Int8Array(2), T.INT8],
    [new Uint8Array(2), T.UINT8],
    [new Int16Array(2), T.INT16],
    [new Uint16Array(2), T.UINT16],
    [new Int32Array(2), T.INT32],
    [new Uint32Array(2), T.UINT32],
    [new BigInt64Array(2), T.INT64],
    [new BigUint64Array(2), T.UINT64],
    [["a", "b"], T.STRING],
  ];
  for (const [data, type] of cases) {
    const t = makeTensor("t", data);
    assert.equal(t.dataType, type, data.constructor.name);
    assert.deepEqual(t.dims, [2n]);
  }
});

Deno.test("makeTensor() stores little-endian raw_data", () => {
  const t = makeTensor("t", new Int16Array([1, -2]));
  assert.deepEqual(t.rawData, new Uint8Array([1, 0, 0xfe, 0xff]));
  const f = makeTensor("f", new Float32Array([1]));
  assert.deepEqual(f.rawData, new Uint8Array([0, 0, 0x80, 0x3f]));
});

Deno.test("makeTensor() honours a forced dataType over a same-width array", () => {
  const half = makeTensor("h", new Uint16Array([0x3c00, 0xc000]), { dataType: T.FLOAT16 });
  assert.equal(half.dataType, T.FLOAT16);
  assert.deepEqual(half.rawData, new Uint8Array([0x00, 0x3c, 0x00, 0xc0]));
  const bool = makeTensor("b", new Uint8Array([1, 0, 1]), { dataType: T.BOOL });
  assert.equal(bool.dataType, T.BOOL);
  const int4 = makeTensor("q", new Int8Array([1, -1, 7]), { dataType: T.INT4 });
  assert.deepEqual(int4.rawData, new Uint8Array([0xf1, 0x07]));
  assert.deepEqual(int4.dims, [3n]);
  const complex = makeTensor("c", new Float32Array([1, 2, 3, 4]), { dataType: T.COMPLEX64 });
  assert.deepEqual(complex.dims, [2n]);
});

Deno.test("makeTensor() rejects dims that do not match the data and arrays of the wrong type", () => {
  assert.throws(
    () => makeTensor("w", new Float32Array(10), { dims: [3, 4] }),
    new RangeError("Cannot set data of tensor 'w': 10 values given, dims [3, 4] need 12"),
  );
  assert.throws(
    () => makeTensor("h", new Float32Array(2), { dataType: T.FLOAT16 }),
    new TypeError("Cannot set data of tensor 'h': FLOAT16 needs Uint16Array, not Float32Array"),
  );
  assert.throws(() => makeTensor("w", new Float32Array(1), { dims: [-1] }), RangeError);
});

Deno.test("makeTensor() shares the data's bytes unless asked to copy", () => {
  const data = new Float32Array([1, 2]);
  const shared = makeTensor("s", data);
  const copied = makeTensor("c", data, { copy: true });
  data[0] = 5;
  assert.equal(tensorData(shared)[0], 5);
  assert.equal(tensorData(copied)[0], 1);
});

Deno.test("makeAttribute() infers types from unambiguous values", () => {
  const g = makeGraph("body");
  const t = makeTensor("t", new Float32Array(1));
  const cases: [Parameters<typeof makeAttribute>[1], A][] = [
    [3n, A.INT],
    ["same", A.STRING],
    [new Uint8Array([1]), A.STRING],
    [t, A.TENSOR],
    [g, A.GRAPH],
    [[1n, 2n], A.INTS],
    [["a", "b"], A.STRINGS],
    [[t], A.TENSORS],
    [[g], A.GRAPHS],
    [attrFloat(0.5), A.FLOAT],
    [attrFloats([1, 2]), A.FLOATS],
    [attrInt(2), A.INT],
    [attrInts([]), A.INTS],
  ];
  for (const [value, type] of cases) {
    const attr = makeAttribute("a", value);
    assert.equal(attr.type, type, String(A[type]));
    assert.equal(attr.name, "a");
  }
  assert.equal(makeAttribute("s", "same").s.length, 4);
  assert.equal(makeAttribute("f", attrFloat(0.5)).f, 0.5);
  assert.deepEqual(makeAttribute("i", attrInts([1, -2n])).ints, [1n, -2n]);
});

Deno.test("makeAttribute() rejects bare numbers, empty and mixed arrays", () => {
  assert.throws(
    () => makeAttribute("alpha", 0.2 as unknown as bigint),
    new TypeError(
      "Cannot make attribute 'alpha': the number 0.2 is ambiguous, use attrInt(), attrFloat() or a bigint",
    ),
  );
  assert.throws(() => makeAttribute("axes", [] as bigint[]), TypeError);
  assert.throws(() => makeAttribute("axes", [1, 2] as unknown as bigint[]), TypeError);
  assert.throws(() => makeAttribute("axes", [1n, "a"] as unknown as bigint[]), TypeError);
  assert.throws(() => attrInt(1.5), RangeError);
  assert.throws(() => attrInt(1n << 63n), RangeError);
});

Deno.test("makeNode() names the node in attribute errors", () => {
  assert.throws(
    () =>
      makeNode("LeakyRelu", {
        name: "act",
        attributes: { alpha: 0.2 as unknown as bigint },
      }),
    /^TypeError: Cannot make node 'act': attribute 'alpha': the number 0.2 is ambiguous/,
  );
});

Deno.test("makeValueInfo() encodes fixed, symbolic and unknown dims", () => {
  const info = makeValueInfo("x", FLOAT, { shape: [1, "batch", null] });
  const type = info.type?.value;
  assert.equal(type?.case, "tensorType");
  const tensorType = type.value;
  assert.equal(tensorType.elemType, FLOAT);
  assert.deepEqual(tensorType.shape?.dim.map((d) => [d.value.case, d.value.value]), [
    ["dimValue", 1n],
    ["dimParam", "batch"],
    [undefined, undefined],
  ]);
  const noShape = makeValueInfo("z", FLOAT);
  assert.equal(
    noShape.type?.value.case === "tensorType" && noShape.type.value.value.shape,
    undefined,
  );
  assert.throws(() => makeValueInfo("x", FLOAT, { shape: [-1] }), RangeError);
});

Deno.test("makeNode() leaves a shared attribute helper value unchanged", () => {
  const one = attrInt(1);
  const a = makeNode("Gather", { attributes: { axis: one } });
  const b = makeNode("Concat", { attributes: { dim: one } });
  assert.equal(a.attribute[0]!.name, "axis");
  assert.equal(b.attribute[0]!.name, "dim");
  assert.equal(one.name, "");
  const back = decodeModel(encodeModel(makeModel(makeGraph("g", { nodes: [a, b] }))));
  assert.deepEqual(back.graph!.node.map((n) => [n.attribute[0]!.name, n.attribute[0]!.i]), [
    ["axis", 1n],
    ["dim", 1n],
  ]);
});
