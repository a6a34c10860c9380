import { deepStrictEqual, equal, ok, throws } from "node:assert/strict";
import { create } from "@bufbuild/protobuf";
import { TensorAnnotationSchema, TensorProto_DataType } from "./_gen/onnx_pb.ts";
import { encodeModel } from "./codec.ts";
import { seededFloats } from "../../test/support/prng.ts";
import { randomInput, runModel } from "../../test/support/run_model.ts";
import { readSilero, SILERO_VERSIONS, sileroFeeds } from "../../test/support/silero.ts";
import { branchGraph, ifNode } from "./_testing.ts";
import { attrFloat, makeGraph, makeModel, makeNode, makeTensor, makeValueInfo } from "./build.ts";
import { GraphEditor } from "./graph_edit.ts";
import type { GraphIndex } from "./graph_index.ts";
import { walkGraphs, walkNodes } from "./subgraphs.ts";

const { FLOAT, BOOL } = TensorProto_DataType;

function chain() {
  // x -> relu -> id -> neg -> y, plus a dead Sigmoid and an unused initializer.
  return makeGraph("chain", {
    nodes: [
      makeNode("Relu", { name: "relu", inputs: ["x"], outputs: ["r"] }),
      makeNode("Identity", { name: "id", inputs: ["r"], outputs: ["i"] }),
      makeNode("Neg", { name: "neg", inputs: ["i"], outputs: ["y"] }),
      makeNode("Sigmoid", { name: "dead", inputs: ["x"], outputs: ["s"] }),
    ],
    inputs: [makeValueInfo("x", FLOAT, { shape: [2] })],
    outputs: [makeValueInfo("y", FLOAT, { shape: [2] })],
    initializers: [makeTensor("unused", new Float32Array([1]))],
    valueInfo: [makeValueInfo("i", FLOAT), makeValueInfo("s", FLOAT)],
  });
}

function names(editor: GraphIndex): string[] {
  return editor.nodes.map((n) => n.name);
}

Deno.test("GraphEditor insertBefore() and insertAfter() place nodes and index them", () => {
  const editor = new GraphEditor(chain());
  const neg = editor.node("neg")!;
  editor.insertBefore(neg, makeNode("Abs", { name: "abs", inputs: ["i"], outputs: ["a"] }));
  editor.insertAfter(editor.node("relu")!, [
    makeNode("Exp", { name: "exp", inputs: ["r"], outputs: ["e"] }),
    makeNode("Log", { name: "log", inputs: ["e"], outputs: ["l"] }),
  ]);
  editor.append(makeNode("Tanh", { name: "tanh", inputs: ["l"], outputs: ["t"] }));
  deepStrictEqual(names(editor), ["relu", "exp", "log", "id", "abs", "neg", "dead", "tanh"]);
  equal(editor.producerOf("l")?.node.name, "log");
  deepStrictEqual(editor.consumersOf("r").map((u) => u.node.name).sort(), ["exp", "id"]);
  equal(editor.positionOf(neg), 5);
});

Deno.test("GraphEditor insertions refuse clashes and change nothing when they do", () => {
  const graph = chain();
  const editor = new GraphEditor(graph);
  const before = encodeModel(makeModel(graph));
  throws(
    () =>
      editor.insertAfter(editor.node("relu")!, [
        makeNode("Abs", { name: "a1", inputs: ["x"], outputs: ["ok"] }),
        makeNode("Abs", { name: "a2", inputs: ["x"], outputs: ["i"] }),
      ]),
    /Cannot add node 'a2': its output 'i' is already produced by node 'id'/,
  );
  throws(
    () => editor.append(makeNode("Abs", { name: "a3", outputs: ["x"] })),
    /Cannot add node 'a3': its output 'x' is already a graph input/,
  );
  throws(
    () => editor.append(editor.node("neg")!),
    /Cannot add node 'neg': it is already in graph 'chain'/,
  );
  throws(
    () => editor.insertBefore(makeNode("Relu", { name: "stranger" }), makeNode("Abs")),
    /Cannot insert before node 'stranger': it is not in graph 'chain'/,
  );
  deepStrictEqual(encodeModel(makeModel(graph)), before);
  equal(editor.nodes.length, 4);
});

