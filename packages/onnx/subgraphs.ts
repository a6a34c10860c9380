/**
 * Walking every graph of a model: the main graph, graphs held in node attributes (If, Loop, Scan
 * and any other GRAPH/GRAPHS attribute, at any depth), local function bodies and training graphs.
 *
 * @example
 * ```ts
 * import { decodeModel, walkGraphs } from "@modelpress/onnx";
 * const model = decodeModel(await Deno.readFile("model.onnx"));
 * for (const entry of walkGraphs(model)) console.log(entry.path, entry.nodes.length);
 * ```
 * @module
 */
import type { FunctionProto, GraphProto, ModelProto, NodeProto } from "./_gen/onnx_pb.ts";

/** What holds a node list found by {@linkcode walkGraphs}. */
export type GraphKind = "main" | "subgraph" | "function" | "training";

/** Where a subgraph sits: the node and attribute that hold it, in the graph that holds the node. */
export interface SubgraphParent {
  /** The entry of the graph or function whose node holds the subgraph. */
  readonly entry: GraphEntry;
  /** The node holding the subgraph (an If, Loop, Scan, ...). */
  readonly node: NodeProto;
  /** The attribute name, e.g. "then_branch" or "body". */
  readonly attribute: string;
  /** The position in a GRAPHS attribute; `undefined` for a GRAPH attribute. */
  readonly index: number | undefined;
}

/** One node list found by {@linkcode walkGraphs}. */
export interface GraphEntry {
  /**
   * Where it is: `main` for the main graph, `main/If_0.then_branch` for a graph held in attribute
   * `then_branch` of node `If_0` (an unnamed node is written `If#3`, its position), `.attr[1]` for
   * a GRAPHS attribute, `function/<domain>:<name>` for a function body, and
   * `training[0].initialization` / `training[0].algorithm` for training graphs.
   */
  readonly path: string;
  /** 0 for the main graph, function bodies and training graphs; +1 per nesting level. */
  readonly depth: number;
  /** What holds the nodes. */
  readonly kind: GraphKind;
  /** The graph; `undefined` for a function body. */
  readonly graph: GraphProto | undefined;
  /** The function, for kind "function"; `undefined` otherwise. */
  readonly function: FunctionProto | undefined;
  /** The live node array of the graph or function. */
  readonly nodes: NodeProto[];
  /** For kind "subgraph": where the graph is held; `undefined` otherwise. */
  readonly parent: SubgraphParent | undefined;
}

/** One node found by {@linkcode walkNodes}, with the graph or function that owns it. */
export interface NodeEntry {
  /** The node. */
  readonly node: NodeProto;
  /** Its position in the owner's node list (at the time it was visited). */
  readonly index: number;
  /** The graph or function that owns it. */
  readonly owner: GraphEntry;
}

/** A graph held in a node attribute, as listed by {@linkcode nodeSubgraphs}. */
export interface NodeSubgraph {
  /** The attribute name. */
  readonly attribute: string;
  /** The position in a GRAPHS attribute; `undefined` for a GRAPH attribute. */
  readonly index: number | undefined;
  /** The graph. */
  readonly graph: GraphProto;
}

/**
 * Lists the graphs held in a node's attributes (`g` of a GRAPH attribute, `graphs` of a GRAPHS
 * attribute), in attribute order.
 *
 * @param node The node.
 * @returns Its subgraphs; empty for most nodes.
 * @example
 * ```ts
 * import { makeGraph, makeNode, nodeSubgraphs } from "@modelpress/onnx";
 * const branch = makeGraph("branch");
 * const ifNode = makeNode("If", { inputs: ["c"], attributes: { then_branch: branch, else_branch: branch } });
 * nodeSubgraphs(ifNode).map((s) => s.attribute); // ["then_branch", "else_branch"]
 * ```
 */
export function nodeSubgraphs(node: NodeProto): NodeSubgraph[] {
  const found: NodeSubgraph[] = [];
  for (const attr of node.attribute) {
    if (attr.g !== undefined) found.push({ attribute: attr.name, index: undefined, graph: attr.g });
    for (const [index, graph] of attr.graphs.entries()) {
      found.push({ attribute: attr.name, index, graph });
    }
  }
  return found;
}

/**
 * The label of a node in graph paths: its name, or `<opType>#<position>` when it has none.
 *
 * @param node The node.
 * @param index Its position in its graph.
 * @returns The label.
 * @example
 * ```ts
 * import { makeNode, nodeLabel } from "@modelpress/onnx";
 * nodeLabel(makeNode("If"), 3); // "If#3"
 * ```
 */
export function nodeLabel(node: NodeProto, index: number): string {
  return node.name !== "" ? node.name : `${node.opType}#${index}`;
}

/** Options for {@linkcode walkGraphs} and {@linkcode walkNodes}. */
export interface WalkGraphsOptions {
  /** Visit graphs held in node attributes (default true). */
  readonly subgraphs?: boolean;
  /** Visit local function bodies, for a model (default true). */
  readonly functions?: boolean;
  /** Visit training graphs, for a model (default true). */
  readonly training?: boolean;
}

