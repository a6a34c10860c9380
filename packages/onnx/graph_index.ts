/**
 * An index over one GraphProto: initializers and constants by name, the producer and the
 * consumers of each value (including reads from inside subgraphs), graph inputs and outputs.
 *
 * The index is built once in linear time and kept right by the edits of
 * {@linkcode GraphEditor} (a subclass), which update it incrementally. Edits made to the protos
 * directly make it stale: adding or removing nodes, initializers, inputs or outputs is detected
 * (by their counts) on the next query, which then throws; edits inside an existing node (its
 * inputs, outputs or subgraphs) cannot be detected, so tell the index with
 * {@linkcode GraphIndex.refreshNode}, or call {@linkcode GraphIndex.rebuild}.
 *
 * @example
 * ```ts
 * import { decodeModel, GraphIndex } from "@modelpress/onnx";
 * const model = decodeModel(await Deno.readFile("model.onnx"));
 * const index = new GraphIndex(model.graph!);
 * for (const use of index.consumersOf("input")) console.log(use.node.name, use.kind);
 * ```
 * @module
 */
import { create } from "@bufbuild/protobuf";
import {
  type GraphProto,
  type NodeProto,
  type SparseTensorProto,
  type TensorProto,
  TensorProto_DataType,
  TensorProtoSchema,
} from "./_gen/onnx_pb.ts";
import { describeGraph, describeNode } from "./_describe.ts";
import { isDefaultDomain } from "./opset.ts";
import { nodeSubgraphs, outerScopeNames } from "./subgraphs.ts";

/** A read of a value by a node. */
export type ValueUse =
  /** The value is the node's input at `slot`. */
  | { readonly kind: "input"; readonly node: NodeProto; readonly slot: number }
  /** The value is read inside one of the node's subgraphs (an outer-scope reference). */
  | { readonly kind: "subgraph"; readonly node: NodeProto };

/** The node output that produces a value. */
export interface ValueProducer {
  /** The node. */
  readonly node: NodeProto;
  /** The output slot. */
  readonly slot: number;
}

/** Where a constant value comes from, as found by {@linkcode GraphIndex.constantOf}. */
export type ConstantSource =
  | {
    readonly kind: "initializer";
    readonly tensor: TensorProto;
    /** True when the name is also a graph input, so a caller may feed another value. */
    readonly overridable: boolean;
  }
  | {
    readonly kind: "sparse_initializer";
    readonly sparse: SparseTensorProto;
    /** True when the name is also a graph input, so a caller may feed another value. */
    readonly overridable: boolean;
  }
  | {
    readonly kind: "node";
    /** The Constant node. */
    readonly node: NodeProto;
    /** Its value as a dense tensor; `undefined` for a `sparse_value` Constant. */
    readonly tensor: TensorProto | undefined;
  };

/** Options for {@linkcode GraphIndex}. */
export interface GraphIndexOptions {
  /**
   * The index of the graph that holds this one (for a subgraph): lookups of constants and
   * initializers fall back to it for names this graph does not define.
   */
  readonly parent?: GraphIndex | undefined;
}

interface NodeRecord {
  name: string;
  inputs: string[];
  outputs: string[];
  /** Names read inside the node's subgraphs from outer scopes. */
  implicit: string[];
}

interface Counts {
  nodes: number;
  initializers: number;
  sparse: number;
  inputs: number;
  outputs: number;
}

const EMPTY: readonly ValueUse[] = Object.freeze([]);

/**
 * An index over one graph; see the module documentation for how it stays right.
 *
 * @example
 * ```ts
 * import { GraphIndex, makeGraph, makeNode } from "@modelpress/onnx";
 * const graph = makeGraph("g", { nodes: [makeNode("Relu", { inputs: ["x"], outputs: ["y"], name: "r" })] });
 * const index = new GraphIndex(graph);
 * index.producerOf("y")?.node.name; // "r"
 * ```
 */
export class GraphIndex {
  /** The indexed graph. */
  readonly graph: GraphProto;
  /** The index of the enclosing graph, for a subgraph. */
  readonly parent: GraphIndex | undefined;

