/**
 * Fresh names for values (initializers included: they are values) and nodes, unique across a
 * whole model: the main graph, every subgraph at any depth, function bodies and training graphs.
 *
 * @example
 * ```ts
 * import { decodeModel, UniqueNames } from "@modelpress/onnx";
 * const model = decodeModel(await Deno.readFile("model.onnx"));
 * const names = new UniqueNames(model);
 * const scale = names.value("conv1.weight_scale"); // "conv1.weight_scale", or "..._1" if taken
 * ```
 * @module
 */
import type { GraphProto, ModelProto } from "./_gen/onnx_pb.ts";
import { walkGraphs } from "./subgraphs.ts";

/**
 * A generator of unique value and node names. It reads every name of the model once (linear
 * time); each name it hands out is reserved, so two calls never return the same name. Values and
 * nodes are separate namespaces, as in ONNX. Names added to the model by other means after it
 * was built are not seen: {@linkcode UniqueNames.reserveValue} them.
 *
 * @example
 * ```ts
 * import { makeGraph, makeNode, UniqueNames } from "@modelpress/onnx";
 * const graph = makeGraph("g", { nodes: [makeNode("Relu", { inputs: ["x"], outputs: ["y"], name: "relu" })] });
 * const names = new UniqueNames(graph);
 * names.value("y"); // "y_1"
 * names.value("y"); // "y_2"
 * names.node("relu"); // "relu_1"
 * ```
 */
export class UniqueNames {
  readonly #values = new Set<string>();
  readonly #nodes = new Set<string>();
  readonly #nextSuffix = new Map<string, number>();

  /**
   * Collects the names used in a model or a graph (with its subgraphs).
   *
   * @param root The model or graph whose names are taken.
   */
  constructor(root: ModelProto | GraphProto) {
    const values = this.#values;
    for (const entry of walkGraphs(root)) {
      const g = entry.graph;
      if (g !== undefined) {
        for (const v of g.input) values.add(v.name);
        for (const v of g.output) values.add(v.name);
        for (const v of g.valueInfo) values.add(v.name);
        for (const t of g.initializer) values.add(t.name);
        for (const s of g.sparseInitializer) {
          if (s.values !== undefined) values.add(s.values.name);
          if (s.indices !== undefined && s.indices.name !== "") values.add(s.indices.name);
        }
      }
      const fn = entry.function;
      if (fn !== undefined) {
        for (const name of fn.input) values.add(name);
        for (const name of fn.output) values.add(name);
        for (const v of fn.valueInfo) values.add(v.name);
      }
      for (const node of entry.nodes) {
        for (const name of node.input) values.add(name);
        for (const name of node.output) values.add(name);
        if (node.name !== "") this.#nodes.add(node.name);
      }
    }
    values.delete("");
  }

  /**
   * A value name not used anywhere yet: `base` itself when free, else `base_1`, `base_2`, ...
   * The name is reserved.
   *
   * @param base The wanted name.
   * @returns A unique value name.
   * @example
   * ```ts
   * import { makeGraph, UniqueNames } from "@modelpress/onnx";
   * new UniqueNames(makeGraph("g")).value("scale"); // "scale"
   * ```
   */
  value(base: string): string {
    return this.#fresh(this.#values, base, "v:");
  }

  /**
   * A node name not used anywhere yet, as {@linkcode UniqueNames.value} does for values.
   *
   * @param base The wanted name.
   * @returns A unique node name.
   * @example
   * ```ts
   * import { makeGraph, UniqueNames } from "@modelpress/onnx";
   * new UniqueNames(makeGraph("g")).node("conv1_quant"); // "conv1_quant"
   * ```
   */
  node(base: string): string {
    return this.#fresh(this.#nodes, base, "n:");
  }

  /**
   * Marks a value name as taken.
   *
   * @param name The name.
   * @example
   * ```ts
   * import { makeGraph, UniqueNames } from "@modelpress/onnx";
   * const names = new UniqueNames(makeGraph("g"));
   * names.reserveValue("x");
   * names.value("x"); // "x_1"
   * ```
   */
  reserveValue(name: string): void {
    this.#values.add(name);
  }

  /**
   * Marks a node name as taken.
   *
   * @param name The name.
   * @example
   * ```ts
   * import { makeGraph, UniqueNames } from "@modelpress/onnx";
   * new UniqueNames(makeGraph("g")).reserveNode("conv1");
   * ```
   */
  reserveNode(name: string): void {
    this.#nodes.add(name);
  }

  /**
   * Whether a value name is taken.
   *
   * @param name The name.
   * @returns True when the model uses it or it was handed out or reserved.
   * @example
   * ```ts
   * import { makeGraph, UniqueNames } from "@modelpress/onnx";
   * new UniqueNames(makeGraph("g")).hasValue("x"); // false
   * ```
   */
  hasValue(name: string): boolean {
    return this.#values.has(name);
  }

  /**
   * Whether a node name is taken.
   *
   * @param name The name.
   * @returns True when the model uses it or it was handed out or reserved.
   * @example
   * ```ts
   * import { makeGraph, UniqueNames } from "@modelpress/onnx";
   * new UniqueNames(makeGraph("g")).hasNode("conv1"); // false
   * ```
   */
  hasNode(name: string): boolean {
    return this.#nodes.has(name);
  }

  #fresh(taken: Set<string>, base: string, space: string): string {
    if (base !== "" && !taken.has(base)) {
      taken.add(base);
      return base;
    }
    const stem = base === "" ? "_" : base;
    const key = space + stem;
    // A counter per stem keeps repeated requests for one stem amortized O(1).
    let suffix = this.#nextSuffix.get(key) ?? 1;
    let name = `${stem}_${suffix}`;
    while (taken.has(name)) name = `${stem}_${++suffix}`;
    this.#nextSuffix.set(key, suffix + 1);
    taken.add(name);
    return name;
  }
}
