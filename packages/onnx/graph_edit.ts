/**
 * Editing one graph while keeping its index right: inserting, replacing and removing nodes,
 * renaming values (subgraph references included), rewiring the readers of a value, adding and
 * removing initializers, and removing what nothing uses.
 *
 * {@linkcode GraphEditor} is a {@linkcode GraphIndex}: every edit validates first (so a failed
 * edit changes nothing), then changes the protos and updates the index incrementally, in time
 * proportional to what the edit touches (plus an array splice for insertions and removals).
 *
 * @example
 * ```ts
 * import { decodeModel, GraphEditor } from "@modelpress/onnx";
 * const model = decodeModel(await Deno.readFile("model.onnx"));
 * const editor = new GraphEditor(model.graph!);
 * for (const node of [...editor.nodes]) if (node.opType === "Dropout") editor.removeNode(node);
 * editor.removeUnused();
 * ```
 * @module
 */
import type { GraphProto, NodeProto, SparseTensorProto, TensorProto } from "./_gen/onnx_pb.ts";
import { describeGraph, describeNode } from "./_describe.ts";
import { GraphIndex, type GraphIndexOptions } from "./graph_index.ts";
import { nodeSubgraphs } from "./subgraphs.ts";

/** Options for {@linkcode GraphEditor.removeNode}. */
export interface RemoveNodeOptions {
  /**
   * Which input takes the place of the node's first output for its readers (default 0), as when
   * removing an Identity or a Dropout.
   */
  readonly passThrough?: number;
  /**
   * When false, nothing is rewired and every output of the node must be unused (default true).
   */
  readonly rewire?: boolean;
}

/** Options for {@linkcode GraphEditor.replaceUses}. */
export interface ReplaceUsesOptions {
  /** Nodes that keep reading the old value (e.g. the node that computes the replacement). */
  readonly except?: Iterable<NodeProto>;
}

/** Options for {@linkcode GraphEditor.removeUnused}. */
export interface RemoveUnusedOptions {
  /** Value names to keep alive besides the graph outputs. */
  readonly keep?: Iterable<string>;
  /** Also clean the subgraphs of the nodes, at any depth (default true). */
  readonly subgraphs?: boolean;
}

/** What {@linkcode GraphEditor.removeUnused} removed. */
export interface RemovedItems {
  /** The removed nodes (from subgraphs too). */
  readonly nodes: readonly NodeProto[];
  /** Names of the removed dense and sparse initializers (from subgraphs too). */
  readonly initializers: readonly string[];
}

/**
 * An index over a graph that can also edit it; see the module documentation.
 *
 * @example
 * ```ts
 * import { GraphEditor, makeGraph, makeNode } from "@modelpress/onnx";
 * const relu = makeNode("Relu", { inputs: ["x"], outputs: ["y"], name: "relu" });
 * const editor = new GraphEditor(makeGraph("g", { nodes: [relu] }));
 * editor.insertBefore(relu, makeNode("Neg", { inputs: ["x"], outputs: ["nx"], name: "neg" }));
 * editor.replaceUses("x", "nx", { except: [editor.node("neg")!] });
 * ```
 */
export class GraphEditor extends GraphIndex {
  /**
   * Indexes a graph for editing.
   *
   * @param graph The graph.
   * @param options The parent index, for a subgraph.
   * @throws {RangeError} When two nodes produce the same value.
   */
  constructor(graph: GraphProto, options: GraphIndexOptions = {}) {
    super(graph, options);
  }

  /**
   * Inserts nodes just before a node of the graph.
   *
   * @param anchor A node of this graph.
   * @param nodes The new nodes, in order.
   * @throws {RangeError} When the anchor is not in the graph, a new node is already in it, or a
   *   new node produces a value something else produces.
   * @example
   * ```ts
   * import { GraphEditor, makeGraph, makeNode } from "@modelpress/onnx";
   * const relu = makeNode("Relu", { inputs: ["x"], outputs: ["y"] });
   * const editor = new GraphEditor(makeGraph("g", { nodes: [relu] }));
   * editor.insertBefore(relu, makeNode("Neg", { inputs: ["w"], outputs: ["nw"] }));
   * ```
   */
  insertBefore(anchor: NodeProto, nodes: NodeProto | readonly NodeProto[]): void {
    const list = toList(nodes);
    const position = this.#positionFor(anchor, "insert before");
    this.#checkNew(list, undefined);
    this.#insertAt(position, list);
  }

