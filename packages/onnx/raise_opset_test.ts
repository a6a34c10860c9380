import { deepStrictEqual, equal, ok, throws } from "node:assert/strict";
import { create } from "@bufbuild/protobuf";
import {
  AttributeProtoSchema,
  FunctionProtoSchema,
  type ModelProto,
  OperatorSetIdProtoSchema,
  TensorProto_DataType,
} from "./_gen/onnx_pb.ts";
import { decodeModel, encodeModel } from "./codec.ts";
import { Tensor, type TensorMap } from "@modelpress/evaluate";
import { seededFloats } from "../../test/support/prng.ts";
import { type ModelOutputs, randomInput, runModel } from "../../test/support/run_model.ts";
import { readSilero, SILERO_VERSIONS, sileroFeeds } from "../../test/support/silero.ts";
import { branchGraph, ifNode, outputsOf } from "./_testing.ts";
import {
  attrFloat,
  attrFloats,
  attrInt,
  attrInts,
  makeGraph,
  makeModel,
  makeNode,
  makeTensor,
  makeValueInfo,
} from "./build.ts";
import { UnsupportedOpError } from "./errors.ts";
import { opsetVersion } from "./opset.ts";
import { minIrVersion, raiseOpset } from "./raise_opset.ts";
import { walkNodes } from "./subgraphs.ts";

const { FLOAT, INT64, BOOL } = TensorProto_DataType;

function copy(model: ModelProto): ModelProto {
  return decodeModel(encodeModel(model));
}

/** Same outputs, types and dims; elements equal to within float rounding. */
function assertClose(actual: ModelOutputs, expected: ModelOutputs, label: string): void {
  deepStrictEqual(Object.keys(actual).sort(), Object.keys(expected).sort(), label);
  for (const [name, { type, dims, data: want }] of Object.entries(expected)) {
    equal(actual[name]!.type, type, `${label}: ${name} type`);
    deepStrictEqual(actual[name]!.dims, dims, `${label}: ${name} dims`);
    const got = actual[name]!.data;
    equal(got.length, want.length, `${label}: ${name} length`);
    for (let i = 0; i < want.length; i++) {
      const a = Number(got[i]);
      const b = Number(want[i]);
      ok(
        Math.abs(a - b) <= 1e-6 * Math.max(1, Math.abs(b)),
        `${label}: ${name}[${i}] = ${a}, expected ${b}`,
      );
    }
  }
}

/** Raises a copy to each target, checks the opset and that ORT gives the same outputs. */
async function checkRaise(
  model: ModelProto,
  feeds: TensorMap,
  targets: readonly number[],
): Promise<ModelProto[]> {
  const expected = await runModel(model, feeds);
  const raised: ModelProto[] = [];
  for (const target of targets) {
    const m = copy(model);
    const report = raiseOpset(m, target);
    equal(report.to, target);
    equal(opsetVersion(m, ""), target);
    ok(m.irVersion >= BigInt(minIrVersion(target)));
    assertClose(await runModel(m, feeds), expected, `opset ${target}`);
    raised.push(m);
  }
  return raised;
}

function opset(model: ModelProto, version: number, ir: number): ModelProto {
  model.opsetImport = [create(OperatorSetIdProtoSchema, { domain: "", version: BigInt(version) })];
  model.irVersion = BigInt(ir);
  return model;
}