Deno.test("GraphEditor replaceNode() keeps the node's edges", () => {
  const editor = new GraphEditor(chain());
  const neg = editor.node("neg")!;
  const sigmoid = makeNode("Sigmoid", { name: "sig" });
  editor.replaceNode(neg, sigmoid);
  deepStrictEqual(sigmoid.input, ["i"]);
  deepStrictEqual(sigmoid.output, ["y"]);
  equal(editor.producerOf("y")?.node, sigmoid);
  equal(editor.positionOf(sigmoid), 2);
  ok(!editor.contains(neg));
  // Several nodes: the last one produces the old output.
  editor.replaceNode(sigmoid, [
    makeNode("Neg", { name: "n1", inputs: ["i"], outputs: ["tmp"] }),
    makeNode("Neg", { name: "n2", inputs: ["tmp"], outputs: ["y"] }),
  ]);
  deepStrictEqual(names(editor), ["relu", "id", "n1", "n2", "dead"]);
  deepStrictEqual(editor.consumersOf("i").map((u) => u.node.name), ["n1"]);
});

Deno.test("GraphEditor replaceNode() refuses to lose an output something reads", () => {
  const editor = new GraphEditor(chain());
  throws(
    () =>
      editor.replaceNode(
        editor.node("relu")!,
        makeNode("Abs", { name: "abs", inputs: ["x"], outputs: ["other"] }),
      ),
    /Cannot replace node 'relu': its output 'r' is read by node 'id' and no replacement node produces it/,
  );
  throws(
    () =>
      editor.replaceNode(
        editor.node("neg")!,
        makeNode("Abs", { name: "abs", inputs: ["i"], outputs: ["z"] }),
      ),
    /its output 'y' is a graph output/,
  );
  equal(editor.producerOf("r")?.node.name, "relu");
});

Deno.test("GraphEditor removeNode() rewires readers to the passed-through input", () => {
  const editor = new GraphEditor(chain());
  editor.removeNode(editor.node("id")!);
  deepStrictEqual(names(editor), ["relu", "neg", "dead"]);
  deepStrictEqual(editor.node("neg")!.input, ["r"]);
  deepStrictEqual(editor.consumersOf("i"), []);
  ok(!editor.graph.valueInfo.some((v) => v.name === "i"), "the removed value's value_info goes");
  // A node whose outputs nothing reads just goes.
  editor.removeNode(editor.node("dead")!, { rewire: false });
  deepStrictEqual(names(editor), ["relu", "neg"]);
  throws(
    () => editor.removeNode(editor.node("relu")!, { rewire: false }),
    /Cannot remove node 'relu': its output 'r' is read by node 'neg'/,
  );
});

Deno.test("GraphEditor removeNode() removes a Dropout unless its mask is read", () => {
  const graph = makeGraph("g", {
    nodes: [
      makeNode("Dropout", {
        name: "drop",
        inputs: ["x"],
        outputs: ["d", "mask"],
        attributes: { ratio: attrFloat(0.5) },
      }),
      makeNode("Relu", { name: "relu", inputs: ["d"], outputs: ["y"] }),
      makeNode("Not", { name: "not", inputs: ["mask"], outputs: ["m2"] }),
    ],
    outputs: [makeValueInfo("y", FLOAT)],
  });
  const editor = new GraphEditor(graph);
  throws(
    () => editor.removeNode(editor.node("drop")!),
    /^RangeError: Cannot remove node 'drop': its output 'mask' is read by node 'not'$/,
  );
  editor.removeNode(editor.node("not")!);
  editor.removeNode(editor.node("drop")!);
  deepStrictEqual(editor.node("relu")!.input, ["x"]);
});