  /**
   * Inserts nodes just after a node of the graph.
   *
   * @param anchor A node of this graph.
   * @param nodes The new nodes, in order.
   * @throws {RangeError} As {@linkcode GraphEditor.insertBefore}.
   * @example
   * ```ts
   * import { GraphEditor, makeGraph, makeNode } from "@modelpress/onnx";
   * const conv = makeNode("Conv", { inputs: ["x", "w"], outputs: ["y"], name: "conv" });
   * const editor = new GraphEditor(makeGraph("g", { nodes: [conv] }));
   * editor.insertAfter(conv, makeNode("Relu", { inputs: ["y"], outputs: ["z"] }));
   * ```
   */
  insertAfter(anchor: NodeProto, nodes: NodeProto | readonly NodeProto[]): void {
    const list = toList(nodes);
    const position = this.#positionFor(anchor, "insert after");
    this.#checkNew(list, undefined);
    this.#insertAt(position + 1, list);
  }

  /**
   * Appends nodes at the end of the graph's node list.
   *
   * @param nodes The new nodes, in order.
   * @throws {RangeError} When a node is already in the graph or produces a value something else
   *   produces.
   * @example
   * ```ts
   * import { GraphEditor, makeGraph, makeNode } from "@modelpress/onnx";
   * const editor = new GraphEditor(makeGraph("g"));
   * editor.append(makeNode("Relu", { inputs: ["x"], outputs: ["y"] }));
   * ```
   */
  append(nodes: NodeProto | readonly NodeProto[]): void {
    const list = toList(nodes);
    this.#checkNew(list, undefined);
    this.#insertAt(this.graph.node.length, list);
  }

  /**
   * Replaces a node with one or more nodes at its place, keeping its edges: every output of the
   * old node that is read (by a node, a subgraph or as a graph output) must be produced, under
   * the same name, by one of the replacements. A single replacement node with no outputs takes
   * the old node's outputs, and one with neither inputs nor outputs takes its inputs too.
   *
   * @param node A node of this graph.
   * @param replacement The new node or nodes, in order.
   * @throws {RangeError} When the node is not in the graph, a used output would be lost, or a
   *   replacement produces a value another node produces.
   * @example
   * ```ts
   * import { GraphEditor, makeGraph, makeNode } from "@modelpress/onnx";
   * const relu = makeNode("Relu", { inputs: ["x"], outputs: ["y"] });
   * const editor = new GraphEditor(makeGraph("g", { nodes: [relu] }));
   * editor.replaceNode(relu, makeNode("Sigmoid")); // Sigmoid(x) -> y
   * ```
   */
  replaceNode(node: NodeProto, replacement: NodeProto | readonly NodeProto[]): void {
    const list = toList(replacement);
    const position = this.#positionFor(node, "replace");
    if (list.includes(node)) {
      throw new RangeError(`Cannot replace ${describeNode(node)}: it is among its replacements`);
    }
    const single = list.length === 1 ? list[0] : undefined;
    if (single !== undefined && single.output.length === 0 && !this.contains(single)) {
      // It takes over the old node's edges, so no output can be lost and none can clash.
      if (single.input.length === 0) single.input = node.input.slice();
      single.output = node.output.slice();
    }
    this.#checkNew(list, node);
    const produced = new Set(list.flatMap((n) => n.output));
    for (const value of node.output) {
      if (value === "" || produced.has(value)) continue;
      const reader = this.#readerOf(value);
      if (reader !== undefined) {
        throw new RangeError(
          `Cannot replace ${describeNode(node)}: its output '${value}' is ${reader} and no ` +
            "replacement node produces it",
        );
      }
    }
    this.unregisterNode(node);
    spliceIn(this.graph.node, position, 1, list);
    for (const n of list) this.registerNode(n);
    this.markFresh();
  }