Deno.test("raiseOpset() converts opset-10 attribute forms to inputs with identical results", async () => {
  const nodes = [
    makeNode("Clip", {
      name: "clip",
      inputs: ["x"],
      outputs: ["clip"],
      attributes: { min: attrFloat(-0.5), max: attrFloat(0.5) },
    }),
    makeNode("Clip", {
      name: "clip_hi",
      inputs: ["x"],
      outputs: ["clip_hi"],
      attributes: { max: attrFloat(0.1) },
    }),
    makeNode("Pad", {
      name: "pad",
      inputs: ["x"],
      outputs: ["pad"],
      attributes: { pads: attrInts([0, 1, 0, 0, 1, 2]), value: attrFloat(0.25) },
    }),
    makeNode("Pad", {
      name: "pad_edge",
      inputs: ["x"],
      outputs: ["pad_edge"],
      attributes: { pads: attrInts([0, 0, 1, 0, 0, 1]), mode: "edge" },
    }),
    makeNode("Unsqueeze", {
      name: "unsq",
      inputs: ["clip"],
      outputs: ["unsq"],
      attributes: { axes: attrInts([1]) },
    }),
    makeNode("Squeeze", {
      name: "sq",
      inputs: ["unsq"],
      outputs: ["sq"],
      attributes: { axes: attrInts([1]) },
    }),
    makeNode("ReduceSum", {
      name: "rsum",
      inputs: ["x"],
      outputs: ["rsum"],
      attributes: { axes: attrInts([2]) },
    }),
    makeNode("ReduceSum", {
      name: "rsum_all",
      inputs: ["x"],
      outputs: ["rsum_all"],
      attributes: { keepdims: attrInt(0) },
    }),
    makeNode("ReduceMean", {
      name: "rmean",
      inputs: ["x"],
      outputs: ["rmean"],
      attributes: { axes: attrInts([1]), keepdims: attrInt(0) },
    }),
    makeNode("ReduceMax", {
      name: "rmax",
      inputs: ["x"],
      outputs: ["rmax"],
      attributes: { axes: attrInts([0, 2]) },
    }),
    makeNode("Split", {
      name: "split",
      inputs: ["x"],
      outputs: ["s1", "s2"],
      attributes: { axis: attrInt(1), split: attrInts([1, 2]) },
    }),
    makeNode("Split", {
      name: "split_eq",
      inputs: ["x"],
      outputs: ["e1", "e2"],
      attributes: { axis: attrInt(2) },
    }),
    makeNode("Dropout", {
      name: "drop",
      inputs: ["x"],
      outputs: ["drop"],
      attributes: { ratio: attrFloat(0.3) },
    }),
    makeNode("Dropout", { name: "drop_mask", inputs: ["x"], outputs: ["drop_m", "unused_mask"] }),
    makeNode("Softmax", {
      name: "sm_mid",
      inputs: ["x"],
      outputs: ["sm_mid"],
      attributes: { axis: attrInt(1) },
    }),
    makeNode("Softmax", {
      name: "sm_first",
      inputs: ["x"],
      outputs: ["sm_first"],
      attributes: { axis: attrInt(0) },
    }),
    makeNode("Softmax", { name: "sm_default", inputs: ["x"], outputs: ["sm_default"] }),
    makeNode("LogSoftmax", {
      name: "lsm_last",
      inputs: ["x"],
      outputs: ["lsm_last"],
      attributes: { axis: attrInt(2) },
    }),
    makeNode("Hardmax", {
      name: "hm_mid",
      inputs: ["x"],
      outputs: ["hm_mid"],
      attributes: { axis: attrInt(1) },
    }),
    makeNode("Softmax", { name: "sm_2d", inputs: ["rmean"], outputs: ["sm_2d"] }),
  ];
  const graph = makeGraph("classic", {
    nodes,
    inputs: [makeValueInfo("x", FLOAT, { shape: [2, 3, 4] })],
    outputs: outputsOf(nodes, { skip: ["unused_mask"] }),
  });
  const model = opset(makeModel(graph), 10, 5);
  const [at13, at18] = await checkRaise(model, { x: randomInput([2, 3, 4], 11) }, [13, 18]);
  // The legacy attributes are gone, replaced by inputs.
  for (const m of [at13!, at18!]) {
    const byName = new Map([...walkNodes(m)].map(({ node }) => [node.name, node]));
    deepStrictEqual(byName.get("clip")!.input.length, 3);
    deepStrictEqual(byName.get("clip_hi")!.input.slice(0, 2), ["x", ""]);
    deepStrictEqual(byName.get("sq")!.attribute.map((a) => a.name), []);
    // Already bool at opset 10: the mask stays.
    deepStrictEqual(byName.get("drop_mask")!.output, ["drop_m", "unused_mask"]);
    equal(byName.get("pad_edge")!.input.length, 2, "a zero pad value needs no input");
    // The default axis 1 is not the last one of a rank-3 input, but it is of a rank-2 one.
    for (const name of ["sm_mid", "sm_first", "sm_default", "hm_mid"]) {
      ok(byName.has(`${name}_flatten`), name);
    }
    for (const name of ["lsm_last", "sm_2d"]) ok(!byName.has(`${name}_flatten`), name);
    equal(byName.get("sm_2d")!.attribute.find((a) => a.name === "axis")?.i, -1n);
  }
  const byName18 = new Map([...walkNodes(at18!)].map(({ node }) => [node.name, node]));
  equal(byName18.get("rmean")!.input.length, 2);
  equal(byName18.get("split_eq")!.attribute.find((a) => a.name === "num_outputs")?.i, 2n);
});

