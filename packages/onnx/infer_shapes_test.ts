import { deepStrictEqual, equal, ok, throws } from "node:assert/strict";
import { TensorProto_DataType } from "./_gen/onnx_pb.ts";
import { seededFloats } from "../../test/support/prng.ts";
import { randomInput, runModel } from "../../test/support/run_model.ts";
import { readSilero, SILERO_VERSIONS } from "../../test/support/silero.ts";
import { ifNode, outputsOf } from "./_testing.ts";
import {
  attrFloat,
  attrInt,
  attrInts,
  makeGraph,
  makeModel,
  makeNode,
  makeTensor,
  makeValueInfo,
} from "./build.ts";
import { inferShapes } from "./infer_shapes.ts";
import { tensorTypeOf } from "./shapes.ts";

const { FLOAT, INT64, BOOL, UINT8, INT32, UNDEFINED } = TensorProto_DataType;

function ints(name: string, values: readonly number[]) {
  return makeTensor(name, BigInt64Array.from(values.map(BigInt)), { dims: [values.length] });
}

/** A network touching most rules; every value is a graph output so ORT reports its dims. */
function network() {
  const nodes = [
    makeNode("Conv", {
      name: "conv",
      inputs: ["x", "w1", "b1"],
      outputs: ["conv"],
      attributes: {
        pads: attrInts([1, 0, 2, 1]),
        strides: attrInts([2, 1]),
        dilations: attrInts([1, 2]),
        group: attrInt(2),
      },
    }),
    makeNode("BatchNormalization", {
      name: "bn",
      inputs: ["conv", "s", "bias", "mean", "var"],
      outputs: ["bn"],
    }),
    makeNode("Relu", { name: "relu", inputs: ["bn"], outputs: ["relu"] }),
    makeNode("MaxPool", {
      name: "maxpool",
      inputs: ["relu"],
      outputs: ["maxpool"],
      attributes: {
        kernel_shape: attrInts([2, 3]),
        strides: attrInts([2, 2]),
        ceil_mode: attrInt(1),
      },
    }),
    makeNode("AveragePool", {
      name: "avgpool",
      inputs: ["maxpool"],
      outputs: ["avgpool"],
      attributes: {
        kernel_shape: attrInts([3, 3]),
        strides: attrInts([2, 2]),
        auto_pad: "SAME_UPPER",
      },
    }),
    makeNode("AveragePool", {
      name: "ceilpool",
      inputs: ["x2"],
      outputs: ["ceilpool"],
      attributes: {
        kernel_shape: attrInts([2, 2]),
        strides: attrInts([2, 2]),
        pads: attrInts([0, 0, 1, 1]),
        ceil_mode: attrInt(1),
      },
    }),
    makeNode("GlobalAveragePool", { name: "gap", inputs: ["avgpool"], outputs: ["gap"] }),
    makeNode("Flatten", {
      name: "flatten",
      inputs: ["gap"],
      outputs: ["flatten"],
      attributes: { axis: attrInt(1) },
    }),
    makeNode("Gemm", {
      name: "gemm",
      inputs: ["flatten", "w2", "b2"],
      outputs: ["gemm"],
      attributes: { transB: attrInt(1) },
    }),
    makeNode("Softmax", {
      name: "softmax",
      inputs: ["gemm"],
      outputs: ["softmax"],
      attributes: { axis: attrInt(-1) },
    }),
    makeNode("MatMul", { name: "matmul", inputs: ["x3", "w3"], outputs: ["matmul"] }),
    makeNode("Reshape", { name: "reshape", inputs: ["x3", "shape"], outputs: ["reshape"] }),
    makeNode("Transpose", {
      name: "transpose",
      inputs: ["reshape"],
      outputs: ["transpose"],
      attributes: { perm: attrInts([2, 0, 1]) },
    }),
    makeNode("Concat", {
      name: "concat",
      inputs: ["transpose", "transpose"],
      outputs: ["concat"],
      attributes: { axis: attrInt(1) },
    }),
    makeNode("Unsqueeze", {
      name: "unsqueeze",
      inputs: ["concat", "unsq_axes"],
      outputs: ["unsqueeze"],
    }),
    makeNode("Squeeze", {
      name: "squeeze",
      inputs: ["unsqueeze", "sq_axes"],
      outputs: ["squeeze"],
    }),
    makeNode("ReduceMean", {
      name: "reduce",
      inputs: ["squeeze"],
      outputs: ["reduce"],
      attributes: { axes: attrInts([1]), keepdims: attrInt(0) },
    }),
    makeNode("Slice", {
      name: "slice",
      inputs: ["reduce", "starts", "ends", "axes", "steps"],
      outputs: ["slice"],
    }),
    makeNode("Pad", { name: "pad", inputs: ["slice", "pads"], outputs: ["pad"] }),
    makeNode("Split", {
      name: "split",
      inputs: ["pad", "split"],
      outputs: ["split_a", "split_b"],
      attributes: { axis: attrInt(1) },
    }),
    makeNode("Add", { name: "add", inputs: ["split_a", "row"], outputs: ["add"] }),
    makeNode("Gather", {
      name: "gather",
      inputs: ["split_b", "idx"],
      outputs: ["gather"],
      attributes: { axis: attrInt(1) },
    }),
    makeNode("Shape", { name: "shape_of", inputs: ["gather"], outputs: ["shape_of"] }),
    makeNode("Greater", { name: "greater", inputs: ["add", "row"], outputs: ["greater"] }),
    makeNode("Cast", {
      name: "cast",
      inputs: ["greater"],
      outputs: ["cast"],
      attributes: { to: attrInt(INT32) },
    }),
    makeNode("Where", { name: "where", inputs: ["greater", "add", "row"], outputs: ["where"] }),
  ];
  const graph = makeGraph("net", {
    nodes,
    inputs: [
      makeValueInfo("x", FLOAT, { shape: [2, 4, 9, 11] }),
      makeValueInfo("x2", FLOAT, { shape: [1, 1, 6, 6] }),
      makeValueInfo("x3", FLOAT, { shape: [3, 1, 2, 4] }),
    ],
    outputs: outputsOf(nodes, { elemType: UNDEFINED }),
    initializers: [
      makeTensor("w1", seededFloats(6 * 2 * 9, 1), { dims: [6, 2, 3, 3] }),
      makeTensor("b1", seededFloats(6, 2)),
      makeTensor("s", seededFloats(6, 3)),
      makeTensor("bias", seededFloats(6, 4)),
      makeTensor("mean", seededFloats(6, 5)),
      makeTensor("var", new Float32Array(6).fill(1)),
      makeTensor("w2", seededFloats(30, 6), { dims: [5, 6] }),
      makeTensor("b2", seededFloats(5, 7)),
      makeTensor("w3", seededFloats(5 * 4 * 7, 8), { dims: [5, 4, 7] }),
      ints("shape", [0, -1, 4]),
      ints("unsq_axes", [0, 3]),
      ints("sq_axes", [3]),
      ints("starts", [1]),
      ints("ends", [100]),
      ints("axes", [1]),
      ints("steps", [2]),
      ints("pads", [0, 1, 0, 0, 2, 1]),
      ints("split", [2, 4]),
      makeTensor("row", seededFloats(3, 9)),
      makeTensor("idx", new BigInt64Array([2n, 0n, 1n, 3n]), { dims: [2, 2] }),
    ],
  });
  // The graph outputs declare no type: inference must do all the work.
  for (const v of graph.output) delete v.type;
  return graph;
}