  /**
   * Removes a node. By default its readers are rewired: whatever read its first output reads
   * its input at `options.passThrough` (0) instead, as when removing an Identity or a Dropout;
   * its other outputs must be unused. When the first output is a graph output, the graph output
   * keeps its name and the passed-through value is renamed to it instead, which needs that value
   * to be produced by a node of this graph (not a graph input, an initializer, another graph
   * output or an outer-scope value).
   *
   * @param node A node of this graph.
   * @param options `passThrough` (the input slot) and `rewire`.
   * @throws {RangeError} When the node is not in the graph or the removal would break a reader,
   *   e.g. "Cannot remove node 'drop': its output 'mask' is read by node 'mul'".
   * @example
   * ```ts
   * import { GraphEditor, makeGraph, makeNode } from "@modelpress/onnx";
   * const id = makeNode("Identity", { inputs: ["x"], outputs: ["y"], name: "id" });
   * const relu = makeNode("Relu", { inputs: ["y"], outputs: ["z"] });
   * const editor = new GraphEditor(makeGraph("g", { nodes: [id, relu] }));
   * editor.removeNode(id); // relu now reads x
   * ```
   */
  removeNode(node: NodeProto, options: RemoveNodeOptions = {}): void {
    const position = this.#positionFor(node, "remove");
    const rewire = options.rewire ?? true;
    const main = rewire ? node.output[0] ?? "" : "";
    for (const [slot, value] of node.output.entries()) {
      if (value === "" || (slot === 0 && main !== "")) continue;
      const reader = this.#readerOf(value);
      if (reader !== undefined) {
        throw new RangeError(
          `Cannot remove ${describeNode(node)}: its output '${value}' is ${reader}`,
        );
      }
    }
    if (main === "" || this.#readerOf(main) === undefined) {
      this.#removeAt(position, node);
      return;
    }
    const slot = options.passThrough ?? 0;
    const source = node.input[slot] ?? "";
    if (source === "") {
      throw new RangeError(
        `Cannot remove ${describeNode(node)}: its output '${main}' is ${this.#readerOf(main)} ` +
          `and it has no input at slot ${slot} to pass through`,
      );
    }
    if (!this.isGraphOutput(main)) {
      this.#rewire(main, source, new Set([node]));
      this.#removeAt(this.positionOf(node), node);
      this.#dropValueInfo(main);
      return;
    }
    // The graph output keeps its name: the passed-through value takes it over.
    const why = this.isGraphOutput(source)
      ? "a graph output too"
      : this.isGraphInput(source)
      ? "a graph input"
      : this.producerOf(source) === undefined
      ? this.defines(source) ? "an initializer" : "defined in an outer graph"
      : undefined;
    if (why !== undefined) {
      throw new RangeError(
        `Cannot remove ${describeNode(node)}: its output '${main}' is a graph output and its ` +
          `input '${source}' is ${why}`,
      );
    }
    this.#checkRewire(source, main, new Set());
    this.#removeAt(position, node);
    this.#renameEverywhere(source, main);
  }

  /**
   * Renames a value everywhere in this graph: its producer's output, its readers' inputs,
   * references inside subgraphs (at any depth, stopping where a subgraph defines the name
   * itself), graph inputs and outputs, value infos, initializers and quantization annotations.
   *
   * @param from The current name; the value must be defined in this graph.
   * @param to The new name; it must not occur in this graph or its subgraphs.
   * @throws {RangeError} When `from` is unknown or defined in an outer graph, or `to` is taken.
   * @example
   * ```ts
   * import { GraphEditor, makeGraph, makeNode } from "@modelpress/onnx";
   * const editor = new GraphEditor(makeGraph("g", { nodes: [makeNode("Relu", { inputs: ["x"], outputs: ["y"] })] }));
   * editor.renameValue("y", "relu_out");
   * ```
   */
  renameValue(from: string, to: string): void {
    this.checkFresh();
    if (from === to) return;
    if (!this.hasValue(from)) {
      throw new RangeError(
        `Cannot rename value '${from}': it is not in ${describeGraph(this.graph)}`,
      );
    }
    if (!this.defines(from)) {
      throw new RangeError(
        `Cannot rename value '${from}': it is defined in a graph enclosing ${
          describeGraph(this.graph)
        }`,
      );
    }
    if (to === "" || this.hasValue(to) || this.subgraphsUse(to) || enclosingUses(this, to)) {
      throw new RangeError(
        `Cannot rename value '${from}' to '${to}': ${
          to === ""
            ? "the name is empty"
            : `'${to}' is already used in ${describeGraph(this.graph)}`
        }`,
      );
    }
    this.#renameEverywhere(from, to);
  }

