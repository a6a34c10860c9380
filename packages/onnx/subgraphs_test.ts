import { deepStrictEqual, equal, ok } from "node:assert/strict";
import { create } from "@bufbuild/protobuf";
import {
  FunctionProtoSchema,
  type GraphProto,
  OperatorSetIdProtoSchema,
  TensorProto_DataType,
  TrainingInfoProtoSchema,
} from "./_gen/onnx_pb.ts";
import { readSilero, SILERO_VERSIONS } from "../../test/support/silero.ts";
import { branchGraph, ifNode } from "./_testing.ts";
import { makeGraph, makeModel, makeNode, makeTensor, makeValueInfo } from "./build.ts";
import { nodeLabel, nodeSubgraphs, outerScopeNames, walkGraphs, walkNodes } from "./subgraphs.ts";

const { FLOAT, BOOL } = TensorProto_DataType;

/** main: If_0 (then: Relu(x) + nested If_1 (then: Neg(y)); else: Identity(x)), Loop (body). */
function nestedModel() {
  const inner = branchGraph("inner", {
    nodes: [makeNode("Neg", { inputs: ["w"], outputs: ["n"] })],
    output: "n",
  });
  const thenBranch = branchGraph("then", {
    nodes: [
      makeNode("Relu", { inputs: ["x"], outputs: ["r"] }),
      ifNode("If_1", {
        then: inner,
        else: branchGraph("inner_else", { nodes: [], output: "r" }),
        output: "i1",
      }),
    ],
    output: "i1",
  });
  const elseBranch = branchGraph("else", {
    nodes: [makeNode("Identity", { inputs: ["x"], outputs: ["e"] })],
    output: "e",
  });
  const body = makeGraph("body", {
    nodes: [makeNode("Add", { inputs: ["acc", "x"], outputs: ["acc_out"] })],
    inputs: [
      makeValueInfo("iter", TensorProto_DataType.INT64),
      makeValueInfo("cond", BOOL),
      makeValueInfo("acc", FLOAT),
    ],
    outputs: [makeValueInfo("cond", BOOL), makeValueInfo("acc_out", FLOAT)],
  });
  const graph = makeGraph("main", {
    nodes: [
      ifNode("If_0", { then: thenBranch, else: elseBranch }),
      makeNode("Loop", { inputs: ["", "c", "y"], outputs: ["z"], attributes: { body } }),
      makeNode("Custom", {
        domain: "x.y",
        inputs: ["z"],
        outputs: ["u"],
        attributes: { graphs: [inner, elseBranch] },
      }),
    ],
    inputs: [makeValueInfo("x", FLOAT), makeValueInfo("c", BOOL)],
    initializers: [makeTensor("w", new Float32Array([1]))],
    outputs: [makeValueInfo("u", FLOAT)],
  });
  const fn = create(FunctionProtoSchema, {
    name: "MyFn",
    domain: "local",
    input: ["a"],
    output: ["b"],
    node: [
      ifNode("fn_if", { then: elseBranch, cond: "a", output: "b" }),
    ],
    opsetImport: [create(OperatorSetIdProtoSchema, { domain: "", version: 17n })],
  });
  const model = makeModel(graph, { functions: [fn] });
  model.trainingInfo.push(
    create(TrainingInfoProtoSchema, {
      initialization: makeGraph("init", {
        nodes: [makeNode("Relu", { inputs: ["w"], outputs: ["w2"] })],
      }),
      algorithm: makeGraph("algo"),
    }),
  );
  return { model, graph, thenBranch, elseBranch, inner, body };
}

Deno.test("walkGraphs() visits every graph of a model with its path, parents first", () => {
  const { model } = nestedModel();
  const entries = [...walkGraphs(model)];
  deepStrictEqual(entries.map((e) => e.path), [
    "main",
    "main/If_0.then_branch",
    "main/If_0.then_branch/If_1.then_branch",
    "main/If_0.then_branch/If_1.else_branch",
    "main/If_0.else_branch",
    "main/Loop#1.body",
    "main/Custom#2.graphs[0]",
    "main/Custom#2.graphs[1]",
    "function/local:MyFn",
    "function/local:MyFn/fn_if.then_branch",
    "function/local:MyFn/fn_if.else_branch",
    "training[0].initialization",
    "training[0].algorithm",
  ]);
  deepStrictEqual(entries.map((e) => e.depth), [0, 1, 2, 2, 1, 1, 1, 1, 0, 1, 1, 0, 0]);
  deepStrictEqual(entries.map((e) => e.kind), [
    "main",
    "subgraph",
    "subgraph",
    "subgraph",
    "subgraph",
    "subgraph",
    "subgraph",
    "subgraph",
    "function",
    "subgraph",
    "subgraph",
    "training",
    "training",
  ]);
  const fnEntry = entries[8];
  equal(fnEntry?.graph, undefined);
  equal(fnEntry?.function?.name, "MyFn");
});