Deno.test("GraphEditor removeNode() of a node feeding a graph output renames the passed value", () => {
  const graph = makeGraph("g", {
    nodes: [
      makeNode("Relu", { name: "relu", inputs: ["x"], outputs: ["r"] }),
      makeNode("Identity", { name: "id", inputs: ["r"], outputs: ["y"] }),
      makeNode("Neg", { name: "neg", inputs: ["r"], outputs: ["n"] }),
    ],
    inputs: [makeValueInfo("x", FLOAT)],
    outputs: [makeValueInfo("y", FLOAT), makeValueInfo("n", FLOAT)],
    valueInfo: [makeValueInfo("r", FLOAT, { shape: [3] })],
  });
  const editor = new GraphEditor(graph);
  editor.removeNode(editor.node("id")!);
  deepStrictEqual(editor.node("relu")!.output, ["y"]);
  deepStrictEqual(editor.node("neg")!.input, ["y"]);
  deepStrictEqual(graph.output.map((v) => v.name), ["y", "n"]);
  deepStrictEqual(graph.valueInfo.map((v) => v.name), ["y"]);
  const passGraph = makeGraph("p", {
    nodes: [makeNode("Identity", { name: "id", inputs: ["x"], outputs: ["y"] })],
    inputs: [makeValueInfo("x", FLOAT)],
    outputs: [makeValueInfo("y", FLOAT)],
  });
  throws(
    () => new GraphEditor(passGraph).removeNode(passGraph.node[0]!),
    /^RangeError: Cannot remove node 'id': its output 'y' is a graph output and its input 'x' is a graph input$/,
  );
});

/** main: If reads r (from relu) in both branches, nested one level deeper in then. */
function withSubgraphs() {
  const nested = branchGraph("nested", {
    nodes: [makeNode("Neg", { name: "deep", inputs: ["r"], outputs: ["dn"] })],
    output: "dn",
  });
  const thenBranch = branchGraph("then", {
    nodes: [ifNode("inner_if", { then: nested, output: "io" })],
    output: "io",
  });
  const elseBranch = branchGraph("else", {
    // This branch defines its own 'r2' and reads the outer 'r'.
    nodes: [makeNode("Abs", { name: "abs", inputs: ["r"], outputs: ["r2"] })],
    output: "r2",
  });
  const graph = makeGraph("main", {
    nodes: [
      makeNode("Identity", { name: "id", inputs: ["x"], outputs: ["r"] }),
      ifNode("if", { then: thenBranch, else: elseBranch }),
    ],
    inputs: [makeValueInfo("x", FLOAT, { shape: [3] }), makeValueInfo("c", BOOL, { shape: [] })],
    outputs: [makeValueInfo("y", FLOAT, { shape: [3] })],
  });
  return { graph, nested, thenBranch, elseBranch };
}

Deno.test("GraphEditor renameValue() renames everywhere, subgraph references included", () => {
  const { graph, nested, elseBranch } = withSubgraphs();
  graph.quantizationAnnotation.push(create(TensorAnnotationSchema, { tensorName: "r" }));
  const editor = new GraphEditor(graph);
  editor.renameValue("r", "relu_out");
  deepStrictEqual(graph.node[0]!.output, ["relu_out"]);
  deepStrictEqual(nested.node[0]!.input, ["relu_out"]);
  deepStrictEqual(elseBranch.node[0]!.input, ["relu_out"]);
  equal(graph.quantizationAnnotation[0]!.tensorName, "relu_out");
  deepStrictEqual(editor.consumersOf("relu_out").map((u) => u.kind), ["subgraph"]);
  deepStrictEqual(editor.consumersOf("r"), []);
  editor.renameValue("y", "out");
  deepStrictEqual(graph.output.map((v) => v.name), ["out"]);
  ok(editor.isGraphOutput("out"));
  editor.renameValue("x", "input");
  ok(editor.isGraphInput("input"));
  deepStrictEqual(graph.node[0]!.input, ["input"]);
});