  #records = new Map<NodeProto, NodeRecord>();
  #producers = new Map<string, ValueProducer>();
  /** value -> reading node -> its reads (a node may read a value in several slots). */
  #uses = new Map<string, Map<NodeProto, ValueUse[]>>();
  #nodesByName = new Map<string, NodeProto[]>();
  #initializers = new Map<string, TensorProto>();
  #sparse = new Map<string, SparseTensorProto>();
  #inputs = new Map<string, number>();
  #outputs = new Map<string, number>();
  #positions: Map<NodeProto, number> | undefined;
  #subgraphNames: Set<string> | undefined;
  #counts: Counts = { nodes: 0, initializers: 0, sparse: 0, inputs: 0, outputs: 0 };

  /**
   * Indexes a graph in time linear in its size (subgraphs included, which are scanned for the
   * outer names they read).
   *
   * @param graph The graph.
   * @param options The parent index, for a subgraph.
   * @throws {RangeError} When two nodes produce the same value.
   */
  constructor(graph: GraphProto, options: GraphIndexOptions = {}) {
    this.graph = graph;
    this.parent = options.parent;
    this.rebuild();
  }

  /**
   * Rebuilds the whole index from the graph, after edits made outside {@linkcode GraphEditor}.
   *
   * @throws {RangeError} When two nodes produce the same value.
   * @example
   * ```ts
   * import { GraphIndex, makeGraph, makeNode } from "@modelpress/onnx";
   * const graph = makeGraph("g");
   * const index = new GraphIndex(graph);
   * graph.node.push(makeNode("Relu", { inputs: ["x"], outputs: ["y"] }));
   * index.rebuild();
   * ```
   */
  rebuild(): void {
    this.#records.clear();
    this.#producers.clear();
    this.#uses.clear();
    this.#nodesByName.clear();
    this.#initializers.clear();
    this.#sparse.clear();
    this.#inputs.clear();
    this.#outputs.clear();
    this.#positions = undefined;
    this.#subgraphNames = undefined;
    const g = this.graph;
    for (const t of g.initializer) {
      if (!this.#initializers.has(t.name)) this.#initializers.set(t.name, t);
    }
    for (const s of g.sparseInitializer) {
      const name = s.values?.name ?? "";
      if (!this.#sparse.has(name)) this.#sparse.set(name, s);
    }
    for (const [i, v] of g.input.entries()) {
      if (!this.#inputs.has(v.name)) this.#inputs.set(v.name, i);
    }
    for (const [i, v] of g.output.entries()) {
      if (!this.#outputs.has(v.name)) this.#outputs.set(v.name, i);
    }
    for (const node of g.node) this.registerNode(node);
    this.#snapshotCounts();
  }

  /** The graph's node list (the live array; edit it through {@linkcode GraphEditor}). */
  get nodes(): readonly NodeProto[] {
    this.#check();
    return this.graph.node;
  }

  /**
   * The first node with this name.
   *
   * @param name A node name ("" finds nothing: unnamed nodes are not indexed by name).
   * @returns The node, or `undefined`.
   * @example
   * ```ts
   * import { GraphIndex, makeGraph } from "@modelpress/onnx";
   * new GraphIndex(makeGraph("g")).node("conv1"); // undefined
   * ```
   */
  node(name: string): NodeProto | undefined {
    this.#check();
    return this.#nodesByName.get(name)?.[0];
  }

  /**
   * Whether the node is in this graph.
   *
   * @param node A node.
   * @returns True when the graph holds this very node object.
   * @example
   * ```ts
   * import { GraphIndex, makeGraph, makeNode } from "@modelpress/onnx";
   * new GraphIndex(makeGraph("g")).contains(makeNode("Relu")); // false
   * ```
   */
  contains(node: NodeProto): boolean {
    this.#check();
    return this.#records.has(node);
  }

  /**
   * The position of a node in the graph's node list (cached between structural edits).
   *
   * @param node A node of this graph.
   * @returns Its position.
   * @throws {RangeError} When the node is not in this graph.
   * @example
   * ```ts
   * import { GraphIndex, makeGraph, makeNode } from "@modelpress/onnx";
   * const relu = makeNode("Relu", { inputs: ["x"], outputs: ["y"] });
   * new GraphIndex(makeGraph("g", { nodes: [relu] })).positionOf(relu); // 0
   * ```
   */
  positionOf(node: NodeProto): number {
    this.#check();
    this.#positions ??= new Map(this.graph.node.map((n, i) => [n, i]));
    let position = this.#positions.get(node);
    // Cached positions go stale when nodes are inserted, removed or reordered; a stale one is
    // found again with a native scan, which is cheaper than rebuilding the whole map each edit.
    if (position === undefined || this.graph.node[position] !== node) {
      position = this.graph.node.indexOf(node);
      if (position >= 0) this.#positions.set(node, position);
    }
    if (position === undefined || position < 0) {
      throw new RangeError(
        `Cannot find ${describeNode(node)}: it is not in ${describeGraph(this.graph)}`,
      );
    }
    return position;
  }

  /**
   * The node output that produces a value in this graph.
   *
   * @param value A value name.
   * @returns The producer, or `undefined` for graph inputs, initializers, outer-scope values and
   *   unknown names.
   * @example
   * ```ts
   * import { GraphIndex, makeGraph, makeNode } from "@modelpress/onnx";
   * const graph = makeGraph("g", { nodes: [makeNode("Relu", { inputs: ["x"], outputs: ["y"] })] });
   * new GraphIndex(graph).producerOf("y")?.slot; // 0
   * ```
   */
  producerOf(value: string): ValueProducer | undefined {
    this.#check();
    return this.#producers.get(value);
  }

  /**
   * The reads of a value by this graph's nodes: as an input (with its slot), or from inside one
   * of a node's subgraphs. Graph outputs are not reads; see {@linkcode GraphIndex.isGraphOutput}.
   *
   * @param value A value name.
   * @returns The uses, in no particular order (a node reading a value twice appears twice); a
   *   copy, so editing while iterating over it is safe.
   * @example
   * ```ts
   * import { GraphIndex, makeGraph, makeNode } from "@modelpress/onnx";
   * const graph = makeGraph("g", { nodes: [makeNode("Add", { inputs: ["x", "x"], outputs: ["y"] })] });
   * new GraphIndex(graph).consumersOf("x").map((u) => u.kind === "input" ? u.slot : -1); // [0, 1]
   * ```
   */
  consumersOf(value: string): readonly ValueUse[] {
    this.#check();
    const byNode = this.#uses.get(value);
    if (byNode === undefined) return EMPTY;
    const uses: ValueUse[] = [];
    for (const list of byNode.values()) for (const use of list) uses.push(use);
    return uses;
  }

  /**
   * Whether anything reads the value: a node (directly or from a subgraph) or a graph output.
   *
   * @param value A value name.
   * @returns True when removing the value would break something.
   * @example
   * ```ts
   * import { GraphIndex, makeGraph } from "@modelpress/onnx";
   * new GraphIndex(makeGraph("g")).isUsed("x"); // false
   * ```
   */
  isUsed(value: string): boolean {
    this.#check();
    return (this.#uses.get(value)?.size ?? 0) > 0 || this.#outputs.has(value);
  }

  /**
   * Whether the name is a graph input.
   *
   * @param name A value name.
   * @returns True for a graph input.
   * @example
   * ```ts
   * import { GraphIndex, makeGraph, makeValueInfo, TensorProto_DataType } from "@modelpress/onnx";
   * const graph = makeGraph("g", { inputs: [makeValueInfo("x", TensorProto_DataType.FLOAT)] });
   * new GraphIndex(graph).isGraphInput("x"); // true
   * ```
   */
  isGraphInput(name: string): boolean {
    this.#check();
    return this.#inputs.has(name);
  }

  /**
   * Whether the name is a graph output.
   *
   * @param name A value name.
   * @returns True for a graph output.
   * @example
   * ```ts
   * import { GraphIndex, makeGraph, makeValueInfo, TensorProto_DataType } from "@modelpress/onnx";
   * const graph = makeGraph("g", { outputs: [makeValueInfo("y", TensorProto_DataType.FLOAT)] });
   * new GraphIndex(graph).isGraphOutput("y"); // true
   * ```
   */
  isGraphOutput(name: string): boolean {
    this.#check();
    return this.#outputs.has(name);
  }

  /**
   * Whether this graph defines the value: as a graph input, an initializer, a sparse
   * initializer or a node output (outer-scope values are not defined here).
   *
   * @param name A value name.
   * @returns True when the value is defined in this graph.
   * @example
   * ```ts
   * import { GraphIndex, makeGraph, makeTensor } from "@modelpress/onnx";
   * const graph = makeGraph("g", { initializers: [makeTensor("w", new Float32Array(2))] });
   * new GraphIndex(graph).defines("w"); // true
   * ```
   */
  defines(name: string): boolean {
    this.#check();
    return this.#producers.has(name) || this.#inputs.has(name) || this.#initializers.has(name) ||
      this.#sparse.has(name);
  }

  /**
   * Whether the name occurs in this graph at all: defined, read by a node, or a graph output.
   *
   * @param name A value name.
   * @returns True when the name is taken in this graph.
   * @example
   * ```ts
   * import { GraphIndex, makeGraph } from "@modelpress/onnx";
   * new GraphIndex(makeGraph("g")).hasValue("x"); // false
   * ```
   */
  hasValue(name: string): boolean {
    this.#check();
    return this.defines(name) || this.#uses.has(name) || this.#outputs.has(name);
  }

  /**
   * Whether the name occurs anywhere inside the subgraphs of this graph's nodes (at any depth),
   * defined or read there. Cached until a node with subgraphs is added, removed or refreshed.
   *
   * @param name A value name.
   * @returns True when some subgraph uses the name.
   * @example
   * ```ts
   * import { GraphIndex, makeGraph } from "@modelpress/onnx";
   * new GraphIndex(makeGraph("g")).subgraphsUse("x"); // false
   * ```
   */
  subgraphsUse(name: string): boolean {
    this.#check();
    if (this.#subgraphNames === undefined) {
      const names = new Set<string>();
      for (const node of this.graph.node) {
        for (const { graph } of nodeSubgraphs(node)) collectNames(graph, names);
      }
      this.#subgraphNames = names;
    }
    return this.#subgraphNames.has(name);
  }

  /**
   * The dense initializer with this name, here or (for a subgraph) in an enclosing graph.
   *
   * @param name A value name.
   * @returns The tensor, or `undefined`.
   * @example
   * ```ts
   * import { GraphIndex, makeGraph, makeTensor } from "@modelpress/onnx";
   * const graph = makeGraph("g", { initializers: [makeTensor("w", new Float32Array(2))] });
   * new GraphIndex(graph).initializer("w")?.dims; // [2n]
   * ```
   */
  initializer(name: string): TensorProto | undefined {
    this.#check();
    const local = this.#initializers.get(name);
    if (local !== undefined) return local;
    return this.#definesOtherwise(name) ? undefined : this.parent?.initializer(name);
  }

  /**
   * The sparse initializer with this name, here or (for a subgraph) in an enclosing graph.
   *
   * @param name A value name.
   * @returns The sparse tensor, or `undefined`.
   * @example
   * ```ts
   * import { GraphIndex, makeGraph } from "@modelpress/onnx";
   * new GraphIndex(makeGraph("g")).sparseInitializer("w"); // undefined
   * ```
   */
  sparseInitializer(name: string): SparseTensorProto | undefined {
    this.#check();
    const local = this.#sparse.get(name);
    if (local !== undefined) return local;
    return this.#definesOtherwise(name) ? undefined : this.parent?.sparseInitializer(name);
  }

  /**
   * Where a constant value comes from: a dense or sparse initializer, or the output of a
   * Constant node; looked up here, then (for a subgraph) in the enclosing graphs.
   *
   * @param name A value name.
   * @returns The source, or `undefined` when the value is not a constant.
   * @example
   * ```ts
   * import { attrFloat, GraphIndex, makeGraph, makeNode } from "@modelpress/onnx";
   * const c = makeNode("Constant", { outputs: ["c"], attributes: { value_float: attrFloat(2) } });
   * new GraphIndex(makeGraph("g", { nodes: [c] })).constantOf("c")?.kind; // "node"
   * ```
   */
  constantOf(name: string): ConstantSource | undefined {
    this.#check();
    const tensor = this.#initializers.get(name);
    if (tensor !== undefined) {
      return { kind: "initializer", tensor, overridable: this.#inputs.has(name) };
    }
    const sparse = this.#sparse.get(name);
    if (sparse !== undefined) {
      return { kind: "sparse_initializer", sparse, overridable: this.#inputs.has(name) };
    }
    const producer = this.#producers.get(name);
    if (producer !== undefined) {
      const node = producer.node;
      if (node.opType === "Constant" && isDefaultDomain(node.domain)) {
        return { kind: "node", node, tensor: constantNodeTensor(node) };
      }
      return undefined;
    }
    if (this.#inputs.has(name)) return undefined;
    return this.parent?.constantOf(name);
  }

  /**
   * The value of a constant as a dense tensor: an initializer or a Constant node's value (here
   * or in enclosing graphs). Initializers that are also graph inputs are not constants unless
   * `options.overridable` is true.
   *
   * @param name A value name.
   * @param options `overridable`: accept initializers that a caller may override.
   * @returns The tensor, or `undefined` when the value is not a dense constant.
   * @example
   * ```ts
   * import { GraphIndex, makeGraph, makeTensor } from "@modelpress/onnx";
   * const graph = makeGraph("g", { initializers: [makeTensor("w", new Float32Array(2))] });
   * new GraphIndex(graph).constantTensor("w")?.name; // "w"
   * ```
   */
  constantTensor(
    name: string,
    options: { readonly overridable?: boolean } = {},
  ): TensorProto | undefined {
    const source = this.constantOf(name);
    if (source === undefined) return undefined;
    switch (source.kind) {
      case "initializer":
        return source.overridable && !options.overridable ? undefined : source.tensor;
      case "node":
        return source.tensor;
      default:
        return undefined;
    }
  }

  /**
   * Tells the index that a node of this graph was edited in place (its inputs, outputs or
   * subgraphs): re-reads it in time proportional to its size.
   *
   * @param node The edited node.
   * @throws {RangeError} When the node is not in this graph, or now produces a value another node
   *   already produces.
   * @example
   * ```ts
   * import { GraphIndex, makeGraph, makeNode } from "@modelpress/onnx";
   * const relu = makeNode("Relu", { inputs: ["x"], outputs: ["y"] });
   * const index = new GraphIndex(makeGraph("g", { nodes: [relu] }));
   * relu.input[0] = "z";
   * index.refreshNode(relu);
   * ```
   */
  refreshNode(node: NodeProto): void {
    this.#check();
    if (!this.#records.has(node)) {
      throw new RangeError(
        `Cannot refresh ${describeNode(node)}: it is not in ${describeGraph(this.graph)}`,
      );
    }
    // Check first, so a refused refresh leaves the index as it was.
    this.#checkOutputs(node);
    this.unregisterNode(node);
    this.registerNode(node);
  }

  /**
   * Adds a node's inputs, outputs and outer-scope reads to the index (the node must already be
   * in the graph's node list). For subclasses that edit the graph.
   *
   * @param node The node.
   * @throws {RangeError} When another node already produces one of its outputs.
   */
  protected registerNode(node: NodeProto): void {
    this.#checkOutputs(node);
    const outputs = node.output.slice();
    for (const [slot, value] of outputs.entries()) {
      if (value !== "" && !this.#producers.has(value)) this.#producers.set(value, { node, slot });
    }
    const inputs = node.input.slice();
    for (const [slot, value] of inputs.entries()) {
      if (value !== "") this.#addUse(value, { kind: "input", node, slot });
    }
    const implicit: string[] = [];
    const subgraphs = nodeSubgraphs(node);
    if (subgraphs.length > 0) {
      const names = new Set<string>();
      for (const { graph } of subgraphs) for (const name of outerScopeNames(graph)) names.add(name);
      for (const name of names) {
        implicit.push(name);
        this.#addUse(name, { kind: "subgraph", node });
      }
      this.#subgraphNames = undefined;
    }
    this.#records.set(node, { name: node.name, inputs, outputs, implicit });
    // Unnamed nodes are not looked up by name (and may be many: keep removals O(1)).
    if (node.name === "") return;
    const named = this.#nodesByName.get(node.name);
    if (named === undefined) this.#nodesByName.set(node.name, [node]);
    else named.push(node);
  }

  /**
   * Removes a node's entries from the index, as they were when it was registered. For
   * subclasses that edit the graph.
   *
   * @param node The node.
   */
  protected unregisterNode(node: NodeProto): void {
    const record = this.#records.get(node);
    if (record === undefined) return;
    this.#positions?.delete(node);
    for (const value of record.outputs) {
      if (value !== "" && this.#producers.get(value)?.node === node) this.#producers.delete(value);
    }
    for (const value of new Set([...record.inputs, ...record.implicit])) {
      if (value !== "") this.#removeUses(value, node);
    }
    if (record.implicit.length > 0 || nodeSubgraphs(node).length > 0) {
      this.#subgraphNames = undefined;
    }
    this.#records.delete(node);
    // The name it was registered under (it may have been renamed in place since).
    if (record.name === "") return;
    const named = this.#nodesByName.get(record.name);
    if (named !== undefined) {
      const i = named.indexOf(node);
      if (i >= 0) named.splice(i, 1);
      if (named.length === 0) this.#nodesByName.delete(record.name);
    }
  }

  /**
   * Adds a dense initializer (already pushed to the graph's list) to the index. For subclasses
   * that edit the graph.
   *
   * @param tensor The initializer.
   */
  protected registerInitializer(tensor: TensorProto): void {
    if (!this.#initializers.has(tensor.name)) this.#initializers.set(tensor.name, tensor);
  }

  /**
   * Adds a sparse initializer (already pushed to the graph's list) to the index. For subclasses
   * that edit the graph.
   *
   * @param sparse The sparse initializer.
   */
  protected registerSparseInitializer(sparse: SparseTensorProto): void {
    const name = sparse.values?.name ?? "";
    if (!this.#sparse.has(name)) this.#sparse.set(name, sparse);
  }

  /**
   * Drops a name from the initializer maps (dense and sparse). For subclasses that edit the graph.
   *
   * @param name The initializer's name.
   */
  protected unregisterInitializer(name: string): void {
    this.#initializers.delete(name);
    this.#sparse.delete(name);
  }

  /**
   * Moves a name's entries in the initializer, input and output maps to a new name (after a
   * subclass renamed them in the graph). For subclasses that edit the graph.
   *
   * @param from The old name.
   * @param to The new name.
   */
  protected renameListed(from: string, to: string): void {
    for (
      const map of [this.#initializers, this.#sparse, this.#inputs, this.#outputs] as Map<
        string,
        unknown
      >[]
    ) {
      if (!map.has(from)) continue;
      const item = map.get(from);
      map.delete(from);
      if (!map.has(to)) map.set(to, item);
    }
  }

  /**
   * One read of a value, or `undefined` when no node reads it; O(1), for messages and checks
   * that need only one.
   *
   * @param value A value name.
   * @returns A use of the value.
   */
  protected firstUseOf(value: string): ValueUse | undefined {
    const byNode = this.#uses.get(value);
    if (byNode === undefined) return undefined;
    for (const list of byNode.values()) return list[0];
    return undefined;
  }

  /**
   * The names a registered node reads from inside its subgraphs, as last indexed.
   *
   * @param node A node of this graph.
   * @returns The outer-scope names its subgraphs read.
   */
  protected implicitInputsOf(node: NodeProto): readonly string[] {
    return this.#records.get(node)?.implicit ?? [];
  }

  /** Throws when the graph's lists changed size behind the index's back. */
  protected checkFresh(): void {
    this.#check();
  }

  /**
   * Records the graph's current list sizes as known to the index. Subclasses call it at the end
   * of every edit.
   */
  protected markFresh(): void {
    this.#snapshotCounts();
  }

  /** Throws when another node already produces one of the node's outputs. */
  #checkOutputs(node: NodeProto): void {
    for (const value of node.output) {
      if (value === "") continue;
      const other = this.#producers.get(value);
      if (other !== undefined && other.node !== node) {
        throw new RangeError(
          `Cannot index ${describeGraph(this.graph)}: value '${value}' is produced by both ${
            describeNode(other.node)
          } and ${describeNode(node)}`,
        );
      }
    }
  }

  #definesOtherwise(name: string): boolean {
    return this.#producers.has(name) || this.#inputs.has(name);
  }

  #addUse(value: string, use: ValueUse): void {
    let byNode = this.#uses.get(value);
    if (byNode === undefined) {
      byNode = new Map();
      this.#uses.set(value, byNode);
    }
    const list = byNode.get(use.node);
    if (list === undefined) byNode.set(use.node, [use]);
    else list.push(use);
  }

  /** O(1): a value read by many nodes must not make removing them quadratic. */
  #removeUses(value: string, node: NodeProto): void {
    const byNode = this.#uses.get(value);
    if (byNode === undefined) return;
    byNode.delete(node);
    if (byNode.size === 0) this.#uses.delete(value);
  }

  #snapshotCounts(): void {
    const g = this.graph;
    this.#counts = {
      nodes: g.node.length,
      initializers: g.initializer.length,
      sparse: g.sparseInitializer.length,
      inputs: g.input.length,
      outputs: g.output.length,
    };
  }

  #check(): void {
    const g = this.graph;
    const c = this.#counts;
    if (
      g.node.length !== c.nodes || g.initializer.length !== c.initializers ||
      g.sparseInitializer.length !== c.sparse || g.input.length !== c.inputs ||
      g.output.length !== c.outputs
    ) {
      throw new Error(
        `Cannot use the index of ${
          describeGraph(this.graph)
        }: the graph was edited outside the index ` +
          `(${g.node.length} nodes, ${g.initializer.length} initializers, ${g.input.length} inputs, ` +
          `${g.output.length} outputs; the index has ${c.nodes}, ${c.initializers}, ${c.inputs}, ` +
          `${c.outputs}); call rebuild()`,
      );
    }
  }
}

/**
 * The value of a Constant node as a dense tensor: its `value` attribute, or a tensor made from
 * `value_float(s)` (FLOAT), `value_int(s)` (INT64) or `value_string(s)` (STRING).
 *
 * @param node A Constant node.
 * @returns The tensor named like the node's output, or `undefined` for `sparse_value` and
 *   malformed nodes.
 * @example
 * ```ts
 * import { attrInts, constantNodeTensor, makeNode } from "@modelpress/onnx";
 * const c = makeNode("Constant", { outputs: ["axes"], attributes: { value_ints: attrInts([0, 1]) } });
 * constantNodeTensor(c)?.int64Data; // [0n, 1n]
 * ```
 */
export function constantNodeTensor(node: NodeProto): TensorProto | undefined {
  const T = TensorProto_DataType;
  const name = node.output[0] ?? "";
  for (const attr of node.attribute) {
    switch (attr.name) {
      case "value":
        return attr.t;
      case "value_float":
        return create(TensorProtoSchema, {
          name,
          dataType: T.FLOAT,
          dims: [],
          floatData: [attr.f],
        });
      case "value_floats":
        return create(TensorProtoSchema, {
          name,
          dataType: T.FLOAT,
          dims: [BigInt(attr.floats.length)],
          floatData: attr.floats.slice(),
        });
      case "value_int":
        return create(TensorProtoSchema, {
          name,
          dataType: T.INT64,
          dims: [],
          int64Data: [attr.i],
        });
      case "value_ints":
        return create(TensorProtoSchema, {
          name,
          dataType: T.INT64,
          dims: [BigInt(attr.ints.length)],
          int64Data: attr.ints.slice(),
        });
      case "value_string":
        return create(TensorProtoSchema, {
          name,
          dataType: T.STRING,
          dims: [],
          stringData: [attr.s],
        });
      case "value_strings":
        return create(TensorProtoSchema, {
          name,
          dataType: T.STRING,
          dims: [BigInt(attr.strings.length)],
          stringData: attr.strings.slice(),
        });
    }
  }
  return undefined;
}

function collectNames(graph: GraphProto, names: Set<string>): void {
  for (const v of graph.input) names.add(v.name);
  for (const v of graph.output) names.add(v.name);
  for (const t of graph.initializer) names.add(t.name);
  for (const s of graph.sparseInitializer) if (s.values !== undefined) names.add(s.values.name);
  for (const node of graph.node) {
    for (const n of node.input) if (n !== "") names.add(n);
    for (const n of node.output) if (n !== "") names.add(n);
    for (const { graph: sub } of nodeSubgraphs(node)) collectNames(sub, names);
  }
}