  /**
   * Makes the readers of a value read another value instead: node inputs and references inside
   * subgraphs. Graph outputs keep reading the old value.
   *
   * @param value The value whose readers move.
   * @param replacement The value they read from now on (it may be produced by a node inserted
   *   later).
   * @param options `except`: nodes that keep reading `value`.
   * @returns How many nodes were rewired.
   * @throws {RangeError} When a subgraph that reads `value` defines `replacement` itself.
   * @example
   * ```ts
   * import { GraphEditor, makeGraph, makeNode } from "@modelpress/onnx";
   * const q = makeNode("QuantizeLinear", { inputs: ["x", "s"], outputs: ["xq"], name: "q" });
   * const dq = makeNode("DequantizeLinear", { inputs: ["xq", "s"], outputs: ["xdq"] });
   * const mm = makeNode("MatMul", { inputs: ["x", "w"], outputs: ["y"] });
   * const editor = new GraphEditor(makeGraph("g", { nodes: [q, dq, mm] }));
   * editor.replaceUses("x", "xdq", { except: [q] }); // MatMul reads xdq
   * ```
   */
  replaceUses(value: string, replacement: string, options: ReplaceUsesOptions = {}): number {
    this.checkFresh();
    if (value === replacement) return 0;
    return this.#rewire(value, replacement, new Set(options.except ?? []));
  }

  /**
   * Adds a dense initializer.
   *
   * @param tensor The tensor; its name must not be defined in this graph yet.
   * @throws {RangeError} When the name is empty or already defined.
   * @example
   * ```ts
   * import { GraphEditor, makeGraph, makeTensor } from "@modelpress/onnx";
   * new GraphEditor(makeGraph("g")).addInitializer(makeTensor("scale", new Float32Array([0.5])));
   * ```
   */
  addInitializer(tensor: TensorProto): void {
    this.#checkNewName(tensor.name, "initializer");
    this.graph.initializer.push(tensor);
    this.registerInitializer(tensor);
    this.markFresh();
  }

  /**
   * Adds a sparse initializer (named by its `values` tensor).
   *
   * @param sparse The sparse tensor; its name must not be defined in this graph yet.
   * @throws {RangeError} When the name is empty or already defined.
   * @example
   * ```ts
   * import { create } from "@bufbuild/protobuf";
   * import { GraphEditor, makeGraph, makeTensor, SparseTensorProtoSchema } from "@modelpress/onnx";
   * const sparse = create(SparseTensorProtoSchema, {
   *   values: makeTensor("w", new Float32Array([1])),
   *   indices: makeTensor("", new BigInt64Array([3n])),
   *   dims: [8n],
   * });
   * new GraphEditor(makeGraph("g")).addSparseInitializer(sparse);
   * ```
   */
  addSparseInitializer(sparse: SparseTensorProto): void {
    this.#checkNewName(sparse.values?.name ?? "", "sparse initializer");
    this.graph.sparseInitializer.push(sparse);
    this.registerSparseInitializer(sparse);
    this.markFresh();
  }

  /**
   * Removes a dense or sparse initializer that nothing reads.
   *
   * @param name The initializer's name.
   * @returns The removed tensor.
   * @throws {RangeError} When there is no such initializer or something reads it.
   * @example
   * ```ts
   * import { GraphEditor, makeGraph, makeTensor } from "@modelpress/onnx";
   * const editor = new GraphEditor(makeGraph("g", { initializers: [makeTensor("w", new Float32Array(1))] }));
   * editor.removeInitializer("w");
   * ```
   */
  removeInitializer(name: string): TensorProto | SparseTensorProto {
    this.checkFresh();
    const dense = this.graph.initializer.findIndex((t) => t.name === name);
    const sparse = dense >= 0
      ? -1
      : this.graph.sparseInitializer.findIndex((s) => s.values?.name === name);
    if (dense < 0 && sparse < 0) {
      throw new RangeError(
        `Cannot remove initializer '${name}': it is not in ${describeGraph(this.graph)}`,
      );
    }
    const reader = this.#readerOf(name);
    if (reader !== undefined) {
      throw new RangeError(`Cannot remove initializer '${name}': it is ${reader}`);
    }
    const removed = dense >= 0
      ? this.graph.initializer.splice(dense, 1)[0]
      : this.graph.sparseInitializer.splice(sparse, 1)[0];
    this.unregisterInitializer(name);
    this.#dropValueInfo(name);
    this.markFresh();
    return removed as TensorProto | SparseTensorProto;
  }