Deno.test("raiseOpset() converts opset-9 TopK, Slice, Upsample and Scatter", async () => {
  const nodes = [
    makeNode("TopK", {
      name: "topk",
      inputs: ["x"],
      outputs: ["tv", "ti"],
      attributes: { k: attrInt(2), axis: attrInt(-1) },
    }),
    makeNode("Slice", {
      name: "slice",
      inputs: ["x"],
      outputs: ["slice"],
      attributes: { starts: attrInts([1, 0]), ends: attrInts([3, -1]), axes: attrInts([2, 3]) },
    }),
    makeNode("Upsample", { name: "up_near", inputs: ["x", "scales"], outputs: ["up_near"] }),
    makeNode("Upsample", {
      name: "up_lin",
      inputs: ["x", "scales"],
      outputs: ["up_lin"],
      attributes: { mode: "linear" },
    }),
    makeNode("Scatter", {
      name: "scatter",
      inputs: ["x", "idx", "upd"],
      outputs: ["scatter"],
      attributes: { axis: attrInt(3) },
    }),
  ];
  const graph = makeGraph("nine", {
    nodes,
    inputs: [makeValueInfo("x", FLOAT, { shape: [1, 2, 4, 5] })],
    outputs: nodes.flatMap((n) => n.output).map((o) =>
      makeValueInfo(o, o === "ti" ? INT64 : FLOAT)
    ),
    initializers: [
      makeTensor("scales", new Float32Array([1, 1, 2, 1.5])),
      makeTensor("idx", new BigInt64Array([4n, 0n, 1n, 2n, 3n, 0n, 1n, 2n]), {
        dims: [1, 2, 4, 1],
      }),
      makeTensor("upd", seededFloats(8, 3), { dims: [1, 2, 4, 1] }),
    ],
  });
  const model = opset(makeModel(graph), 9, 4);
  const raised = await checkRaise(model, { x: randomInput([1, 2, 4, 5], 21) }, [10, 11, 13, 18]);
  const ops = [...walkNodes(raised.at(-1)!)].map(({ node }) => node.opType);
  deepStrictEqual(ops, ["TopK", "Slice", "Resize", "Resize", "ScatterElements"]);
});

Deno.test("raiseOpset() keeps Resize-10's rounding when it adds coordinate modes", async () => {
  const nodes = [
    makeNode("Resize", { name: "down", inputs: ["x", "down_scales"], outputs: ["down"] }),
    makeNode("Resize", { name: "up", inputs: ["x", "up_scales"], outputs: ["up"] }),
    makeNode("Resize", {
      name: "lin",
      inputs: ["x", "up_scales"],
      outputs: ["lin"],
      attributes: { mode: "linear" },
    }),
  ];
  const graph = makeGraph("resize10", {
    nodes,
    inputs: [makeValueInfo("x", FLOAT, { shape: [1, 1, 5, 7] })],
    outputs: outputsOf(nodes),
    initializers: [
      makeTensor("down_scales", new Float32Array([1, 1, 0.6, 0.45])),
      makeTensor("up_scales", new Float32Array([1, 1, 2.5, 1.7])),
    ],
  });
  const model = opset(makeModel(graph), 10, 5);
  const [at11] = await checkRaise(model, { x: randomInput([1, 1, 5, 7], 5) }, [11, 13, 18, 21]);
  const modes = [...walkNodes(at11!)].map(({ node }) =>
    node.attribute.filter((a) => a.name.endsWith("_mode")).map((a) =>
      `${a.name}=${new TextDecoder().decode(a.s)}`
    ).sort()
  );
  deepStrictEqual(modes, [
    ["coordinate_transformation_mode=asymmetric", "nearest_mode=ceil"],
    ["coordinate_transformation_mode=asymmetric", "nearest_mode=floor"],
    ["coordinate_transformation_mode=asymmetric"],
  ]);
});