Deno.test("GraphEditor renameValue() refuses names in use and outer values", () => {
  const { graph, thenBranch } = withSubgraphs();
  const editor = new GraphEditor(graph);
  throws(
    () => editor.renameValue("r", "x"),
    /Cannot rename value 'r' to 'x': 'x' is already used in graph 'main'/,
  );
  throws(
    () => editor.renameValue("r", "r2"),
    /'r2' is already used/,
    "r2 is taken inside a subgraph",
  );
  throws(
    () => editor.renameValue("nope", "z"),
    /Cannot rename value 'nope': it is not in graph 'main'/,
  );
  const inner = new GraphEditor(thenBranch, { parent: editor });
  throws(() => inner.renameValue("c", "cc"), /it is defined in a graph enclosing graph 'then'/);
  throws(
    () => inner.renameValue("io", "x"),
    /'x' is already used/,
    "x is taken in the enclosing graph",
  );
});

Deno.test("GraphEditor replaceUses() rewires readers except the ones named", () => {
  const graph = makeGraph("g", {
    nodes: [
      makeNode("QuantizeLinear", { name: "q", inputs: ["x", "s"], outputs: ["xq"] }),
      makeNode("DequantizeLinear", { name: "dq", inputs: ["xq", "s"], outputs: ["xdq"] }),
      makeNode("MatMul", { name: "mm", inputs: ["x", "w"], outputs: ["y"] }),
      makeNode("Add", { name: "add", inputs: ["x", "x"], outputs: ["z"] }),
    ],
    outputs: [makeValueInfo("x", FLOAT)],
  });
  const editor = new GraphEditor(graph);
  equal(editor.replaceUses("x", "xdq", { except: [editor.node("q")!] }), 2);
  deepStrictEqual(editor.node("mm")!.input, ["xdq", "w"]);
  deepStrictEqual(editor.node("add")!.input, ["xdq", "xdq"]);
  deepStrictEqual(editor.consumersOf("x").map((u) => u.node.name), ["q"]);
  ok(editor.isGraphOutput("x"), "graph outputs keep the old value");
});

Deno.test("GraphEditor replaceUses() reaches into subgraphs and refuses captures", () => {
  const { graph, nested, elseBranch } = withSubgraphs();
  const editor = new GraphEditor(graph);
  editor.replaceUses("r", "x");
  deepStrictEqual(nested.node[0]!.input, ["x"]);
  deepStrictEqual(elseBranch.node[0]!.input, ["x"]);
  throws(() => editor.replaceUses("x", "r2"), /its subgraph 'else' defines 'r2' itself/);
});

Deno.test("GraphEditor addInitializer() and removeInitializer() keep the index right", () => {
  const editor = new GraphEditor(chain());
  editor.addInitializer(makeTensor("scale", new Float32Array([0.5])));
  equal(editor.initializer("scale")?.name, "scale");
  throws(
    () => editor.addInitializer(makeTensor("r", new Float32Array(1))),
    /graph 'chain' already defines 'r'/,
  );
  editor.append(makeNode("Mul", { name: "mul", inputs: ["y", "scale"], outputs: ["ys"] }));
  throws(
    () => editor.removeInitializer("scale"),
    /Cannot remove initializer 'scale': it is read by node 'mul'/,
  );
  editor.removeNode(editor.node("mul")!);
  editor.removeInitializer("scale");
  equal(editor.initializer("scale"), undefined);
  throws(() => editor.removeInitializer("scale"), /it is not in graph 'chain'/);
});

Deno.test("GraphEditor removeUnused() removes dead nodes, initializers and their value infos", () => {
  const graph = chain();
  const editor = new GraphEditor(graph);
  const removed = editor.removeUnused();
  deepStrictEqual(removed.nodes.map((n) => n.name), ["dead"]);
  deepStrictEqual(removed.initializers, ["unused"]);
  deepStrictEqual(names(editor), ["relu", "id", "neg"]);
  deepStrictEqual(graph.valueInfo.map((v) => v.name), ["i"]);
  deepStrictEqual(editor.removeUnused(), { nodes: [], initializers: [] });
  // `keep` holds values alive.
  const again = chain();
  deepStrictEqual(new GraphEditor(again).removeUnused({ keep: ["s", "unused"] }), {
    nodes: [],
    initializers: [],
  });
});

