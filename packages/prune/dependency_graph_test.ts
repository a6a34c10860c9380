import assert from "node:assert/strict";
import { attrInt, attrInts, decodeModel, makeNode, type ModelProto } from "@modelpress/onnx";
import { buildDependencyGraph } from "./dependency_graph.ts";
import { pruneChannels } from "./channel_pruning.ts";
import {
  assertSameOutputs,
  conv,
  initializerData,
  keptOf,
  model,
  sliceAxis,
  tensor,
  weight,
} from "./_structural_testing.ts";

async function fixture(name: string): Promise<ModelProto> {
  return decodeModel(await Deno.readFile(new URL(`../../test/fixtures/${name}`, import.meta.url)));
}

Deno.test("buildDependencyGraph() finds the MNIST MLP's layers and keeps the logits whole", async () => {
  const graph = buildDependencyGraph(await fixture("mnist_mlp.onnx"));
  assert.deepEqual(
    graph.groups.map((g) => [g.sources.map((s) => s.name), g.units, g.prunable]),
    [[["fc1"], 256, true], [["fc2"], 128, true], [["fc3"], 10, false]],
  );
  assert.match(graph.groups[2]!.reason!, /graph output 'logits'/);
  assert.deepEqual(graph.consumers.map((c) => [c.node.name, c.input, c.weightInputAxis]), [
    ["fc2", "relu1_out", 1],
    ["fc3", "relu2_out", 1],
  ]);
  assert.deepEqual(graph.sources.map((s) => s.activation), ["relu1_out", "relu2_out", "logits"]);
  assert.deepEqual(graph.unsupported, []);
});

Deno.test("buildDependencyGraph() maps a CNN channel to its C*H*W block after Flatten", async () => {
  const graph = buildDependencyGraph(await fixture("mnist_cnn.onnx"));
  const conv2 = graph.groups[1]!;
  assert.deepEqual(conv2.sources.map((s) => s.name), ["conv2"]);
  assert.deepEqual(conv2.members.map((m) => [m.node, m.role]), [
    ["conv2", "source"],
    ["bn2", "follower"],
    ["fc", "consumer"],
  ]);
  assert.equal(conv2.sources[0]!.activation, "relu2_out");
  const positions = graph.removedPositions("flatten_out", new Map([[1, [2]]]));
  assert.deepEqual(positions, Array.from({ length: 196 }, (_, i) => 2 * 196 + i));
  assert.deepEqual(graph.removedPositions("pool_out", new Map([[1, [2, 5]]])), [2, 5]);
});

Deno.test("DependencyGraph.apply() refuses unprunable groups and removing every unit", async () => {
  const graph = buildDependencyGraph(await fixture("mnist_mlp.onnx"));
  assert.throws(
    () => graph.apply(new Map([[2, [0]]])),
    /Cannot prune node 'fc3': it feeds graph output/,
  );
  assert.throws(
    () => graph.apply(new Map([[1, [...Array(128).keys()]]])),
    /removing all 128 units/,
  );
  assert.throws(() => graph.apply(new Map([[0, [256]]])), RangeError);
  const { model, removedInputs } = graph.apply(new Map([[0, [1, 3]]]));
  const fc2 = model.graph!.node.find((n) => n.name === "fc2")!;
  assert.deepEqual(removedInputs.get(fc2), [1, 3]);
  assert.deepEqual(model.graph!.initializer.find((t) => t.name === "fc2.weight")!.dims, [
    128n,
    254n,
  ]);
});