  /**
   * Removes the nodes and initializers that nothing needs (dead-code elimination): a node stays
   * when one of its outputs is a graph output, in `options.keep`, or read by a node that stays
   * (directly or from inside a subgraph); an initializer stays when a staying node reads it, it is
   * a graph input or output, or it is in `options.keep`. Subgraphs are cleaned first (their own
   * outputs stay), so outer values only they read are kept exactly while they read them. Value
   * infos of removed values go too. Linear in the size of the graph and its subgraphs.
   *
   * @param options `keep` and `subgraphs`.
   * @returns What was removed.
   * @example
   * ```ts
   * import { GraphEditor, makeGraph, makeNode, makeValueInfo, TensorProto_DataType } from "@modelpress/onnx";
   * const editor = new GraphEditor(makeGraph("g", {
   *   nodes: [
   *     makeNode("Relu", { inputs: ["x"], outputs: ["y"] }),
   *     makeNode("Neg", { inputs: ["x"], outputs: ["unused"] }),
   *   ],
   *   outputs: [makeValueInfo("y", TensorProto_DataType.FLOAT)],
   * }));
   * editor.removeUnused().nodes.length; // 1
   * ```
   */
  removeUnused(options: RemoveUnusedOptions = {}): RemovedItems {
    this.checkFresh();
    const keep = new Set(options.keep ?? []);
    const removedNodes: NodeProto[] = [];
    const removedInitializers: string[] = [];
    if (options.subgraphs ?? true) {
      for (const node of this.graph.node.slice()) {
        const subgraphs = nodeSubgraphs(node);
        if (subgraphs.length === 0) continue;
        let changed = false;
        for (const { graph } of subgraphs) {
          const inner = new GraphEditor(graph, { parent: this }).removeUnused({ subgraphs: true });
          if (inner.nodes.length > 0 || inner.initializers.length > 0) changed = true;
          for (const n of inner.nodes) removedNodes.push(n);
          for (const name of inner.initializers) removedInitializers.push(name);
        }
        if (changed) this.refreshNode(node);
      }
    }
    // Mark, from the roots back through producers.
    const liveValues = new Set<string>(keep);
    for (const v of this.graph.output) liveValues.add(v.name);
    const work = [...liveValues];
    const liveNodes = new Set<NodeProto>();
    while (work.length > 0) {
      const value = work.pop() as string;
      const producer = this.producerOf(value);
      if (producer === undefined || liveNodes.has(producer.node)) continue;
      const node = producer.node;
      liveNodes.add(node);
      for (const input of node.input) {
        if (input !== "" && !liveValues.has(input)) {
          liveValues.add(input);
          work.push(input);
        }
      }
      for (const name of this.implicitInputsOf(node)) {
        if (!liveValues.has(name)) {
          liveValues.add(name);
          work.push(name);
        }
      }
    }
    // Sweep nodes, in one pass over the list.
    const removedNames = new Set<string>();
    const nodes = this.graph.node;
    let kept = 0;
    for (const node of nodes) {
      if (liveNodes.has(node)) {
        nodes[kept++] = node;
      } else {
        this.unregisterNode(node);
        removedNodes.push(node);
        for (const value of node.output) if (value !== "") removedNames.add(value);
      }
    }
    nodes.length = kept;
    // Sweep initializers.
    const inputs = new Set(this.graph.input.map((v) => v.name));
    const needed = (name: string): boolean => liveValues.has(name) || inputs.has(name);
    const initializers = this.graph.initializer;
    kept = 0;
    for (const t of initializers) {
      if (needed(t.name)) initializers[kept++] = t;
      else {
        this.unregisterInitializer(t.name);
        removedInitializers.push(t.name);
        removedNames.add(t.name);
      }
    }
    initializers.length = kept;
    const sparse = this.graph.sparseInitializer;
    kept = 0;
    for (const s of sparse) {
      const name = s.values?.name ?? "";
      if (needed(name)) sparse[kept++] = s;
      else {
        this.unregisterInitializer(name);
        removedInitializers.push(name);
        removedNames.add(name);
      }
    }
    sparse.length = kept;
    this.markFresh();
    if (removedNames.size > 0) {
      const infos = this.graph.valueInfo;
      kept = 0;
      for (const info of infos) {
        if (!removedNames.has(info.name) || this.hasValue(info.name)) infos[kept++] = info;
      }
      infos.length = kept;
    }
    return { nodes: removedNodes, initializers: removedInitializers };
  }

