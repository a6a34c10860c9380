import { deepStrictEqual, equal, ok, throws } from "node:assert/strict";
import { mulberry32 } from "../../test/support/prng.ts";
import { runModel } from "../../test/support/run_model.ts";
import { readSilero, SILERO_VERSIONS, sileroFeeds } from "../../test/support/silero.ts";
import { branchGraph, ifNode } from "./_testing.ts";
import { makeGraph, makeNode } from "./build.ts";
import { GraphIndex } from "./graph_index.ts";
import { nodeSubgraphs, outerScopeNames, walkGraphs } from "./subgraphs.ts";
import type { GraphProto, NodeProto } from "./_gen/onnx_pb.ts";
import { sortTopologically, topologicalOrder } from "./topological_sort.ts";

function relu(name: string, input: string, output: string) {
  return makeNode("Relu", { name, inputs: [input], outputs: [output] });
}

Deno.test("topologicalOrder() keeps an order that is already valid", () => {
  const nodes = [
    relu("a", "x", "a"),
    relu("d", "x", "d"),
    relu("b", "a", "b"),
    relu("c", "b", "c"),
  ];
  const graph = makeGraph("g", { nodes });
  deepStrictEqual(topologicalOrder(graph), nodes);
  equal(sortTopologically(graph), false);
  deepStrictEqual(graph.node, nodes);
});

Deno.test("topologicalOrder() moves nodes only as far as their inputs require", () => {
  const graph = makeGraph("g", {
    nodes: [relu("c", "b", "c"), relu("a", "x", "a"), relu("b", "a", "b"), relu("d", "x", "d")],
  });
  deepStrictEqual(topologicalOrder(graph).map((n) => n.name), ["a", "b", "c", "d"]);
  // Independent nodes keep their relative order.
  const flat = makeGraph("g", {
    nodes: [relu("p", "x", "p"), relu("q", "x", "q"), relu("r", "x", "r")],
  });
  deepStrictEqual(topologicalOrder(flat).map((n) => n.name), ["p", "q", "r"]);
});

Deno.test("topologicalOrder() treats reads inside subgraphs as dependencies", () => {
  const branch = branchGraph("then", { nodes: [relu("inner", "late", "i")], output: "i" });
  const graph = makeGraph("g", {
    nodes: [ifNode("if", { then: branch }), relu("producer", "x", "late")],
  });
  deepStrictEqual(topologicalOrder(graph).map((n) => n.name), ["producer", "if"]);
});

Deno.test("topologicalOrder() names the nodes on a cycle", () => {
  const graph = makeGraph("loopy", {
    nodes: [
      relu("start", "x", "s"),
      makeNode("Add", { name: "a", inputs: ["s", "b_out"], outputs: ["a_out"] }),
      relu("b", "a_out", "b_out"),
      relu("after", "b_out", "z"),
    ],
  });
  throws(() => topologicalOrder(graph), (e: unknown) => {
    ok(e instanceof RangeError);
    ok(
      /^Cannot sort graph 'loopy': nodes '(a|b)' -> '(a|b)' -> '(a|b)' form a cycle$/.test(
        e.message,
      ),
      e.message,
    );
    return true;
  });
  throws(
    () => topologicalOrder(makeGraph("self", { nodes: [relu("me", "m", "m")] })),
    /nodes 'me' -> 'me' form a cycle/,
  );
  const before = graph.node.slice();
  throws(() => sortTopologically(graph));
  deepStrictEqual(graph.node, before, "a failed sort leaves the graph alone");
});

Deno.test("topologicalOrder() handles empty inputs and values from outside", () => {
  const graph = makeGraph("g", {
    nodes: [
      makeNode("Clip", { name: "clip", inputs: ["x", "", "hi"], outputs: ["y"] }),
      relu("hi", "w", "hi"),
    ],
  });
  deepStrictEqual(topologicalOrder(graph).map((n) => n.name), ["hi", "clip"]);
  deepStrictEqual(topologicalOrder(makeGraph("empty")), []);
});

Deno.test("sortTopologically() keeps a GraphIndex over the graph valid", () => {
  const graph = makeGraph("g", { nodes: [relu("b", "a", "b"), relu("a", "x", "a")] });
  const index = new GraphIndex(graph);
  ok(sortTopologically(graph));
  equal(index.positionOf(index.node("a")!), 0);
  equal(index.producerOf("b")?.node.name, "b");
});

Deno.test("sortTopologically() leaves the silero models as they are and restores shuffled ones", async () => {
  for (const version of SILERO_VERSIONS) {
    const model = await readSilero(version);
    const expected = await runModel(model, sileroFeeds(version));
    for (const entry of walkGraphs(model)) {
      equal(sortTopologically(entry.graph!), false, entry.path);
    }
    // Shuffle every graph deterministically, then sort it back into a valid order.
    const rand = mulberry32(12345);
    let shuffled = 0;
    for (const entry of walkGraphs(model)) {
      const nodes = entry.graph!.node;
      for (let i = nodes.length - 1; i > 0; i--) {
        const j = Math.floor(rand() * (i + 1));
        [nodes[i], nodes[j]] = [nodes[j]!, nodes[i]!];
      }
      if (sortTopologically(entry.graph!)) shuffled++;
      assertTopological(entry.graph!, entry.path);
    }
    ok(shuffled > 3, `${version}: some graphs were out of order`);
    deepStrictEqual(await runModel(model, sileroFeeds(version)), expected, version);
  }
});

/** Every value a node reads is produced by an earlier node, or not by any node of the graph. */
function assertTopological(graph: GraphProto, label: string): void {
  const producedBy = new Map<string, number>();
  graph.node.forEach((n, i) => n.output.forEach((o) => producedBy.set(o, i)));
  graph.node.forEach((node, i) => {
    const reads = [
      ...node.input,
      ...nodeSubgraphs(node).flatMap((s) => [...outerScopeNames(s.graph)]),
    ];
    for (const r of reads) {
      const p = producedBy.get(r);
      ok(
        r === "" || p === undefined || p < i,
        `${label}: ${node.name} reads '${r}' before it is made`,
      );
    }
  });
}

Deno.test("sortTopologically() handles graphs too long to spread into a call", () => {
  // Spreading ~10^5 elements into splice() overflows V8's stack; the sort must not do that.
  const n = 300_000;
  const nodes: NodeProto[] = [];
  for (let i = 0; i < n; i++) nodes.push(relu("", i === 0 ? "x" : `v${i - 1}`, `v${i}`));
  const graph = makeGraph("long", { nodes: nodes.slice().reverse() });
  ok(sortTopologically(graph));
  equal(graph.node.length, n);
  ok(graph.node.every((node, i) => node === nodes[i]));
});
