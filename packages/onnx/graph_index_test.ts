import { deepStrictEqual, equal, ok, throws } from "node:assert/strict";
import { create } from "@bufbuild/protobuf";
import { SparseTensorProtoSchema, TensorProto_DataType } from "./_gen/onnx_pb.ts";
import { readSilero, SILERO_VERSIONS } from "../../test/support/silero.ts";
import { branchGraph, ifNode } from "./_testing.ts";
import { attrFloat, attrInts, makeGraph, makeNode, makeTensor, makeValueInfo } from "./build.ts";
import { constantNodeTensor, GraphIndex, type ValueUse } from "./graph_index.ts";
import { nodeSubgraphs, outerScopeNames, walkGraphs } from "./subgraphs.ts";
import { tensorData } from "./tensor.ts";

const { FLOAT, BOOL } = TensorProto_DataType;

function useKey(u: ValueUse): string {
  return u.kind === "input" ? `${u.node.name}:${u.slot}` : `${u.node.name}:subgraph`;
}

function sample() {
  const branch = branchGraph("then", {
    nodes: [makeNode("Mul", { name: "inner_mul", inputs: ["h", "w"], outputs: ["m"] })],
    output: "m",
  });
  const graph = makeGraph("g", {
    nodes: [
      makeNode("Constant", {
        name: "const",
        outputs: ["k"],
        attributes: { value_float: attrFloat(2) },
      }),
      makeNode("Add", { name: "add", inputs: ["x", "x"], outputs: ["h"] }),
      makeNode("Mul", { name: "mul", inputs: ["h", "k"], outputs: ["y"] }),
      ifNode("if", {
        then: branch,
        else: branchGraph("else", { nodes: [], output: "h" }),
        output: "z",
      }),
    ],
    inputs: [makeValueInfo("x", FLOAT), makeValueInfo("c", BOOL), makeValueInfo("d", FLOAT)],
    initializers: [
      makeTensor("w", new Float32Array([1, 2])),
      makeTensor("d", new Float32Array([3])),
    ],
    sparseInitializers: [
      create(SparseTensorProtoSchema, {
        values: makeTensor("sp", new Float32Array([5])),
        indices: makeTensor("", new BigInt64Array([1n])),
        dims: [4n],
      }),
    ],
    outputs: [makeValueInfo("y", FLOAT), makeValueInfo("z", FLOAT)],
  });
  return { graph, branch };
}

Deno.test("GraphIndex producerOf() and consumersOf() give nodes and slots", () => {
  const { graph } = sample();
  const index = new GraphIndex(graph);
  equal(index.producerOf("h")?.node.name, "add");
  equal(index.producerOf("h")?.slot, 0);
  equal(index.producerOf("x"), undefined);
  deepStrictEqual(index.consumersOf("x").map(useKey), ["add:0", "add:1"]);
  deepStrictEqual(index.consumersOf("k").map(useKey), ["mul:1"]);
  deepStrictEqual(index.consumersOf("nothing"), []);
  equal(index.node("mul"), graph.node[2]);
  ok(index.contains(graph.node[0]!));
  equal(index.positionOf(graph.node[3]!), 3);
  // The lists are copies: changing one does not change the index.
  (index.consumersOf("x") as unknown[]).length = 0;
  equal(index.consumersOf("x").length, 2);
});

Deno.test("GraphIndex indexes unnamed nodes by identity, not by name", () => {
  const a = makeNode("Relu", { inputs: ["x"], outputs: ["a"] });
  const b = makeNode("Relu", { inputs: ["a"], outputs: ["b"] });
  const index = new GraphIndex(makeGraph("g", { nodes: [a, b] }));
  equal(index.node(""), undefined);
  ok(index.contains(a) && index.contains(b));
  equal(index.producerOf("b")?.node, b);
  throws(
    () => index.positionOf(makeNode("Relu")),
    /Cannot find an unnamed Relu node: it is not in graph 'g'/,
  );
});