  #positionFor(node: NodeProto, verb: string): number {
    this.checkFresh();
    if (!this.contains(node)) {
      throw new RangeError(
        `Cannot ${verb} ${describeNode(node)}: it is not in ${describeGraph(this.graph)}`,
      );
    }
    return this.positionOf(node);
  }

  /** Validates nodes about to be added; `replacing` is a node they replace (its outputs are free). */
  #checkNew(list: readonly NodeProto[], replacing: NodeProto | undefined): void {
    const seen = new Set<NodeProto>();
    const produced = new Map<string, NodeProto>();
    for (const node of list) {
      if (this.contains(node) || seen.has(node)) {
        throw new RangeError(
          `Cannot add ${describeNode(node)}: it is already in ${describeGraph(this.graph)}`,
        );
      }
      seen.add(node);
      for (const value of node.output) {
        if (value === "") continue;
        const existing = this.producerOf(value)?.node;
        const other = existing !== undefined && existing !== replacing
          ? existing
          : produced.get(value);
        if (other !== undefined) {
          throw new RangeError(
            `Cannot add ${describeNode(node)}: its output '${value}' is already produced by ${
              describeNode(other)
            }`,
          );
        }
        if (existing === undefined && this.defines(value)) {
          throw new RangeError(
            `Cannot add ${describeNode(node)}: its output '${value}' is already ${
              this.isGraphInput(value) ? "a graph input" : "an initializer"
            }`,
          );
        }
        produced.set(value, node);
      }
    }
  }

  #checkNewName(name: string, what: string): void {
    this.checkFresh();
    if (name === "") throw new RangeError(`Cannot add ${what}: its name is empty`);
    if (this.defines(name)) {
      throw new RangeError(
        `Cannot add ${what} '${name}': ${describeGraph(this.graph)} already defines '${name}'`,
      );
    }
  }

  #insertAt(position: number, list: readonly NodeProto[]): void {
    spliceIn(this.graph.node, position, 0, list);
    for (const node of list) this.registerNode(node);
    this.markFresh();
  }

  #removeAt(position: number, node: NodeProto): void {
    this.unregisterNode(node);
    this.graph.node.splice(position, 1);
    this.markFresh();
  }

  /** Who reads a value, in words, or `undefined` when nothing does. */
  #readerOf(value: string): string | undefined {
    this.checkFresh();
    const use = this.firstUseOf(value);
    if (use !== undefined) {
      return use.kind === "input"
        ? `read by ${describeNode(use.node)}`
        : `read inside a subgraph of ${describeNode(use.node)}`;
    }
    return this.isGraphOutput(value) ? "a graph output" : undefined;
  }

  #rewire(value: string, replacement: string, except: ReadonlySet<NodeProto>): number {
    const nodes = this.#checkRewire(value, replacement, except);
    for (const node of nodes) {
      this.unregisterNode(node);
      for (const [slot, input] of node.input.entries()) {
        if (input === value) node.input[slot] = replacement;
      }
      for (const { graph } of nodeSubgraphs(node)) renameInSubgraph(graph, value, replacement);
      this.registerNode(node);
    }
    this.markFresh();
    return nodes.length;
  }

  /** The nodes a rewiring would change; throws when a subgraph would capture the new name. */
  #checkRewire(value: string, replacement: string, except: ReadonlySet<NodeProto>): NodeProto[] {
    const nodes = [...new Set(this.consumersOf(value).map((u) => u.node))].filter((n) =>
      !except.has(n)
    );
    for (const node of nodes) {
      for (const { graph } of nodeSubgraphs(node)) {
        const conflict = subgraphConflict(graph, value, replacement);
        if (conflict !== undefined) {
          throw new RangeError(
            `Cannot make ${describeNode(node)} read '${replacement}' instead of '${value}': ` +
              `its subgraph '${conflict}' defines '${replacement}' itself`,
          );
        }
      }
    }
    return nodes;
  }

  #renameEverywhere(from: string, to: string): void {
    const producer = this.producerOf(from);
    if (producer !== undefined) {
      this.unregisterNode(producer.node);
      for (const [slot, output] of producer.node.output.entries()) {
        if (output === from) producer.node.output[slot] = to;
      }
      this.registerNode(producer.node);
    }
    this.#rewire(from, to, new Set());
    const g = this.graph;
    for (const v of g.input) if (v.name === from) v.name = to;
    for (const v of g.output) if (v.name === from) v.name = to;
    for (const t of g.initializer) if (t.name === from) t.name = to;
    for (const s of g.sparseInitializer) if (s.values?.name === from) s.values.name = to;
    const hadInfo = g.valueInfo.some((v) => v.name === to);
    for (const v of g.valueInfo) if (v.name === from) v.name = to;
    if (hadInfo) {
      // Keep one value info per name: the one that described the value being renamed.
      const first = g.valueInfo.findIndex((v) => v.name === to);
      const last = g.valueInfo.findLastIndex((v) => v.name === to);
      if (first !== last) g.valueInfo.splice(first, 1);
    }
    for (const a of g.quantizationAnnotation) if (a.tensorName === from) a.tensorName = to;
    this.renameListed(from, to);
    this.markFresh();
  }

  #dropValueInfo(name: string): void {
    const infos = this.graph.valueInfo;
    const i = infos.findIndex((v) => v.name === name);
    if (i >= 0) infos.splice(i, 1);
  }
}