Deno.test("inferShapes() matches the dims onnxruntime-web computes", async () => {
  const graph = network();
  const types = inferShapes(graph);
  const model = makeModel(graph, { opsetImports: [{ version: 13 }], irVersion: 7 });
  for (const v of graph.output) {
    const t = types.get(v.name)!;
    // Declare only the element type, so the dims come from ORT's own inference.
    v.type = makeValueInfo(v.name, t.elemType).type;
  }
  const outputs = await runModel(model, {
    x: randomInput([2, 4, 9, 11], 1),
    x2: randomInput([1, 1, 6, 6], 2),
    x3: randomInput([3, 1, 2, 4], 3),
  });
  for (const v of graph.output) {
    deepStrictEqual(types.get(v.name)?.shape, [...(outputs[v.name]?.dims ?? [])], v.name);
  }
  // Spot checks of the arithmetic, as documentation.
  deepStrictEqual(types.get("conv")?.shape, [2, 6, 5, 8]);
  // ceil_mode drops a last window that would start in the end padding, as ORT's kernel does
  // (ONNX's own shape inference at opset 13 says 4x4 here; ORT warns and computes 3x3).
  deepStrictEqual(types.get("ceilpool")?.shape, [1, 1, 3, 3]);
  deepStrictEqual(types.get("matmul")?.shape, [3, 5, 2, 7]);
  deepStrictEqual(types.get("gather")?.shape, [1, 2, 2, 3]);
  equal(types.get("greater")?.elemType, BOOL);
  equal(types.get("cast")?.elemType, INT32);
  equal(types.get("shape_of")?.elemType, INT64);
  equal(types.get("where")?.elemType, FLOAT);
});