Deno.test("buildDependencyGraph() couples a squeeze-excitation gate with its trunk through Mul", async () => {
  const c = 4;
  const build = (w: Record<string, Float32Array>, n: number): ModelProto =>
    model(
      [
        conv("A", ["x", "wA", "bA"], "a", { kernel: 3, pad: 1 }),
        makeNode("Relu", { name: "relu", inputs: ["a"], outputs: ["r"] }),
        makeNode("GlobalAveragePool", { name: "gap", inputs: ["r"], outputs: ["p"] }),
        conv("S", ["p", "wS", "bS"], "s", { kernel: 1 }),
        makeNode("Sigmoid", { name: "sig", inputs: ["s"], outputs: ["g"] }),
        makeNode("Mul", { name: "gate", inputs: ["r", "g"], outputs: ["m"] }),
        conv("C", ["m", "wC"], "y", { kernel: 1 }),
      ],
      [
        tensor("wA", w.wA!, [n, 2, 3, 3]),
        tensor("bA", w.bA!, [n]),
        tensor("wS", w.wS!, [n, n, 1, 1]),
        tensor("bS", w.bS!, [n]),
        tensor("wC", w.wC!, [2, n, 1, 1]),
      ],
      { input: [1, 2, 4, 4], output: [1, 2, 4, 4] },
    );
  const w: Record<string, Float32Array> = {};
  for (
    const [name, dims, seed] of [
      ["wA", [c, 2, 3, 3], 1],
      ["bA", [c], 2],
      ["wS", [c, c, 1, 1], 3],
      ["bS", [c], 4],
      ["wC", [2, c, 1, 1], 5],
    ] as const
  ) w[name] = new Float32Array(weight(name, dims, seed).rawData.slice().buffer);
  const original = build(w, c);
  const graph = buildDependencyGraph(original);
  const group = graph.groups.find((g) => g.sources.some((s) => s.name === "A"))!;
  assert.deepEqual(group.sources.map((s) => s.name), ["A", "S"]);
  assert.ok(group.members.some((m) => m.node === "gate" && m.role === "coupling"));
  const result = await pruneChannels(original, { sparsity: 0.5 });
  const removed = result.layers.find((l) => l.node === "A")!.removed;
  assert.deepEqual(result.layers.find((l) => l.node === "S")!.removed, removed);
  const keep = keptOf(c, removed);
  const reference = build({
    wA: sliceAxis(w.wA!, [c, 2, 3, 3], 0, keep),
    bA: sliceAxis(w.bA!, [c], 0, keep),
    wS: sliceAxis(sliceAxis(w.wS!, [c, c, 1, 1], 0, keep), [2, c, 1, 1], 1, keep),
    bS: sliceAxis(w.bS!, [c], 0, keep),
    wC: sliceAxis(w.wC!, [2, c, 1, 1], 1, keep),
  }, 2);
  await assertSameOutputs(result.model, reference, [1, 2, 4, 4]);
});

Deno.test("buildDependencyGraph() freezes only the part of a Concat that no layer makes", () => {
  const m = model(
    [
      conv("A", ["x", "wA"], "a", { kernel: 1 }),
      makeNode("Concat", {
        name: "cat",
        inputs: ["a", "x"],
        outputs: ["c"],
        attributes: { axis: attrInt(1) },
      }),
      conv("C", ["c", "wC"], "y", { kernel: 1 }),
    ],
    [weight("wA", [3, 2, 1, 1], 1), weight("wC", [2, 5, 1, 1], 2)],
    { input: [1, 2, 3, 3], output: [1, 2, 3, 3] },
  );
  const graph = buildDependencyGraph(m);
  assert.equal(graph.groups[0]!.prunable, true);
  const { model: pruned } = graph.apply(new Map([[0, [1]]]));
  assert.deepEqual(
    Array.from(initializerData(pruned, "wC")),
    Array.from(sliceAxis(initializerData(m, "wC"), [2, 5, 1, 1], 1, [0, 2, 3, 4])),
  );
});

Deno.test("buildDependencyGraph() reports a Transpose reader and a shared weight", () => {
  const m = model(
    [
      conv("A", ["x", "wA"], "a", { kernel: 1 }),
      makeNode("Transpose", {
        name: "t",
        inputs: ["a"],
        outputs: ["at"],
        attributes: { perm: attrInts([0, 2, 3, 1]) },
      }),
      conv("B", ["x", "wB"], "b", { kernel: 1 }),
      conv("B2", ["x", "wB"], "b2", { kernel: 1 }),
      makeNode("Add", { name: "sum", inputs: ["b", "b2"], outputs: ["s"] }),
      makeNode("Concat", {
        name: "cat",
        inputs: ["at", "at"],
        outputs: ["y"],
        attributes: { axis: attrInt(1) },
      }),
    ],
    [weight("wA", [3, 2, 1, 1], 1), weight("wB", [3, 2, 1, 1], 2)],
    { input: [1, 2, 3, 3], output: [1, 6, 3, 3] },
  );
  const graph = buildDependencyGraph(m);
  assert.ok(graph.unsupported.some((u) => u.node === "t" && u.op === "Transpose"));
  assert.ok(graph.unsupported.some((u) => u.node === "B" && /shared/.test(u.reason)));
  assert.equal(graph.groups.length, 1);
  assert.equal(graph.groups[0]!.prunable, false);
  assert.match(graph.groups[0]!.reason!, /node 't' \(Transpose\)/);
});