Deno.test("raiseOpset() converts opset-7 Upsample, BatchNormalization and Dropout", async () => {
  const nodes = [
    makeNode("Upsample", {
      name: "up",
      inputs: ["x"],
      outputs: ["up"],
      attributes: { scales: attrFloats([1, 1, 2, 2]) },
    }),
    makeNode("BatchNormalization", {
      name: "bn",
      inputs: ["x", "s", "b", "m", "v"],
      outputs: ["bn"],
      attributes: { spatial: attrInt(1), epsilon: attrFloat(1e-3), momentum: attrFloat(0.8) },
    }),
    makeNode("Dropout", {
      name: "drop",
      inputs: ["bn"],
      outputs: ["drop", "mask"],
      attributes: { ratio: attrFloat(0.2) },
    }),
  ];
  const graph = makeGraph("seven", {
    nodes,
    inputs: [makeValueInfo("x", FLOAT, { shape: [1, 3, 2, 2] })],
    outputs: [makeValueInfo("up", FLOAT), makeValueInfo("drop", FLOAT)],
    initializers: [
      makeTensor("s", seededFloats(3, 1)),
      makeTensor("b", seededFloats(3, 2)),
      makeTensor("m", seededFloats(3, 3)),
      makeTensor("v", new Float32Array([1, 2, 3])),
    ],
  });
  const model = opset(makeModel(graph), 7, 3);
  const [at15] = await checkRaise(model, { x: randomInput([1, 3, 2, 2], 9) }, [15, 13, 9]);
  const bn = [...walkNodes(at15!)].find(({ node }) => node.name === "bn")!.node;
  deepStrictEqual(bn.attribute.map((a) => a.name).sort(), ["epsilon", "momentum"]);
});

Deno.test("raiseOpset() converts nodes inside If branches and local functions", async () => {
  const branch = (axis: number) =>
    branchGraph(`branch${axis}`, {
      nodes: [
        makeNode("Squeeze", {
          name: `sq${axis}`,
          inputs: ["x"],
          outputs: [`sq${axis}`],
          attributes: { axes: attrInts([0]) },
        }),
        makeNode("ReduceSum", {
          name: `rs${axis}`,
          inputs: [`sq${axis}`],
          outputs: [`rs${axis}`],
          attributes: { axes: attrInts([axis]) },
        }),
      ],
      output: `rs${axis}`,
    });
  const fn = create(FunctionProtoSchema, {
    name: "Normalize",
    domain: "local",
    input: ["a"],
    output: ["b"],
    node: [
      makeNode("Unsqueeze", {
        name: "fn_unsq",
        inputs: ["a"],
        outputs: ["u"],
        attributes: { axes: attrInts([0]) },
      }),
      makeNode("Softmax", {
        name: "fn_sm",
        inputs: ["u"],
        outputs: ["b"],
        attributes: { axis: attrInt(2) },
      }),
    ],
    opsetImport: [create(OperatorSetIdProtoSchema, { domain: "", version: 11n })],
  });
  const graph = makeGraph("main", {
    nodes: [
      ifNode("if", { then: branch(0), else: branch(1) }),
      makeNode("Normalize", { name: "call", domain: "local", inputs: ["x"], outputs: ["z"] }),
    ],
    inputs: [
      makeValueInfo("x", FLOAT, { shape: [1, 3, 4] }),
      makeValueInfo("c", BOOL, { shape: [] }),
    ],
    outputs: [makeValueInfo("y", FLOAT), makeValueInfo("z", FLOAT)],
  });
  const model = makeModel(graph, {
    opsetImports: [{ version: 11 }, { domain: "local", version: 1 }],
    irVersion: 7,
    functions: [fn],
  });
  for (const c of [true, false]) {
    const feeds = {
      x: randomInput([1, 3, 4], 4),
      c: new Tensor("bool", new Uint8Array([c ? 1 : 0]), []),
    };
    const [raised] = await checkRaise(model, feeds, [13]);
    const then = raised!.graph!.node[0]!.attribute[0]!.g!;
    deepStrictEqual(then.initializer.map((t) => t.name).sort(), ["rs0_axes", "sq0_axes"]);
    const body = raised!.functions[0]!;
    equal(opsetVersion(body, ""), 13);
    // In a function there are no initializers: constants become Constant nodes.
    deepStrictEqual(body.node.map((n) => n.opType), [
      "Constant",
      "Unsqueeze",
      "Shape",
      "Flatten",
      "Softmax",
      "Reshape",
    ]);
  }
});

