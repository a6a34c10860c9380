/**
 * Topological order of a graph's nodes (Kahn's algorithm, stable: a graph already in a valid
 * order keeps it, and otherwise nodes move as little as the dependencies require), with cycle
 * detection. Reads from inside subgraphs (outer-scope names) count as dependencies.
 *
 * @example
 * ```ts
 * import { decodeModel, sortTopologically } from "@modelpress/onnx";
 * const model = decodeModel(await Deno.readFile("model.onnx"));
 * sortTopologically(model.graph!);
 * ```
 * @module
 */
import type { GraphProto, NodeProto } from "./_gen/onnx_pb.ts";
import { describeGraph } from "./_describe.ts";
import { nodeLabel, nodeSubgraphs, outerScopeNames } from "./subgraphs.ts";

/**
 * The graph's nodes in topological order: every node after the producers of the values it
 * reads (inputs, and outer-scope names read inside its subgraphs). Among the nodes ready at each
 * step the one earliest in the current order goes first, so a valid order is kept as it is.
 * Values that no node produces (graph inputs, initializers, outer-scope values) are available
 * from the start. Runs in O((nodes + edges) log nodes).
 *
 * @param graph The graph.
 * @returns The nodes in order (a new array; the graph is not changed).
 * @throws {RangeError} When the nodes form a cycle; the message names the nodes on one cycle,
 *   e.g. "Cannot sort graph 'g': nodes 'a' -> 'b' -> 'a' form a cycle".
 * @example
 * ```ts
 * import { makeGraph, makeNode, topologicalOrder } from "@modelpress/onnx";
 * const b = makeNode("Relu", { inputs: ["a"], outputs: ["b"], name: "second" });
 * const a = makeNode("Relu", { inputs: ["x"], outputs: ["a"], name: "first" });
 * topologicalOrder(makeGraph("g", { nodes: [b, a] })).map((n) => n.name); // ["first", "second"]
 * ```
 */
export function topologicalOrder(graph: GraphProto): NodeProto[] {
  const nodes = graph.node;
  const n = nodes.length;
  const producer = new Map<string, number>();
  for (const [i, node] of nodes.entries()) {
    for (const value of node.output) {
      if (value !== "" && !producer.has(value)) producer.set(value, i);
    }
  }
  const predecessors: number[][] = [];
  const successors: number[][] = Array.from({ length: n }, () => []);
  const indegree = new Int32Array(n);
  for (const [i, node] of nodes.entries()) {
    const deps = new Set<number>();
    for (const value of readsOf(node)) {
      const p = producer.get(value);
      if (p !== undefined) deps.add(p);
    }
    predecessors.push([...deps]);
    indegree[i] = deps.size;
    for (const p of deps) successors[p]?.push(i);
  }
  const ready = new MinHeap();
  for (let i = 0; i < n; i++) if (indegree[i] === 0) ready.push(i);
  const order: NodeProto[] = [];
  const emitted = new Uint8Array(n);
  while (ready.size > 0) {
    const i = ready.pop();
    emitted[i] = 1;
    order.push(nodes[i] as NodeProto);
    for (const s of successors[i] ?? []) {
      indegree[s] = (indegree[s] ?? 0) - 1;
      if (indegree[s] === 0) ready.push(s);
    }
  }
  if (order.length < n) {
    const cycle = findCycle(predecessors, emitted);
    const names = cycle.map((i) => `'${nodeLabel(nodes[i] as NodeProto, i)}'`);
    throw new RangeError(
      `Cannot sort ${describeGraph(graph)}: nodes ${names.join(" -> ")} form a cycle`,
    );
  }
  return order;
}

/**
 * Sorts a graph's nodes into topological order in place (see {@linkcode topologicalOrder}). The
 * node objects stay the same, so a `GraphIndex` over the graph stays valid.
 *
 * @param graph The graph.
 * @returns Whether the order changed.
 * @throws {RangeError} When the nodes form a cycle (the graph is then left unchanged).
 * @example
 * ```ts
 * import { makeGraph, makeNode, sortTopologically } from "@modelpress/onnx";
 * const graph = makeGraph("g", {
 *   nodes: [
 *     makeNode("Relu", { inputs: ["a"], outputs: ["b"] }),
 *     makeNode("Relu", { inputs: ["x"], outputs: ["a"] }),
 *   ],
 * });
 * sortTopologically(graph); // true
 * ```
 */
export function sortTopologically(graph: GraphProto): boolean {
  const order = topologicalOrder(graph);
  let changed = false;
  for (const [i, node] of order.entries()) {
    if (graph.node[i] !== node) {
      changed = true;
      break;
    }
  }
  // Element by element: spreading a huge array into splice() overflows the stack.
  if (changed) { for (const [i, node] of order.entries()) graph.node[i] = node; }
  return changed;
}

/** The values a node reads: its non-empty inputs and the outer names its subgraphs read. */
function readsOf(node: NodeProto): Set<string> {
  const reads = new Set<string>();
  for (const value of node.input) if (value !== "") reads.add(value);
  for (const { graph } of nodeSubgraphs(node)) {
    for (const name of outerScopeNames(graph)) reads.add(name);
  }
  return reads;
}

/**
 * A cycle among the nodes not emitted: every such node has a predecessor that was not emitted
 * either, so walking predecessors from any of them must come back to a node already seen.
 */
function findCycle(predecessors: readonly number[][], emitted: Uint8Array): number[] {
  const start = emitted.indexOf(0);
  const seenAt = new Map<number, number>();
  const path: number[] = [];
  let current = start;
  while (!seenAt.has(current)) {
    seenAt.set(current, path.length);
    path.push(current);
    const next = (predecessors[current] ?? []).find((p) => emitted[p] === 0);
    if (next === undefined) break; // unreachable: a stuck node has a stuck predecessor
    current = next;
  }
  const from = seenAt.get(current) ?? 0;
  // Predecessor order runs against the edges; reverse it to read as data flows.
  const cycle = path.slice(from).reverse();
  const first = cycle[0];
  if (first !== undefined) cycle.push(first);
  return cycle;
}

/** A binary min-heap of node positions. */
class MinHeap {
  #items: number[] = [];

  get size(): number {
    return this.#items.length;
  }

  push(value: number): void {
    const items = this.#items;
    items.push(value);
    let i = items.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      const p = items[parent] as number;
      if (p <= value) break;
      items[i] = p;
      i = parent;
    }
    items[i] = value;
  }

  pop(): number {
    const items = this.#items;
    const top = items[0] as number;
    const last = items.pop() as number;
    const n = items.length;
    if (n > 0) {
      let i = 0;
      while (true) {
        const l = 2 * i + 1;
        if (l >= n) break;
        const r = l + 1;
        const c = r < n && (items[r] as number) < (items[l] as number) ? r : l;
        if ((items[c] as number) >= last) break;
        items[i] = items[c] as number;
        i = c;
      }
      items[i] = last;
    }
    return top;
  }
}