Deno.test("GraphEditor removeUnused() keeps what subgraphs read and cleans them too", () => {
  const { graph, elseBranch } = withSubgraphs();
  graph.initializer.push(
    makeTensor("w", new Float32Array(3)),
    makeTensor("gone", new Float32Array(3)),
  );
  elseBranch.node.push(
    makeNode("Mul", { name: "reads_w", inputs: ["r", "w"], outputs: ["dead_inner"] }),
  );
  elseBranch.node.push(makeNode("Mul", { name: "keeps_w", inputs: ["r2", "w"], outputs: ["r3"] }));
  elseBranch.output[0]!.name = "r3";
  const editor = new GraphEditor(graph);
  const removed = editor.removeUnused();
  deepStrictEqual(removed.nodes.map((n) => n.name), ["reads_w"]);
  deepStrictEqual(removed.initializers, ["gone"]);
  ok(editor.initializer("w") !== undefined, "w is still read inside the else branch");
  deepStrictEqual(names(editor), ["id", "if"]);
  // Once the branch stops reading w, w goes too.
  elseBranch.node.pop();
  elseBranch.output[0]!.name = "r2";
  editor.refreshNode(editor.node("if")!);
  deepStrictEqual(editor.removeUnused().initializers, ["w"]);
});

Deno.test("GraphEditor edits keep an MLP's outputs in onnxruntime-web", async () => {
  const graph = makeGraph("mlp", {
    nodes: [
      makeNode("MatMul", { name: "mm1", inputs: ["x", "w1"], outputs: ["h1"] }),
      makeNode("Add", { name: "add1", inputs: ["h1", "b1"], outputs: ["h2"] }),
      makeNode("Relu", { name: "relu", inputs: ["h2"], outputs: ["h3"] }),
      makeNode("Identity", { name: "id", inputs: ["h3"], outputs: ["h4"] }),
      makeNode("Dropout", { name: "drop", inputs: ["h4"], outputs: ["h5"] }),
      makeNode("MatMul", { name: "mm2", inputs: ["h5", "w2"], outputs: ["h6"] }),
      makeNode("Identity", { name: "out", inputs: ["h6"], outputs: ["y"] }),
      makeNode("Neg", { name: "dead", inputs: ["x"], outputs: ["unused"] }),
    ],
    inputs: [makeValueInfo("x", FLOAT, { shape: [2, 4] })],
    outputs: [makeValueInfo("y", FLOAT, { shape: [2, 3] })],
    initializers: [
      makeTensor("w1", seededFloats(32, 1), { dims: [4, 8] }),
      makeTensor("b1", seededFloats(8, 2), { dims: [8] }),
      makeTensor("w2", seededFloats(24, 3), { dims: [8, 3] }),
      makeTensor("stale", seededFloats(5, 4)),
    ],
  });
  const model = makeModel(graph, { opsetImports: [{ version: 17 }], irVersion: 8 });
  const feeds = { x: randomInput([2, 4], 5) };
  const expected = await runModel(model, feeds);
  const editor = new GraphEditor(graph);
  for (const name of ["id", "drop", "out"]) editor.removeNode(editor.node(name)!);
  // Insert an equivalent detour and take it out again through replaceNode.
  const relu = editor.node("relu")!;
  editor.insertAfter(relu, [
    makeNode("Neg", { name: "n1", inputs: ["h3"], outputs: ["m1"] }),
    makeNode("Neg", { name: "n2", inputs: ["m1"], outputs: ["m2"] }),
  ]);
  editor.replaceUses("h3", "m2", { except: [editor.node("n1")!] });
  const removed = editor.removeUnused();
  deepStrictEqual(removed.nodes.map((n) => n.name), ["dead"]);
  deepStrictEqual(removed.initializers, ["stale"]);
  deepStrictEqual(names(editor), ["mm1", "add1", "relu", "n1", "n2", "mm2"]);
  deepStrictEqual(await runModel(model, feeds), expected);
});