Deno.test("raiseOpset() keeps Softmax on the last axis unwrapped even when the rank is unknown", async () => {
  const nodes = [
    makeNode("Expand", { name: "expand", inputs: ["x", "shape"], outputs: ["e"] }),
    makeNode("Softmax", {
      name: "sm",
      inputs: ["e"],
      outputs: ["y"],
      attributes: { axis: attrInt(-1) },
    }),
    makeNode("Softmax", { name: "sm1", inputs: ["e"], outputs: ["z"] }),
  ];
  const graph = makeGraph("g", {
    nodes,
    inputs: [makeValueInfo("x", FLOAT, { shape: [3] })],
    outputs: [makeValueInfo("y", FLOAT), makeValueInfo("z", FLOAT)],
    initializers: [makeTensor("shape", new BigInt64Array([2n, 2n, 3n]))],
  });
  const model = opset(makeModel(graph), 11, 6);
  const [raised] = await checkRaise(model, { x: randomInput([3], 3) }, [13]);
  // Expand's output shape is not inferred: axis -1 is known to be last, axis 1 must be wrapped.
  deepStrictEqual(raised!.graph!.node.map((n) => n.opType), [
    "Expand",
    "Softmax",
    "Shape",
    "Flatten",
    "Softmax",
    "Reshape",
  ]);
});

Deno.test("raiseOpset() casts Clip bounds with CastLike when the type is unknown", async () => {
  const nodes = [
    makeNode("Expand", { name: "expand", inputs: ["x", "shape"], outputs: ["e"] }),
    makeNode("Clip", {
      name: "clip",
      inputs: ["e"],
      outputs: ["y"],
      attributes: { min: attrFloat(-0.2), max: attrFloat(0.3) },
    }),
  ];
  const graph = makeGraph("g", {
    nodes,
    inputs: [makeValueInfo("x", FLOAT, { shape: [3] })],
    outputs: [makeValueInfo("y", FLOAT)],
    initializers: [makeTensor("shape", new BigInt64Array([2n, 3n]))],
  });
  const model = opset(makeModel(graph), 10, 5);
  throws(() => raiseOpset(copy(model), 13), (e: unknown) => {
    ok(e instanceof UnsupportedOpError);
    equal(e.nodeName, "clip");
    ok(e.message.includes("CastLike needs opset 15"), e.message);
    return true;
  });
  const [at15] = await checkRaise(model, { x: randomInput([3], 1) }, [15]);
  deepStrictEqual(at15!.graph!.node.map((n) => n.opType), [
    "Expand",
    "CastLike",
    "CastLike",
    "Clip",
  ]);
});

Deno.test("raiseOpset() lists every node it cannot convert and changes nothing", () => {
  const scanBody = makeGraph("body", {
    nodes: [makeNode("Identity", { inputs: ["si"], outputs: ["so"] })],
    inputs: [makeValueInfo("si", FLOAT)],
    outputs: [makeValueInfo("so", FLOAT)],
  });
  const graph = makeGraph("bad", {
    nodes: [
      makeNode("BatchNormalization", {
        name: "bn0",
        inputs: ["x", "s", "s", "s", "s"],
        outputs: ["bn"],
        attributes: { spatial: attrInt(0) },
      }),
      makeNode("Dropout", { name: "drop", inputs: ["bn"], outputs: ["d", "mask"] }),
      makeNode("Not", { name: "not", inputs: ["mask"], outputs: ["nm"] }),
      makeNode("Frobnicate", { name: "frob", inputs: ["d"], outputs: ["f"] }),
      makeNode("Gelu", { name: "gelu", inputs: ["d"], outputs: ["g"] }),
      makeNode("Scan", {
        name: "scan",
        inputs: ["", "d"],
        outputs: ["sc"],
        attributes: { body: scanBody, num_scan_inputs: attrInt(1) },
      }),
      makeNode("Relu", { name: "fine", inputs: ["d"], outputs: ["r"] }),
    ],
    inputs: [makeValueInfo("x", FLOAT, { shape: [1, 2, 3] })],
    outputs: [makeValueInfo("nm", BOOL), makeValueInfo("r", FLOAT)],
    initializers: [makeTensor("s", new Float32Array([1, 1]))],
  });
  const model = opset(makeModel(graph), 8, 3);
  const before = encodeModel(model);
  throws(() => raiseOpset(model, 13), (e: unknown) => {
    ok(e instanceof UnsupportedOpError);
    deepStrictEqual(e.nodes.map((n) => [n.nodeName, n.opType, n.graph]), [
      ["bn0", "BatchNormalization", "main"],
      ["drop", "Dropout", "main"],
      ["frob", "Frobnicate", "main"],
      ["gelu", "Gelu", "main"],
      ["scan", "Scan", "main"],
    ]);
    ok(
      e.message.startsWith(
        "Cannot raise the opset to 13: 5 nodes are not supported: node 'bn0' (BatchNormalization) in main: spatial=0",
      ),
      e.message,
    );
    ok(e.nodes[1]!.reason.includes("mask 'mask' is read"));
    ok(e.nodes[3]!.reason.includes("introduced in opset 20"));
    return true;
  });
  deepStrictEqual(encodeModel(model), before, "a refused model is left as it was");
});