Deno.test("inferShapes() carries symbolic dims through broadcasting, MatMul and Gemm", () => {
  const graph = makeGraph("sym", {
    nodes: [
      makeNode("MatMul", { inputs: ["x", "w"], outputs: ["mm"] }),
      makeNode("Add", { inputs: ["mm", "b"], outputs: ["add"] }),
      makeNode("Mul", { inputs: ["add", "col"], outputs: ["mul"] }),
      makeNode("Gemm", {
        inputs: ["x2", "w2"],
        outputs: ["gemm"],
        attributes: { transA: attrInt(1) },
      }),
      makeNode("MatMul", { inputs: ["v", "w"], outputs: ["vec"] }),
    ],
    inputs: [
      makeValueInfo("x", FLOAT, { shape: ["batch", "seq", 8] }),
      makeValueInfo("col", FLOAT, { shape: [null, 1, 1] }),
      makeValueInfo("x2", FLOAT, { shape: [8, "n"] }),
      makeValueInfo("v", FLOAT, { shape: [8] }),
    ],
    initializers: [
      makeTensor("w", new Float32Array(32), { dims: [8, 4] }),
      makeTensor("b", new Float32Array(4)),
      makeTensor("w2", new Float32Array(24), { dims: [8, 3] }),
    ],
  });
  const types = inferShapes(graph);
  deepStrictEqual(types.get("mm")?.shape, ["batch", "seq", 4]);
  deepStrictEqual(types.get("add")?.shape, ["batch", "seq", 4]);
  deepStrictEqual(types.get("mul")?.shape, [null, "seq", 4]);
  deepStrictEqual(types.get("gemm")?.shape, ["n", 3]);
  deepStrictEqual(types.get("vec")?.shape, [4]);
});

Deno.test("inferShapes() reports contradictions in known operators", () => {
  const mm = makeGraph("g", {
    nodes: [makeNode("MatMul", { name: "mm", inputs: ["x", "w"], outputs: ["y"] })],
    inputs: [makeValueInfo("x", FLOAT, { shape: [2, 3] })],
    initializers: [makeTensor("w", new Float32Array(8), { dims: [4, 2] })],
  });
  throws(
    () => inferShapes(mm),
    /^RangeError: Cannot infer shapes of node 'mm' \(MatMul\): inner dimensions 3 and 4 differ$/,
  );
  const add = makeGraph("g", {
    nodes: [makeNode("Add", { name: "add", inputs: ["x", "w"], outputs: ["y"] })],
    inputs: [makeValueInfo("x", FLOAT, { shape: [2, 3] })],
    initializers: [makeTensor("w", new Float32Array(4))],
  });
  throws(() => inferShapes(add), /dimensions 3 and 4 do not broadcast/);
  const conv = makeGraph("g", {
    nodes: [makeNode("Conv", { name: "conv", inputs: ["x", "w"], outputs: ["y"] })],
    inputs: [makeValueInfo("x", FLOAT, { shape: [1, 3, 8, 8] })],
    initializers: [makeTensor("w", new Float32Array(4 * 2 * 9), { dims: [4, 2, 3, 3] })],
  });
  throws(() => inferShapes(conv), /input has 3 channels, weight expects 2 x group 1/);
});