Deno.test("GraphIndex counts reads inside subgraphs as uses of outer values", () => {
  const { graph } = sample();
  const index = new GraphIndex(graph);
  // h is read by mul, by the then branch (inner_mul) and passed through by the else branch.
  deepStrictEqual(index.consumersOf("h").map(useKey).sort(), ["if:subgraph", "mul:0"]);
  deepStrictEqual(index.consumersOf("w").map(useKey), ["if:subgraph"]);
  ok(index.isUsed("w"));
  ok(!index.isUsed("d"));
  ok(index.isUsed("y"), "graph outputs are used");
  ok(index.subgraphsUse("m"));
  ok(!index.subgraphsUse("k"));
});

Deno.test("GraphIndex finds constants: initializers, sparse ones and Constant nodes", () => {
  const { graph } = sample();
  const index = new GraphIndex(graph);
  equal(index.constantOf("w")?.kind, "initializer");
  const d = index.constantOf("d");
  ok(d?.kind === "initializer" && d.overridable, "an initializer that is an input is overridable");
  equal(index.constantTensor("d"), undefined);
  equal(index.constantTensor("d", { overridable: true })?.name, "d");
  equal(index.constantOf("sp")?.kind, "sparse_initializer");
  equal(index.sparseInitializer("sp")?.dims[0], 4n);
  const k = index.constantOf("k");
  ok(k?.kind === "node" && k.node.name === "const");
  deepStrictEqual(index.constantTensor("k")?.floatData, [2]);
  equal(index.constantOf("h"), undefined, "a computed value is not a constant");
  equal(index.constantOf("x"), undefined, "a graph input is not a constant");
  equal(index.initializer("w")?.dims[0], 2n);
});

Deno.test("GraphIndex of a subgraph looks constants up in its parent", () => {
  const { graph, branch } = sample();
  const parent = new GraphIndex(graph);
  const child = new GraphIndex(branch, { parent });
  equal(child.initializer("w")?.name, "w");
  equal(child.constantOf("k")?.kind, "node");
  equal(child.producerOf("w"), undefined);
  ok(!child.defines("w"));
  ok(child.hasValue("w"), "it reads w");
  equal(child.parent, parent);
  // A name the subgraph defines itself hides the parent's.
  branch.initializer.push(makeTensor("k", new Float32Array([9])));
  child.rebuild();
  deepStrictEqual(Array.from(tensorData(child.constantTensor("k")!) as Float32Array), [9]);
});

Deno.test("GraphIndex refuses a graph where two nodes produce one value", () => {
  const graph = makeGraph("dup", {
    nodes: [
      makeNode("Relu", { name: "a", inputs: ["x"], outputs: ["y"] }),
      makeNode("Neg", { name: "b", inputs: ["x"], outputs: ["y"] }),
    ],
  });
  throws(
    () => new GraphIndex(graph),
    /Cannot index graph 'dup': value 'y' is produced by both node 'a' and node 'b'/,
  );
});

Deno.test("GraphIndex detects edits made behind its back and recovers on rebuild()", () => {
  const { graph } = sample();
  const index = new GraphIndex(graph);
  graph.node.push(makeNode("Relu", { name: "extra", inputs: ["y"], outputs: ["r"] }));
  throws(() => index.producerOf("r"), /edited outside the index.*call rebuild\(\)/);
  index.rebuild();
  equal(index.producerOf("r")?.node.name, "extra");
  graph.initializer.pop();
  throws(() => index.initializer("w"), /edited outside the index/);
});

Deno.test("GraphIndex refreshNode() re-reads a node edited in place", () => {
  const { graph } = sample();
  const index = new GraphIndex(graph);
  const mul = index.node("mul")!;
  mul.input[1] = "x";
  mul.output[0] = "y2";
  mul.name = "mul2";
  index.refreshNode(mul);
  deepStrictEqual(index.consumersOf("k"), []);
  deepStrictEqual(index.consumersOf("x").map(useKey), ["add:0", "add:1", "mul2:1"]);
  equal(index.producerOf("y"), undefined);
  equal(index.producerOf("y2")?.node, mul);
  equal(index.node("mul"), undefined);
  equal(index.node("mul2"), mul);
  throws(() => index.refreshNode(makeNode("Relu")), /not in graph 'g'/);
  // A refresh that would make two producers of one value is refused and changes nothing.
  mul.output[0] = "h";
  throws(() => index.refreshNode(mul), /value 'h' is produced by both node 'add' and node 'mul2'/);
  equal(index.producerOf("y2")?.node, mul);
  equal(index.producerOf("h")?.node.name, "add");
});