Deno.test("walkGraphs() gives each subgraph the node and attribute that hold it", () => {
  const { model } = nestedModel();
  for (const entry of walkGraphs(model)) {
    if (entry.kind !== "subgraph") {
      equal(entry.parent, undefined);
      continue;
    }
    const parent = entry.parent;
    ok(parent !== undefined);
    ok(
      parent.entry.nodes.includes(parent.node),
      `${entry.path}: parent node is in the parent graph`,
    );
    const held = nodeSubgraphs(parent.node).find((s) =>
      s.attribute === parent.attribute && s.index === parent.index
    );
    equal(held?.graph, entry.graph, entry.path);
    equal(entry.nodes, entry.graph?.node);
  }
});

Deno.test("walkGraphs() honours options and walks a bare graph as main", () => {
  const { model, graph } = nestedModel();
  deepStrictEqual(
    [...walkGraphs(model, { subgraphs: false, functions: false, training: false })].map((e) =>
      e.path
    ),
    ["main"],
  );
  deepStrictEqual(
    [...walkGraphs(model, { subgraphs: false })].map((e) => e.path),
    ["main", "function/local:MyFn", "training[0].initialization", "training[0].algorithm"],
  );
  equal([...walkGraphs(graph)].length, 8);
});

Deno.test("walkGraphs() reads a graph's nodes only when it reaches them", () => {
  const { graph } = nestedModel();
  const paths: string[] = [];
  for (const entry of walkGraphs(graph)) {
    paths.push(entry.path);
    // Dropping the If before its subgraphs are walked skips them.
    if (entry.path === "main") entry.graph?.node.splice(0, 1);
  }
  ok(!paths.some((p) => p.includes("If_0")));
  ok(paths.includes("main/Loop#0.body"));
});

Deno.test("walkNodes() yields every node once with its owner and position", () => {
  const { model } = nestedModel();
  const visits = [...walkNodes(model)];
  const total = [...walkGraphs(model)].reduce((n, e) => n + e.nodes.length, 0);
  equal(visits.length, total);
  equal(new Set(visits.map((v) => v.node)).size < visits.length, true); // elseBranch is shared
  for (const { node, index, owner } of visits) equal(owner.nodes[index], node);
  deepStrictEqual(visits.slice(0, 3).map((v) => v.node.opType), ["If", "Loop", "Custom"]);
});

Deno.test("outerScopeNames() lists reads from enclosing graphs, nested ones included", () => {
  const { thenBranch, elseBranch, body, inner } = nestedModel();
  deepStrictEqual([...outerScopeNames(inner)], ["w"]);
  // x read by Relu, c by If_1, w by the nested then branch; r is defined here.
  deepStrictEqual([...outerScopeNames(thenBranch)].sort(), ["c", "w", "x"]);
  deepStrictEqual([...outerScopeNames(elseBranch)], ["x"]);
  // Loop body inputs are defined by the body.
  deepStrictEqual([...outerScopeNames(body)], ["x"]);
  // A branch that passes an outer value straight through reads it.
  deepStrictEqual(
    [...outerScopeNames(makeGraph("pass", { outputs: [makeValueInfo("q", FLOAT)] }))],
    ["q"],
  );
});

Deno.test("nodeSubgraphs() lists GRAPH and GRAPHS attributes in order", () => {
  const { graph } = nestedModel();
  const [ifNode, loop, custom] = graph.node;
  deepStrictEqual(nodeSubgraphs(ifNode!).map((s) => [s.attribute, s.index]), [[
    "then_branch",
    undefined,
  ], ["else_branch", undefined]]);
  deepStrictEqual(nodeSubgraphs(loop!).map((s) => s.graph.name), ["body"]);
  deepStrictEqual(nodeSubgraphs(custom!).map((s) => [s.attribute, s.index]), [["graphs", 0], [
    "graphs",
    1,
  ]]);
  deepStrictEqual(nodeSubgraphs(makeNode("Relu")), []);
  equal(nodeLabel(makeNode("If"), 4), "If#4");
});

Deno.test("walkGraphs() finds every If branch of the silero models", async () => {
  for (const version of SILERO_VERSIONS) {
    const model = await readSilero(version);
    const entries = [...walkGraphs(model)];
    // Count If nodes independently: each has exactly two branches.
    let ifs = 0;
    const countIfs = (g: GraphProto): void => {
      for (const n of g.node) {
        if (n.opType === "If") ifs++;
        for (const s of nodeSubgraphs(n)) countIfs(s.graph);
      }
    };
    countIfs(model.graph!);
    equal(entries.length, 1 + 2 * ifs, version);
    ok(ifs >= 5, `${version} has nested Ifs`);
    ok(entries.every((e) => e.path.startsWith("main")));
    ok(entries.some((e) => e.depth >= 2), `${version} nests at least two levels`);
    if (version !== "legacy") {
      ok(entries.some((e) => e.path === "main/If_0.then_branch"));
      ok(entries.some((e) => e.depth >= 4), "v5/v6 nest four levels deep");
    }
  }
});
