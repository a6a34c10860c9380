import assert from "node:assert/strict";
import { create } from "@bufbuild/protobuf";
import {
  makeTensor,
  StringStringEntryProtoSchema,
  TensorProto_DataLocation,
} from "@modelpress/onnx";
import {
  elemTypeName,
  externalDataLocations,
  summarizeModel,
  SUMMARY_SCHEMA,
  typeNotation,
} from "./summarize_model.ts";
import { readSilero } from "../../test/support/silero.ts";
import { richModel } from "./_testing.ts";

Deno.test("summarizeModel() reports header fields, opsets and metadata as written", () => {
  const s = summarizeModel(richModel(), { file: { path: "rich.onnx", bytes: 123 } });
  assert.equal(s.schema, SUMMARY_SCHEMA);
  assert.deepEqual(s.file, { path: "rich.onnx", bytes: 123 });
  assert.equal(s.irVersion, 9);
  assert.deepEqual(s.producer, { name: "tests", version: "1.0" });
  assert.equal(s.graphName, "rich");
  assert.deepEqual(s.opsets, [
    { domain: "ai.onnx", version: 17 },
    { domain: "com.example", version: 1 },
  ]);
  assert.deepEqual(s.metadata, [
    { key: "author", value: "tests" },
    { key: "note", value: "two\nlines" },
  ]);
});

Deno.test("summarizeModel() leaves initializer-backed inputs out and shows symbolic dims", () => {
  const s = summarizeModel(richModel());
  assert.deepEqual(s.inputs, [
    { name: "x", type: "tensor(float)", elemType: "float", shape: ["batch", 4] },
  ]);
  assert.deepEqual(s.outputs, [
    { name: "y", type: "tensor(float)", elemType: "float", shape: ["batch", 4] },
    { name: "s", type: "seq(tensor(int64))", elemType: null, shape: null },
  ]);
});

Deno.test("summarizeModel() counts nodes and operators in subgraphs and functions", () => {
  const s = summarizeModel(richModel());
  assert.deepEqual(s.nodes, { total: 11, mainGraph: 5, subgraphs: 4, functions: 2, training: 0 });
  assert.deepEqual(s.operators, [
    { domain: "ai.onnx", opType: "Constant", count: 3 },
    { domain: "ai.onnx", opType: "Add", count: 1 },
    { domain: "ai.onnx", opType: "Identity", count: 1 },
    { domain: "ai.onnx", opType: "If", count: 1 },
    { domain: "ai.onnx", opType: "Loop", count: 1 },
    { domain: "ai.onnx", opType: "MatMul", count: 1 },
    { domain: "ai.onnx", opType: "Mul", count: 1 },
    { domain: "ai.onnx", opType: "Tanh", count: 1 },
    { domain: "com.example", opType: "Gelu", count: 1 },
  ]);
  assert.deepEqual(s.subgraphs, [
    {
      path: "main/if.then_branch",
      name: "if.then_branch",
      depth: 1,
      nodes: 2,
      initializers: 1,
    },
    {
      path: "main/if.then_branch/loop.body",
      name: "loop.body",
      depth: 2,
      nodes: 1,
      initializers: 0,
    },
    {
      path: "main/if.else_branch",
      name: "if.else_branch",
      depth: 1,
      nodes: 1,
      initializers: 0,
    },
  ]);
  assert.deepEqual(s.functions, [{ domain: "com.example", name: "Gelu", nodes: 2 }]);
});

Deno.test("summarizeModel() counts parameters by source and dtype across subgraphs", () => {
  const p = summarizeModel(richModel()).parameters;
  // w 16 + b 4 (float_data) + big 1024 + t 2 (then branch); bytes 64 + 16 + 4096 + 8.
  assert.deepEqual(p.initializers, { tensors: 4, elements: 1046, bytes: 4184 });
  // 3 float values (12 B) + 3 int64 indices (24 B).
  assert.deepEqual(p.sparseInitializers, { tensors: 1, elements: 3, bytes: 36 });
  // int8 [2,3] (6 B) + value_float (4 B) + value_ints [3] (24 B, in the Loop body).
  assert.deepEqual(p.constants, { tensors: 3, elements: 10, bytes: 34 });
  assert.deepEqual(p.total, { tensors: 8, elements: 1059, bytes: 4254 });
  assert.deepEqual(p.byDtype, [
    { dtype: "float", tensors: 6, elements: 1050, bytes: 4224 },
    { dtype: "int64", tensors: 1, elements: 3, bytes: 24 },
    { dtype: "int8", tensors: 1, elements: 6, bytes: 6 },
  ]);
});