Deno.test("GraphEditor removes silero v5's output Identity nodes without changing results", async () => {
  const model = await readSilero("v5");
  const expected = await runModel(model, sileroFeeds("v5"));
  const editor = new GraphEditor(model.graph!);
  for (const node of editor.nodes.filter((n) => n.opType === "Identity")) editor.removeNode(node);
  deepStrictEqual(editor.nodes.map((n) => n.opType), ["Constant", "Equal", "If"]);
  deepStrictEqual(editor.node("If_0")!.output, ["output", "stateN"]);
  deepStrictEqual(await runModel(model, sileroFeeds("v5")), expected);
});

Deno.test("GraphEditor removeUnused() removes only dead code from the silero models", async () => {
  for (const version of SILERO_VERSIONS) {
    const model = await readSilero(version);
    const expected = await runModel(model, sileroFeeds(version));
    const initializers = [...walkGraphs(model)].reduce(
      (n, e) => n + e.graph!.initializer.length,
      0,
    );
    const nodes = [...walkNodes(model)].length;
    // Plant dead code: a chain in the main graph, an initializer, and a node in the deepest
    // subgraph that reads an outer value (so the outer value must stay for the live readers).
    const deepest = [...walkGraphs(model)].reduce((a, b) => (b.depth > a.depth ? b : a));
    const outer = deepest.graph!.node.flatMap((n) => n.input).find((i) =>
      i !== "" && !deepest.graph!.node.some((m) => m.output.includes(i))
    )!;
    deepest.graph!.node.push(
      makeNode("Identity", {
        name: "planted_inner",
        inputs: [outer],
        outputs: ["planted_inner_out"],
      }),
    );
    model.graph!.node.push(
      makeNode("Neg", { name: "planted_1", inputs: ["input"], outputs: ["planted_a"] }),
      makeNode("Abs", {
        name: "planted_2",
        inputs: ["planted_a", "planted_w"],
        outputs: ["planted_b"],
      }),
    );
    model.graph!.initializer.push(makeTensor("planted_w", new Float32Array(3)));
    const removed = new GraphEditor(model.graph!).removeUnused();
    deepStrictEqual(removed.nodes.map((n) => n.name).sort(), [
      "planted_1",
      "planted_2",
      "planted_inner",
    ], version);
    deepStrictEqual(removed.initializers, ["planted_w"], version);
    equal(
      [...walkGraphs(model)].reduce((n, e) => n + e.graph!.initializer.length, 0),
      initializers,
      version,
    );
    equal([...walkNodes(model)].length, nodes, version);
    // Legacy keeps all its main-graph weights: only the If reads them.
    if (version === "legacy") {
      equal(model.graph!.initializer.filter((t) => t.name.startsWith("model.")).length, 26);
    }
    deepStrictEqual(await runModel(model, sileroFeeds(version)), expected, version);
  }
});

Deno.test("GraphEditor inserts and removes long node lists without spreading them", () => {
  const editor = new GraphEditor(chain());
  const many = Array.from(
    { length: 200_000 },
    (_, i) => makeNode("Abs", { inputs: ["x"], outputs: [`a${i}`] }),
  );
  editor.insertAfter(editor.node("relu")!, many);
  equal(editor.nodes.length, 200_004);
  equal(editor.nodes[1], many[0]);
  equal(editor.nodes[200_000], many.at(-1));
  equal(editor.node("id"), editor.nodes[200_001]);
  equal(editor.positionOf(editor.node("neg")!), 200_002);
  const removed = editor.removeUnused();
  equal(removed.nodes.length, 200_001);
  deepStrictEqual(names(editor), ["relu", "id", "neg"]);
});