Deno.test("inferShapes() leaves unknown operators unknown, or as declared", () => {
  const graph = makeGraph("g", {
    nodes: [
      makeNode("FancyOp", { domain: "com.example", inputs: ["x"], outputs: ["f"] }),
      makeNode("Relu", { inputs: ["f"], outputs: ["r"] }),
      makeNode("NonMaxSuppression", { inputs: ["x"], outputs: ["nms"] }),
      makeNode("Reshape", { inputs: ["x", "dyn"], outputs: ["re"] }),
    ],
    inputs: [
      makeValueInfo("x", FLOAT, { shape: [4] }),
      makeValueInfo("dyn", INT64, { shape: [3] }),
    ],
    valueInfo: [makeValueInfo("nms", INT64, { shape: [null, 3] })],
  });
  const types = inferShapes(graph);
  deepStrictEqual(types.get("f"), { elemType: UNDEFINED, shape: undefined });
  deepStrictEqual(types.get("r"), { elemType: UNDEFINED, shape: undefined });
  deepStrictEqual(types.get("nms"), { elemType: INT64, shape: [null, 3] });
  deepStrictEqual(types.get("re"), { elemType: FLOAT, shape: [null, null, null] });
});

Deno.test("inferShapes() fills unknown dims from value_info and can write what it found", () => {
  const graph = makeGraph("g", {
    nodes: [
      makeNode("Relu", { inputs: ["x"], outputs: ["r"] }),
      makeNode("QuantizeLinear", { inputs: ["r", "scale", "zp"], outputs: ["q"] }),
      makeNode("DequantizeLinear", { inputs: ["q", "scale", "zp"], outputs: ["dq"] }),
      makeNode("Dropout", {
        inputs: ["dq"],
        outputs: ["d", "mask"],
        attributes: { ratio: attrFloat(0.1) },
      }),
    ],
    inputs: [makeValueInfo("x", FLOAT, { shape: ["n", null] })],
    valueInfo: [makeValueInfo("r", FLOAT, { shape: [null, 16] })],
    outputs: [makeValueInfo("d", FLOAT)],
    initializers: [
      makeTensor("scale", new Float32Array([0.1]), { dims: [] }),
      makeTensor("zp", new Uint8Array([128]), { dims: [] }),
    ],
  });
  const types = inferShapes(graph, { write: true });
  deepStrictEqual(types.get("r")?.shape, ["n", 16]);
  deepStrictEqual(types.get("q"), { elemType: UINT8, shape: ["n", 16] });
  deepStrictEqual(types.get("dq"), { elemType: FLOAT, shape: ["n", 16] });
  deepStrictEqual(types.get("mask"), { elemType: BOOL, shape: ["n", 16] });
  deepStrictEqual(tensorTypeOf(graph, "d"), { elemType: FLOAT, shape: ["n", 16] });
  deepStrictEqual(tensorTypeOf(graph, "q"), { elemType: UINT8, shape: ["n", 16] });
  deepStrictEqual(graph.valueInfo.map((v) => v.name), ["r", "q", "dq", "mask"]);
});

Deno.test("inferShapes() reads outer types in a subgraph and If outputs from the branch", () => {
  const branch = makeGraph("then", {
    nodes: [makeNode("Relu", { inputs: ["outer"], outputs: ["o"] })],
    outputs: [makeValueInfo("o", FLOAT, { shape: [5] })],
  });
  const types = inferShapes(branch, {
    outer: new Map([["outer", { elemType: FLOAT, shape: [5] }]]),
  });
  deepStrictEqual(types.get("o"), { elemType: FLOAT, shape: [5] });
  equal(types.has("outer"), false);
  const main = makeGraph("main", { nodes: [ifNode("if", { then: branch })] });
  deepStrictEqual(inferShapes(main).get("y"), { elemType: FLOAT, shape: [5] });
});

Deno.test("inferShapes() runs over every silero graph without contradictions", async () => {
  for (const version of SILERO_VERSIONS) {
    const model = await readSilero(version);
    const types = inferShapes(model.graph!);
    ok(types.size > 3);
    equal(types.get("sr")?.elemType, INT64);
    const equalNode = model.graph!.node.find((n) => n.opType === "Equal")!;
    equal(types.get(equalNode.output[0]!)?.elemType, BOOL, version);
  }
});