/**
 * Walks every graph of a model (or every graph under one graph), parents before children:
 * the main graph, then its subgraphs depth first in node order, then function bodies (and their
 * subgraphs), then training graphs. Each graph's node list is read when the walk reaches it, so
 * a caller may edit a graph it was given before asking for the next entry; subgraphs of nodes
 * added meanwhile are visited, those of removed nodes are not.
 *
 * @param root A model, or a graph (walked as "main").
 * @param options Which kinds of graphs to visit.
 * @returns A generator of entries.
 * @example
 * ```ts
 * import { decodeModel, walkGraphs } from "@modelpress/onnx";
 * const model = decodeModel(await Deno.readFile("model.onnx"));
 * const paths = [...walkGraphs(model)].map((e) => e.path); // ["main", "main/If_0.then_branch", ...]
 * ```
 */
export function* walkGraphs(
  root: ModelProto | GraphProto,
  options: WalkGraphsOptions = {},
): Generator<GraphEntry, void, undefined> {
  const subgraphs = options.subgraphs ?? true;
  if (root.$typeName === "onnx.GraphProto") {
    yield* walkGraph(graphEntry(root, "main", "main"), subgraphs);
    return;
  }
  if (root.graph !== undefined) {
    yield* walkGraph(graphEntry(root.graph, "main", "main"), subgraphs);
  }
  if (options.functions ?? true) {
    for (const fn of root.functions) {
      const overload = fn.overload !== "" ? `:${fn.overload}` : "";
      const entry: GraphEntry = {
        path: `function/${fn.domain}:${fn.name}${overload}`,
        depth: 0,
        kind: "function",
        graph: undefined,
        function: fn,
        nodes: fn.node,
        parent: undefined,
      };
      yield* walkGraph(entry, subgraphs);
    }
  }
  if (options.training ?? true) {
    for (const [i, info] of root.trainingInfo.entries()) {
      if (info.initialization !== undefined) {
        const path = `training[${i}].initialization`;
        yield* walkGraph(graphEntry(info.initialization, path, "training"), subgraphs);
      }
      if (info.algorithm !== undefined) {
        const path = `training[${i}].algorithm`;
        yield* walkGraph(graphEntry(info.algorithm, path, "training"), subgraphs);
      }
    }
  }
}

/**
 * Walks every node of a model (or of a graph and its subgraphs) with the graph or function that
 * owns it, in the order of {@linkcode walkGraphs}; each graph's nodes are visited in order, before
 * the graphs nested in them.
 *
 * @param root A model, or a graph.
 * @param options Which kinds of graphs to visit.
 * @returns A generator of node entries.
 * @example
 * ```ts
 * import { decodeModel, walkNodes } from "@modelpress/onnx";
 * const model = decodeModel(await Deno.readFile("model.onnx"));
 * for (const { node, owner } of walkNodes(model)) console.log(owner.path, node.opType);
 * ```
 */
export function* walkNodes(
  root: ModelProto | GraphProto,
  options: WalkGraphsOptions = {},
): Generator<NodeEntry, void, undefined> {
  for (const owner of walkGraphs(root, options)) {
    const nodes = owner.nodes.slice();
    for (const [index, node] of nodes.entries()) yield { node, index, owner };
  }
}

/**
 * The names a graph reads from outer scopes: every name read by its nodes, or by graphs nested
 * in them at any depth, that the graph does not define itself (as a graph input, an initializer,
 * a sparse initializer or a node output). Empty input names (omitted optional inputs) are
 * skipped. Linear in the size of the graph and its subgraphs.
 *
 * @param graph The graph, typically the body of an If, Loop or Scan.
 * @returns The outer-scope names, in first-use order.
 * @example
 * ```ts
 * import { makeGraph, makeNode, outerScopeNames } from "@modelpress/onnx";
 * const body = makeGraph("then", { nodes: [makeNode("Relu", { inputs: ["x"], outputs: ["y"] })] });
 * outerScopeNames(body); // Set { "x" }
 * ```
 */
export function outerScopeNames(graph: GraphProto): Set<string> {
  const defined = new Set<string>();
  for (const v of graph.input) defined.add(v.name);
  for (const t of graph.initializer) defined.add(t.name);
  for (const s of graph.sparseInitializer) {
    if (s.values !== undefined) defined.add(s.values.name);
  }
  for (const node of graph.node) {
    for (const name of node.output) if (name !== "") defined.add(name);
  }
  const outer = new Set<string>();
  for (const node of graph.node) {
    for (const name of node.input) {
      if (name !== "" && !defined.has(name)) outer.add(name);
    }
    for (const { graph: sub } of nodeSubgraphs(node)) {
      for (const name of outerScopeNames(sub)) if (!defined.has(name)) outer.add(name);
    }
  }
  // A graph output may be an outer value passed through (If branches do this).
  for (const v of graph.output) if (!defined.has(v.name)) outer.add(v.name);
  return outer;
}

function graphEntry(graph: GraphProto, path: string, kind: GraphKind): GraphEntry {
  return {
    path,
    depth: 0,
    kind,
    graph,
    function: undefined,
    nodes: graph.node,
    parent: undefined,
  };
}

function* walkGraph(entry: GraphEntry, subgraphs: boolean): Generator<GraphEntry, void, undefined> {
  yield entry;
  if (!subgraphs) return;
  const nodes = entry.nodes.slice();
  for (const [position, node] of nodes.entries()) {
    for (const { attribute, index, graph } of nodeSubgraphs(node)) {
      const suffix = index === undefined ? "" : `[${index}]`;
      yield* walkGraph({
        path: `${entry.path}/${nodeLabel(node, position)}.${attribute}${suffix}`,
        depth: entry.depth + 1,
        kind: "subgraph",
        graph,
        function: undefined,
        nodes: graph.node,
        parent: { entry, node, attribute, index },
      }, subgraphs);
    }
  }
}