Deno.test("summarizeModel() lists external data files with referenced and on-disk sizes", () => {
  const model = richModel();
  const w = model.graph?.initializer[0];
  assert.ok(w);
  w.rawData = new Uint8Array(0);
  w.dataLocation = TensorProto_DataLocation.EXTERNAL;
  w.externalData = [
    create(StringStringEntryProtoSchema, { key: "location", value: "w.bin" }),
    create(StringStringEntryProtoSchema, { key: "offset", value: "0" }),
    create(StringStringEntryProtoSchema, { key: "length", value: "64" }),
  ];
  const missing = makeTensor("m", new Float32Array(2));
  missing.dataLocation = TensorProto_DataLocation.EXTERNAL;
  missing.rawData = new Uint8Array(0);
  missing.externalData = [
    create(StringStringEntryProtoSchema, { key: "location", value: "gone.bin" }),
  ];
  model.graph?.initializer.push(missing);
  const s = summarizeModel(model, { externalFileBytes: new Map([["w.bin", 100]]) });
  assert.deepEqual(s.externalData, [
    { location: "gone.bin", tensors: 1, bytes: 8, fileBytes: null },
    { location: "w.bin", tensors: 1, bytes: 64, fileBytes: 100 },
  ]);
  assert.deepEqual(externalDataLocations(model), ["gone.bin", "w.bin"]);
  // Moving data out of the file does not change what is counted as parameters.
  assert.equal(s.parameters.initializers.bytes, 4184 + 8);
});

Deno.test("summarizeModel() output survives a JSON round trip unchanged", () => {
  const s = summarizeModel(richModel(), { file: { path: "a.onnx", bytes: 1 } });
  assert.deepEqual(JSON.parse(JSON.stringify(s)), s);
  assert.deepEqual(Object.keys(s), [
    "schema",
    "file",
    "irVersion",
    "producer",
    "domain",
    "modelVersion",
    "docString",
    "graphName",
    "opsets",
    "inputs",
    "outputs",
    "nodes",
    "operators",
    "parameters",
    "externalData",
    "subgraphs",
    "functions",
    "metadata",
  ]);
});

Deno.test("summarizeModel() reads the pytorch silero model: initializers in If branches", async () => {
  const model = await readSilero("legacy");
  const s = summarizeModel(model);
  assert.equal(s.irVersion, 8);
  assert.deepEqual(s.producer, { name: "pytorch", version: "1.12.0" });
  assert.equal(s.opsets.length, 9);
  assert.deepEqual(s.inputs.map((i) => [i.name, i.shape]), [
    ["input", ["batch", "sequence"]],
    ["sr", []],
    ["h", [2, "batch", 64]],
    ["c", [2, "batch", 64]],
  ]);
  assert.equal(s.nodes.mainGraph, 2);
  assert.equal(s.subgraphs.length, 18);
  assert.equal(s.nodes.total, 2 + s.subgraphs.reduce((n, g) => n + g.nodes, 0));
  // Initializers of the main graph plus those of every subgraph.
  const inSubgraphs = s.subgraphs.reduce((n, g) => n + g.initializers, 0);
  assert.equal(s.parameters.initializers.tensors, 69 + inSubgraphs);
  assert.equal(s.parameters.constants.tensors, 0);
  const byDtype = s.parameters.byDtype.reduce((n, d) => n + d.bytes, 0);
  assert.equal(byDtype, s.parameters.total.bytes);
});

Deno.test("summarizeModel() reads the spox silero model: Constant nodes hold the weights", async () => {
  const model = await readSilero("v5");
  const s = summarizeModel(model);
  assert.equal(s.parameters.initializers.tensors, 0);
  assert.equal(s.parameters.constants.tensors, 341);
  assert.equal(s.operators[0]?.opType, "Constant");
  assert.equal(s.operators[0]?.count, 341);
  assert.deepEqual(s.inputs[0], {
    name: "input",
    type: "tensor(float)",
    elemType: "float",
    shape: [null, null],
  });
  // Weights dominate the file: parameter bytes are most of its 2,327,524 bytes.
  assert.ok(s.parameters.total.bytes > 2_000_000 && s.parameters.total.bytes < 2_327_524);
});

Deno.test("summarizeModel() names unnamed subgraph holders by op type and position", () => {
  const model = richModel();
  const ifNode = model.graph?.node[4];
  assert.equal(ifNode?.opType, "If");
  if (ifNode) ifNode.name = "";
  const names = summarizeModel(model).subgraphs.map((g) => [g.path, g.name]);
  assert.deepEqual(names[0], ["main/If#4.then_branch", "If#4.then_branch"]);
  assert.deepEqual(names[1], ["main/If#4.then_branch/loop.body", "loop.body"]);
});

Deno.test("typeNotation() writes ONNX type notation, ? when unset", () => {
  assert.equal(typeNotation(undefined), "?");
  const model = richModel();
  assert.equal(typeNotation(model.graph?.output[1]?.type), "seq(tensor(int64))");
  assert.equal(typeNotation(model.graph?.input[0]?.type), "tensor(float)");
});

Deno.test("elemTypeName() gives lower-case ONNX names and marks unknown numbers", () => {
  assert.equal(elemTypeName(1), "float");
  assert.equal(elemTypeName(16), "bfloat16");
  assert.equal(elemTypeName(22), "int4");
  assert.equal(elemTypeName(999), "unknown(999)");
});