function enclosingUses(index: GraphIndex, name: string): boolean {
  for (let p = index.parent; p !== undefined; p = p.parent) if (p.hasValue(name)) return true;
  return false;
}

/** `array.splice(start, deleteCount, ...items)` without spreading (which overflows the stack for long lists). */
function spliceIn<T>(array: T[], start: number, deleteCount: number, items: readonly T[]): void {
  if (items.length <= 1024) {
    array.splice(start, deleteCount, ...items);
    return;
  }
  const tail = array.splice(start + deleteCount);
  array.length = start;
  for (const item of items) array.push(item);
  for (const item of tail) array.push(item);
}

function toList(nodes: NodeProto | readonly NodeProto[]): readonly NodeProto[] {
  return Array.isArray(nodes) ? nodes : [nodes as NodeProto];
}

/** Names a graph defines itself (inputs, initializers, node outputs). */
function definesLocally(graph: GraphProto, name: string): boolean {
  return graph.input.some((v) => v.name === name) ||
    graph.initializer.some((t) => t.name === name) ||
    graph.sparseInitializer.some((s) => s.values?.name === name) ||
    graph.node.some((n) => n.output.includes(name));
}

/**
 * The name of a (nested) subgraph that reads `from` from outside and defines `to` itself, where
 * renaming `from` to `to` would be captured; `undefined` when there is none.
 */
function subgraphConflict(graph: GraphProto, from: string, to: string): string | undefined {
  if (definesLocally(graph, from)) return undefined;
  if (definesLocally(graph, to)) return graph.name || "(unnamed)";
  for (const node of graph.node) {
    for (const { graph: sub } of nodeSubgraphs(node)) {
      const found = subgraphConflict(sub, from, to);
      if (found !== undefined) return found;
    }
  }
  return undefined;
}

/**
 * Renames the outer-scope reads of `from` inside a graph and its subgraphs, stopping where a
 * graph defines `from` itself (there the name means that graph's own value).
 */
function renameInSubgraph(graph: GraphProto, from: string, to: string): void {
  if (definesLocally(graph, from)) return;
  for (const node of graph.node) {
    for (const [slot, input] of node.input.entries()) if (input === from) node.input[slot] = to;
    for (const { graph: sub } of nodeSubgraphs(node)) renameInSubgraph(sub, from, to);
  }
  for (const v of graph.output) if (v.name === from) v.name = to;
  for (const v of graph.valueInfo) if (v.name === from) v.name = to;
}