Deno.test("raiseOpset() refuses Resize-10 rounding it cannot express and function attribute references", () => {
  const graph = makeGraph("g", {
    nodes: [
      makeNode("Resize", { name: "dyn", inputs: ["x", "scales_in"], outputs: ["a"] }),
      makeNode("Resize", { name: "mixed", inputs: ["x", "mixed_scales"], outputs: ["b"] }),
    ],
    inputs: [makeValueInfo("x", FLOAT), makeValueInfo("scales_in", FLOAT, { shape: [4] })],
    initializers: [makeTensor("mixed_scales", new Float32Array([1, 1, 2, 0.5]))],
  });
  const ref = create(AttributeProtoSchema, { name: "axes", refAttrName: "my_axes", type: 7 });
  const fn = create(FunctionProtoSchema, {
    name: "F",
    domain: "local",
    input: ["a"],
    output: ["b"],
    attribute: ["my_axes"],
    node: [
      makeNode("Squeeze", {
        name: "fn_sq",
        inputs: ["a"],
        outputs: ["b"],
        attributes: { axes: ref },
      }),
    ],
    opsetImport: [create(OperatorSetIdProtoSchema, { domain: "", version: 10n })],
  });
  const model = opset(makeModel(graph, { functions: [fn] }), 10, 5);
  throws(() => raiseOpset(model, 13), (e: unknown) => {
    ok(e instanceof UnsupportedOpError);
    deepStrictEqual(e.nodes.map((n) => [n.nodeName, n.graph]), [
      ["dyn", "main"],
      ["mixed", "main"],
      ["fn_sq", "function/local:F"],
    ]);
    ok(e.nodes[0]!.reason.includes("constant scales"));
    ok(e.nodes[1]!.reason.includes("both upsample and downsample"));
    ok(e.nodes[2]!.reason.includes("refers to function attribute 'my_axes'"));
    return true;
  });
});

Deno.test("raiseOpset() refuses lowering, unknown opsets and models without a default domain", () => {
  const model = opset(makeModel(makeGraph("g")), 13, 7);
  throws(() => raiseOpset(model, 11), /Cannot raise the opset from 13 to 11: only raising/);
  throws(() => raiseOpset(model, 24), /describes opsets up to 23/);
  throws(
    () => raiseOpset(opset(makeModel(makeGraph("g")), 6, 3), 13),
    /models below opset 7 are not supported/,
  );
  const custom = makeModel(makeGraph("g"), {
    opsetImports: [{ domain: "com.example", version: 1 }],
  });
  throws(() => raiseOpset(custom, 13), /imports no default-domain opset/);
  deepStrictEqual(raiseOpset(model, 13), { from: 13, to: 13, converted: 0, added: 0 });
  equal(minIrVersion(13), 7);
  equal(minIrVersion(8), 3);
  equal(minIrVersion(21), 10);
});

Deno.test("raiseOpset() keeps the silero models' results from opset 16 to 18 and 21", async () => {
  for (const version of SILERO_VERSIONS) {
    const model = await readSilero(version);
    const [at18] = await checkRaise(model, sileroFeeds(version), [18, 21]);
    const reduce = [...walkNodes(at18!)].filter(({ node }) => node.opType === "ReduceMean");
    ok(reduce.length > 0 && reduce.every(({ node }) => node.input.length === 2), version);
  }
});