Deno.test("GraphIndex positionOf() stays right after the list is reordered in place", () => {
  const { graph } = sample();
  const index = new GraphIndex(graph);
  const [a, b, c, d] = graph.node;
  equal(index.positionOf(d!), 3);
  graph.node.reverse();
  equal(index.positionOf(d!), 0);
  equal(index.positionOf(a!), 3);
  deepStrictEqual([b, c].map((n) => index.positionOf(n!)), [2, 1]);
});

Deno.test("constantNodeTensor() reads every kind of Constant value", () => {
  const ints = makeNode("Constant", {
    outputs: ["a"],
    attributes: { value_ints: attrInts([1, 2]) },
  });
  deepStrictEqual(constantNodeTensor(ints)?.int64Data, [1n, 2n]);
  deepStrictEqual(constantNodeTensor(ints)?.dims, [2n]);
  const str = makeNode("Constant", { outputs: ["s"], attributes: { value_string: "hi" } });
  equal(constantNodeTensor(str)?.dataType, TensorProto_DataType.STRING);
  const tensor = makeTensor("t", new Float32Array([1, 2, 3]));
  equal(
    constantNodeTensor(makeNode("Constant", { outputs: ["t"], attributes: { value: tensor } })),
    tensor,
  );
  equal(constantNodeTensor(makeNode("Constant", { outputs: ["none"] })), undefined);
});

Deno.test("GraphIndex indexes every graph of the silero models consistently", async () => {
  for (const version of SILERO_VERSIONS) {
    const model = await readSilero(version);
    const indexes = new Map<object, GraphIndex>();
    let implicitUses = 0;
    for (const entry of walkGraphs(model)) {
      const parent = entry.parent === undefined
        ? undefined
        : indexes.get(entry.parent.entry.graph!);
      const index = new GraphIndex(entry.graph!, { parent });
      indexes.set(entry.graph!, index);
      for (const node of entry.nodes) {
        for (const [slot, input] of node.input.entries()) {
          if (input === "") continue;
          ok(
            index.consumersOf(input).some((u) =>
              u.kind === "input" && u.node === node && u.slot === slot
            ),
            `${version} ${entry.path}: ${input} -> ${node.name}`,
          );
          // Every read resolves: here, or in an enclosing graph.
          let scope: GraphIndex | undefined = index;
          while (scope !== undefined && !scope.defines(input)) scope = scope.parent;
          ok(scope !== undefined, `${version} ${entry.path}: '${input}' is defined somewhere`);
        }
        for (const [slot, output] of node.output.entries()) {
          if (output !== "") deepStrictEqual(index.producerOf(output), { node, slot });
        }
        for (const { graph } of nodeSubgraphs(node)) {
          for (const name of outerScopeNames(graph)) {
            ok(index.consumersOf(name).some((u) => u.kind === "subgraph" && u.node === node));
            implicitUses++;
          }
        }
      }
    }
    ok(implicitUses > 0);
  }
});

Deno.test("GraphIndex sees that legacy silero's weights are read only inside the If", async () => {
  const model = await readSilero("legacy");
  const index = new GraphIndex(model.graph!);
  const weights = model.graph!.initializer.filter((t) => t.name.startsWith("model."));
  ok(weights.length > 10);
  for (const t of weights) {
    deepStrictEqual(index.consumersOf(t.name).map((u) => [u.kind, u.node.opType]), [[
      "subgraph",
      "If",
    ]], t.name);
    ok(index.isUsed(t.name));
  }
});
