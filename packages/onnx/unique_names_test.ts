import { equal, ok } from "node:assert/strict";
import { create } from "@bufbuild/protobuf";
import { FunctionProtoSchema, TensorProto_DataType } from "./_gen/onnx_pb.ts";
import { readSilero } from "../../test/support/silero.ts";
import { branchGraph, ifNode } from "./_testing.ts";
import { makeGraph, makeModel, makeNode, makeTensor, makeValueInfo } from "./build.ts";
import { walkNodes } from "./subgraphs.ts";
import { UniqueNames } from "./unique_names.ts";

const { FLOAT } = TensorProto_DataType;

function model() {
  const branch = branchGraph("then", {
    nodes: [makeNode("Relu", { name: "inner", inputs: ["x"], outputs: ["deep"] })],
    output: "deep",
  });
  const graph = makeGraph("g", {
    nodes: [ifNode("if", { then: branch })],
    inputs: [makeValueInfo("x", FLOAT)],
    initializers: [makeTensor("w", new Float32Array(1))],
    valueInfo: [makeValueInfo("vi", FLOAT)],
    outputs: [makeValueInfo("y", FLOAT)],
  });
  const fn = create(FunctionProtoSchema, {
    name: "F",
    domain: "local",
    input: ["fa"],
    output: ["fb"],
    node: [makeNode("Neg", { name: "fn_node", inputs: ["fa"], outputs: ["fb"] })],
  });
  return makeModel(graph, { functions: [fn] });
}

Deno.test("UniqueNames sees names in subgraphs, functions, initializers and value infos", () => {
  const names = new UniqueNames(model());
  for (const taken of ["x", "y", "w", "vi", "deep", "c", "fa", "fb"]) {
    ok(names.hasValue(taken), taken);
  }
  for (const taken of ["if", "inner", "fn_node"]) ok(names.hasNode(taken), taken);
  ok(!names.hasValue(""));
  equal(names.value("deep"), "deep_1");
  equal(names.value("fresh"), "fresh");
  equal(names.node("inner"), "inner_1");
  // Values and nodes are separate namespaces.
  equal(names.node("x"), "x");
});

Deno.test("UniqueNames never hands out a name twice", () => {
  const names = new UniqueNames(model());
  const seen = new Set<string>();
  for (let i = 0; i < 200; i++) {
    const name = names.value(i % 2 === 0 ? "w" : "w_3");
    ok(!seen.has(name), name);
    seen.add(name);
  }
  equal(names.value("w"), "w_102");
  names.reserveValue("z");
  equal(names.value("z"), "z_1");
  names.reserveNode("n");
  equal(names.node("n"), "n_1");
  equal(names.value(""), "__1");
});

Deno.test("UniqueNames gives names no silero graph uses", async () => {
  const silero = await readSilero("v5");
  const names = new UniqueNames(silero);
  const used = new Set(
    [...walkNodes(silero)].flatMap(({ node }) => [...node.input, ...node.output]),
  );
  const deep = [...used].find((n) => n.includes("decoder/rnn"))!;
  ok(names.hasValue(deep), "names from deeply nested If branches are seen");
  const fresh = names.value(deep);
  ok(!used.has(fresh) && fresh !== deep);
});
