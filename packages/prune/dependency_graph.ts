/**
 * The dependency graph of structured pruning, as Torch-Pruning builds one: which output units
 * (Gemm/MatMul neurons, Conv filters) are coupled and must be removed together, and which
 * tensors of which nodes lose which slices when they are.
 *
 * Every output unit of a source layer (a Gemm, a MatMul with a constant 2-D weight, a Conv with
 * `group == 1`) is an element; the analysis follows each unit forward through the graph, keeping
 * for every tensor that carries units the element at each position of its unit axis:
 *
 * - element-wise unary ops (Relu, Sigmoid, Tanh, LeakyRelu, Clip, Dropout, ...), pooling that
 *   keeps channels (MaxPool, AveragePool, Global*Pool) and BatchNormalization /
 *   InstanceNormalization (whose per-channel parameters are sliced) pass units through;
 * - Add, Sub, Mul, Div, Sum, Max, Min, Mean, Pow and PRelu couple the units at the same position
 *   of their inputs (union-find): a residual Add makes its two producers one group; a constant
 *   input with the channel dimension is sliced, one that broadcasts is left alone;
 * - Concat along the unit axis maps units at channel offsets (inputs from outside any source get
 *   elements that are never removed), without coupling its inputs with each other;
 * - Flatten, and Reshape to `[d0, ..., -1]`, expand each unit to its block of C*H*W features, so
 *   the Gemm after them loses the matching block of inputs;
 * - a depthwise Conv (`group` == input channels) follows its input: it loses the same channels
 *   (with its `group` attribute); any other grouped Conv is unsupported;
 * - the next Gemm/MatMul (weight rows/columns) and Conv (input channels) consume units.
 *
 * Anything else that reads a tensor carrying units (a Softmax, a Transpose, a graph output, a
 * subgraph) makes those units unremovable, and the node is reported in
 * {@linkcode DependencyGraph.unsupported}. A coupled group with any unremovable unit is not
 * prunable at all.
 *
 * @example
 * ```ts
 * import { decodeModel } from "@modelpress/onnx";
 * import { buildDependencyGraph } from "./dependency_graph.ts";
 * const model = decodeModel(await Deno.readFile("test/fixtures/mnist_cnn.onnx"));
 * const graph = buildDependencyGraph(model);
 * for (const g of graph.groups) console.log(g.sources.map((s) => s.name), g.units, g.prunable);
 * ```
 * @module
 */
import { clone } from "@bufbuild/protobuf";
import {
  AttributeProto_AttributeType,
  GraphIndex,
  type GraphProto,
  inferShapes,
  makeAttribute,
  type ModelProto,
  ModelProtoSchema,
  type NodeProto,
  setTensorData,
  type TensorArray,
  tensorData,
  type TensorProto,
  TensorProto_DataType,
  type TensorType,
  topologicalOrder,
} from "@modelpress/onnx";
import type { GroupMember, GroupRole, UnsupportedNode } from "./structured_types.ts";

/** The operators whose output units can be removed. */
export type SourceOp = "Gemm" | "MatMul" | "Conv";

/** A layer whose output units can be removed. */
export interface DependencySource {
  /** The node. */
  readonly node: NodeProto;
  /** Its name (its first output when unnamed). */
  readonly name: string;
  /** Its operator. */
  readonly op: SourceOp;
  /** Its output units. */
  readonly units: number;
  /** Its weight (an initializer or a Constant's value in the analysed model). */
  readonly weight: TensorProto;
  /** The axis of `weight` that runs over the output units. */
  readonly weightAxis: number;
  /** Its output value. */
  readonly output: string;
  /**
   * Where the units' activations are best measured: the output after the element-wise ops,
   * normalization and activation that follow the layer alone.
   */
  readonly activation: string;
  /** The unit axis of the `activation` tensor, counted from the end (-1 = last). */
  readonly activationAxis: number;
  /** Per unit, the index of its coupled unit within its group. */
  readonly groupUnits: Int32Array;
  /** The id of its group. */
  readonly group: number;
}

/** Coupled source layers: their units at the same group index are removed together. */
export interface DependencyGroup {
  /** Its position in {@linkcode DependencyGraph.groups}. */
  readonly id: number;
  /** The source layers, in graph order. */
  readonly sources: readonly DependencySource[];
  /** Coupled units in the group. */
  readonly units: number;
  /** Every node touched when units of this group are removed. */
  readonly members: readonly GroupMember[];
  /** False when a unit of the group reaches something that cannot lose it. */
  readonly prunable: boolean;
  /** Why the group is not prunable. */
  readonly reason?: string;
}

/** A Gemm, MatMul or Conv that reads units, for bias correction. */
export interface DependencyConsumer {
  /** The node. */
  readonly node: NodeProto;
  /** Its operator. */
  readonly op: SourceOp;
  /** The value it reads units from (its input 0). */
  readonly input: string;
  /** The unit axis of `input`, counted from the end. */
  readonly inputAxis: number;
  /** Its weight. */
  readonly weight: TensorProto;
  /** The axis of `weight` that runs over its inputs. */
  readonly weightInputAxis: number;
}

/** What {@linkcode DependencyGraph.apply} made. */
export interface AppliedRemoval {
  /** The pruned copy of the model. */
  readonly model: ModelProto;
  /** Per consumer (by node) the removed positions of its input, ascending. */
  readonly removedInputs: ReadonlyMap<NodeProto, readonly number[]>;
}

interface UnitMap {
  /** The unit axis, counted from the end (-1 = last). */
  readonly axis: number;
  /** The tensor's rank, when known. */
  readonly rank: number | undefined;
  /** The element at each position along the axis. */
  readonly elems: Int32Array;
}

type Action =
  | {
    readonly kind: "slice";
    readonly tensor: string;
    readonly axis: number;
    readonly value: string;
  }
  | {
    readonly kind: "reshape";
    readonly tensor: string;
    readonly index: number;
    readonly value: string;
  }
  | { readonly kind: "group"; readonly node: number; readonly value: string };

interface Member {
  readonly node: NodeProto;
  readonly role: GroupRole;
  readonly value: string;
}

const UNARY = new Set([
  "Relu",
  "LeakyRelu",
  "Sigmoid",
  "HardSigmoid",
  "Tanh",
  "Elu",
  "Selu",
  "Celu",
  "Softplus",
  "Softsign",
  "HardSwish",
  "Gelu",
  "Mish",
  "Erf",
  "Abs",
  "Neg",
  "Exp",
  "Log",
  "Sqrt",
  "Reciprocal",
  "Identity",
  "Floor",
  "Ceil",
  "Round",
  "Sign",
  "Sin",
  "Cos",
  "Cast",
  "Clip",
  "Dropout",
  "ThresholdedRelu",
  "Shrink",
]);
const ELEMENTWISE = new Set([
  "Add",
  "Sub",
  "Mul",
  "Div",
  "Sum",
  "Max",
  "Min",
  "Mean",
  "Pow",
  "PRelu",
]);
const POOLS = new Set([
  "MaxPool",
  "AveragePool",
  "LpPool",
  "GlobalAveragePool",
  "GlobalMaxPool",
  "GlobalLpPool",
]);
const NORMS: ReadonlyMap<string, number> = new Map([
  ["BatchNormalization", 4],
  ["InstanceNormalization", 2],
]);

/**
 * The coupled units of a model and how to remove them; made by
 * {@linkcode buildDependencyGraph}.
 *
 * @example
 * ```ts
 * import { decodeModel } from "@modelpress/onnx";
 * import { buildDependencyGraph } from "./dependency_graph.ts";
 * const model = decodeModel(await Deno.readFile("test/fixtures/mnist_mlp.onnx"));
 * const graph = buildDependencyGraph(model);
 * const fc1 = graph.groups[0]!;
 * const pruned = graph.apply(new Map([[fc1.id, [0, 1, 2]]])).model; // fc1 loses 3 neurons
 * ```
 */
export class DependencyGraph {
  /** The analysed model (never changed). */
  readonly model: ModelProto;
  /** Every source layer, in graph order. */
  readonly sources: readonly DependencySource[];
  /** Every coupled group, in the order of their first source. */
  readonly groups: readonly DependencyGroup[];
  /** Every Gemm/MatMul/Conv that reads units, in graph order. */
  readonly consumers: readonly DependencyConsumer[];
  /** Nodes the analysis could not see through, with why. */
  readonly unsupported: readonly UnsupportedNode[];

  readonly #maps: ReadonlyMap<string, UnitMap>;
  readonly #actions: readonly Action[];
  readonly #find: (e: number) => number;
  /** Root element -> [group, group-local unit]. */
  readonly #unitOf: ReadonlyMap<number, readonly [number, number]>;

  /** @internal Use {@linkcode buildDependencyGraph}. */
  constructor(state: {
    model: ModelProto;
    sources: DependencySource[];
    groups: DependencyGroup[];
    consumers: DependencyConsumer[];
    unsupported: UnsupportedNode[];
    maps: Map<string, UnitMap>;
    actions: Action[];
    find: (e: number) => number;
    unitOf: Map<number, readonly [number, number]>;
  }) {
    this.model = state.model;
    this.sources = state.sources;
    this.groups = state.groups;
    this.consumers = state.consumers;
    this.unsupported = state.unsupported;
    this.#maps = state.maps;
    this.#actions = state.actions;
    this.#find = state.find;
    this.#unitOf = state.unitOf;
  }

  /**
   * The positions along a value's unit axis that removing these group units removes.
   *
   * @param value A value that carries units.
   * @param removed Per group id, the group-local units to remove.
   * @returns The removed positions, ascending (empty for values that carry no units).
   * @example
   * ```ts
   * import { decodeModel } from "@modelpress/onnx";
   * import { buildDependencyGraph } from "./dependency_graph.ts";
   * const graph = buildDependencyGraph(decodeModel(await Deno.readFile("test/fixtures/mnist_cnn.onnx")));
   * graph.removedPositions("flatten_out", new Map([[1, [0]]])).length; // 196: one channel of 14x14
   * ```
   */
  removedPositions(value: string, removed: ReadonlyMap<number, Iterable<number>>): number[] {
    const map = this.#maps.get(value);
    if (map === undefined) return [];
    const sets = new Map<number, Set<number>>();
    for (const [g, units] of removed) sets.set(g, new Set(units));
    const out: number[] = [];
    for (const [p, e] of map.elems.entries()) {
      const unit = this.#unitOf.get(this.#find(e));
      if (unit !== undefined && sets.get(unit[0])?.has(unit[1])) out.push(p);
    }
    return out;
  }

  /**
   * Removes units from a copy of the model: the sources' weight rows/filters and bias entries,
   * the per-channel parameters of what follows, the consumers' matching inputs, depthwise
   * `group` attributes and Reshape targets; value_info of the changed values is dropped.
   *
   * @param removed Per group id, the group-local units to remove.
   * @returns The pruned copy and the inputs each consumer lost.
   * @throws {RangeError} When a group is not prunable, a unit is out of range, or a group would
   *   lose all its units.
   * @example
   * ```ts
   * import { decodeModel } from "@modelpress/onnx";
   * import { buildDependencyGraph } from "./dependency_graph.ts";
   * const graph = buildDependencyGraph(decodeModel(await Deno.readFile("test/fixtures/mnist_mlp.onnx")));
   * const { model } = graph.apply(new Map([[0, [5]]]));
   * ```
   */
  apply(removed: ReadonlyMap<number, Iterable<number>>): AppliedRemoval {
    const clean = new Map<number, number[]>();
    for (const [id, units] of removed) {
      const group = this.groups[id];
      if (group === undefined) {
        throw new RangeError(`Cannot prune group ${id}: there is no such group`);
      }
      const list = [...new Set(units)].sort((a, b) => a - b);
      if (list.length === 0) continue;
      const name = group.sources[0]?.name ?? "";
      if (!group.prunable) {
        throw new RangeError(
          `Cannot prune node '${name}': ${group.reason ?? "its group is not prunable"}`,
        );
      }
      if (list.some((u) => !Number.isInteger(u) || u < 0 || u >= group.units)) {
        throw new RangeError(
          `Cannot prune node '${name}': units must be integers in [0, ${group.units})`,
        );
      }
      if (list.length >= group.units) {
        throw new RangeError(`Cannot prune node '${name}': removing all ${group.units} units`);
      }
      clean.set(id, list);
    }
    const model = clone(ModelProtoSchema, this.model);
    const graph = model.graph!;
    const index = new GraphIndex(graph);
    const kept = new Map<string, number[] | undefined>();
    const keptOf = (value: string): number[] | undefined => {
      if (kept.has(value)) return kept.get(value);
      const map = this.#maps.get(value)!;
      const gone = new Set(this.removedPositions(value, clean));
      const list = gone.size === 0 ? undefined : [...map.elems.keys()].filter((p) => !gone.has(p));
      kept.set(value, list);
      return list;
    };
    for (const action of this.#actions) {
      const keep = keptOf(action.value);
      if (keep === undefined) continue;
      switch (action.kind) {
        case "slice":
          sliceTensor(index.constantTensor(action.tensor)!, action.axis, keep);
          break;
        case "reshape": {
          const t = index.constantTensor(action.tensor)!;
          const shape = BigInt64Array.from(tensorData(t) as BigInt64Array);
          shape[action.index] = BigInt(keep.length);
          setTensorData(t, shape);
          break;
        }
        case "group": {
          const node = graph.node[action.node]!;
          const attr = makeAttribute("group", BigInt(keep.length));
          const at = node.attribute.findIndex((a) => a.name === "group");
          if (at >= 0) node.attribute[at] = attr;
          else node.attribute.push(attr);
          break;
        }
      }
    }
    graph.valueInfo = graph.valueInfo.filter((v) =>
      !this.#maps.has(v.name) || keptOf(v.name) === undefined
    );
    const removedInputs = new Map<NodeProto, number[]>();
    const position = new Map(this.model.graph!.node.map((n, i) => [n, i]));
    for (const c of this.consumers) {
      const gone = this.removedPositions(c.input, clean);
      if (gone.length > 0) removedInputs.set(graph.node[position.get(c.node)!]!, gone);
    }
    return { model, removedInputs };
  }
}

/**
 * Analyses a model's main graph: its source layers, how their units are coupled, and what
 * removing them touches (see the module documentation for the rules).
 *
 * @param model The model (not changed; {@linkcode DependencyGraph.apply} edits copies).
 * @returns The dependency graph.
 * @throws {TypeError} When the model has no graph.
 * @example
 * ```ts
 * import { decodeModel } from "@modelpress/onnx";
 * import { buildDependencyGraph } from "./dependency_graph.ts";
 * const model = decodeModel(await Deno.readFile("test/fixtures/mnist_mlp.onnx"));
 * buildDependencyGraph(model).groups.map((g) => g.prunable); // [true, true, false]: logits stay
 * ```
 */
export function buildDependencyGraph(model: ModelProto): DependencyGraph {
  if (model.graph === undefined) throw new TypeError("Cannot analyse model: it has no graph");
  return new Analysis(model, model.graph).run();
}

class Analysis {
  readonly model: ModelProto;
  readonly graph: GraphProto;
  readonly index: GraphIndex;
  readonly types: Map<string, TensorType>;
  readonly maps = new Map<string, UnitMap>();
  readonly actions: Action[] = [];
  readonly members: Member[] = [];
  readonly unsupported: UnsupportedNode[] = [];
  readonly consumers: DependencyConsumer[] = [];
  readonly rawSources: {
    node: NodeProto;
    op: SourceOp;
    units: number;
    weight: TensorProto;
    weightAxis: number;
    first: number;
  }[] = [];
  readonly parent: number[] = [];
  readonly frozen = new Map<number, string>();
  readonly position: Map<NodeProto, number>;

  constructor(model: ModelProto, graph: GraphProto) {
    this.model = model;
    this.graph = graph;
    this.index = new GraphIndex(graph);
    let types: Map<string, TensorType>;
    try {
      types = inferShapes(graph);
    } catch {
      types = new Map();
    }
    this.types = types;
    this.position = new Map(graph.node.map((n, i) => [n, i]));
  }

  run(): DependencyGraph {
    for (const node of topologicalOrder(this.graph)) this.visit(node);
    for (const [value, map] of this.maps) {
      if (this.index.isGraphOutput(value)) this.freeze(map, `it feeds graph output '${value}'`);
      for (const use of this.index.consumersOf(value)) {
        if (use.kind === "subgraph") {
          this.reject(use.node, `a subgraph reads '${value}', which carries prunable units`);
          this.freeze(map, `node '${nodeName(use.node)}' reads it in a subgraph`);
        }
      }
    }
    return this.build();
  }

  // --- elements (union-find) ---

  newElems(n: number, frozen?: string): number {
    const first = this.parent.length;
    for (let i = 0; i < n; i++) {
      this.parent.push(first + i);
      if (frozen !== undefined) this.frozen.set(first + i, frozen);
    }
    return first;
  }

  find = (e: number): number => {
    let r = e;
    while (this.parent[r] !== r) r = this.parent[r]!;
    while (this.parent[e] !== r) {
      const next = this.parent[e]!;
      this.parent[e] = r;
      e = next;
    }
    return r;
  };

  union(a: number, b: number): void {
    const ra = this.find(a);
    const rb = this.find(b);
    if (ra === rb) return;
    // The smaller root wins, so roots stay in source order.
    if (ra < rb) this.parent[rb] = ra;
    else this.parent[ra] = rb;
  }

  freeze(map: UnitMap, reason: string): void {
    for (const e of map.elems) if (!this.frozen.has(e)) this.frozen.set(e, reason);
  }

  reject(node: NodeProto, reason: string): void {
    const name = nodeName(node);
    if (!this.unsupported.some((u) => u.node === name && u.reason === reason)) {
      this.unsupported.push({ node: name, op: node.opType, reason });
    }
    for (const input of node.input) {
      const map = this.maps.get(input);
      if (map !== undefined) this.freeze(map, `node '${name}' (${node.opType}): ${reason}`);
    }
  }

  // --- helpers ---

  /** A constant whose tensor can be edited in place in a copy of the model, or undefined. */
  editableConstant(name: string): TensorProto | undefined {
    const source = this.index.constantOf(name);
    if (source === undefined) return undefined;
    if (source.kind === "initializer") return source.overridable ? undefined : source.tensor;
    if (source.kind === "node" && source.node.attribute.some((a) => a.name === "value")) {
      return source.tensor;
    }
    return undefined;
  }

  isShared(name: string): boolean {
    return this.index.consumersOf(name).length > 1 || this.index.isGraphOutput(name);
  }

  rankOf(value: string): number | undefined {
    return this.types.get(value)?.shape?.length;
  }

  dimsOf(value: string): readonly (number | string | null)[] | undefined {
    return this.types.get(value)?.shape;
  }

  setMap(value: string, map: UnitMap): void {
    if (value !== "") this.maps.set(value, map);
  }

  slice(node: NodeProto, tensor: string, axis: number, value: string, role: GroupRole): void {
    this.actions.push({ kind: "slice", tensor, axis, value });
    this.members.push({ node, role, value });
  }

  /** True when outputs other than the first are read (training outputs, indices, masks). */
  extraOutputsUsed(node: NodeProto): boolean {
    return node.output.slice(1).some((o) => o !== "" && this.index.isUsed(o));
  }

  // --- the rules ---

  visit(node: NodeProto): void {
    const mapped = node.input.map((name) => (name === "" ? undefined : this.maps.get(name)));
    const any = mapped.some((m) => m !== undefined);
    if (node.domain !== "" && node.domain !== "ai.onnx") {
      if (any) {
        this.reject(node, `operator ${node.domain}.${node.opType} has no known channel mapping`);
      }
      return;
    }
    const op = node.opType;
    if (op === "Gemm") return this.gemm(node, mapped);
    if (op === "MatMul") return this.matmul(node, mapped);
    if (op === "Conv") return this.conv(node, mapped);
    if (!any) return;
    if (UNARY.has(op)) return this.unary(node, mapped);
    if (ELEMENTWISE.has(op)) return this.elementwise(node, mapped);
    if (POOLS.has(op)) return this.pool(node, mapped);
    if (NORMS.has(op)) return this.norm(node, mapped);
    if (op === "Concat") return this.concat(node, mapped);
    if (op === "Flatten") return this.flatten(node, mapped);
    if (op === "Reshape") return this.reshape(node, mapped);
    this.reject(node, `${op} has no known channel mapping`);
  }

  source(
    node: NodeProto,
    op: SourceOp,
    weight: TensorProto,
    weightAxis: number,
    axis: number,
    rank: number | undefined,
  ): void {
    const units = Number(weight.dims[weightAxis]);
    const first = this.newElems(units);
    this.rawSources.push({ node, op, units, weight, weightAxis, first });
    this.members.push({ node, role: "source", value: node.output[0] ?? "" });
    this.setMap(node.output[0] ?? "", {
      axis,
      rank,
      elems: Int32Array.from({ length: units }, (_, i) => first + i),
    });
  }

  gemm(node: NodeProto, mapped: (UnitMap | undefined)[]): void {
    const transA = intAttr(node, "transA", 0);
    const transB = intAttr(node, "transB", 0);
    const [a, b, c] = mapped;
    if (b !== undefined || c !== undefined) {
      return this.reject(node, "units reach its weight or bias input");
    }
    const wName = node.input[1] ?? "";
    const w = this.editableConstant(wName);
    const wOk = w !== undefined && w.dims.length === 2;
    if (a !== undefined) {
      const kAxis = transB ? 1 : 0;
      if (transA) this.reject(node, "transA=1 puts the units on axis 0 of its input");
      else if (!wOk) this.reject(node, "its weight is not a constant 2-D initializer");
      else if (this.isShared(wName)) this.reject(node, `its weight '${wName}' is shared`);
      else if (a.axis !== -1 || Number(w.dims[kAxis]) !== a.elems.length) {
        this.reject(node, "its input's units do not match its weight");
      } else {
        this.slice(node, wName, kAxis, node.input[0]!, "consumer");
        this.consumers.push({
          node,
          op: "Gemm",
          input: node.input[0]!,
          inputAxis: -1,
          weight: w,
          weightInputAxis: kAxis,
        });
      }
    }
    if (!wOk || w.dataType !== TensorProto_DataType.FLOAT) return;
    const nAxis = transB ? 0 : 1;
    const units = Number(w.dims[nAxis]);
    const cName = node.input[2] ?? "";
    let biasAxis: number | undefined;
    if (cName !== "") {
      const bias = this.editableConstant(cName);
      if (bias === undefined) return this.rejectSource(node, "its bias is not a constant");
      const dims = bias.dims.map(Number);
      const count = dims.reduce((p, d) => p * d, 1);
      if (count !== 1) {
        if (dims.at(-1) !== units || count !== units) {
          return this.rejectSource(node, "its bias is not one value per unit");
        }
        biasAxis = dims.length - 1;
      }
      if (this.isShared(cName)) return this.rejectSource(node, `its bias '${cName}' is shared`);
    }
    if (this.isShared(wName)) return this.rejectSource(node, `its weight '${wName}' is shared`);
    this.source(node, "Gemm", w, nAxis, -1, 2);
    this.actions.push({ kind: "slice", tensor: wName, axis: nAxis, value: node.output[0]! });
    if (biasAxis !== undefined) {
      this.actions.push({ kind: "slice", tensor: cName, axis: biasAxis, value: node.output[0]! });
    }
  }

  rejectSource(node: NodeProto, reason: string): void {
    this.unsupported.push({
      node: nodeName(node),
      op: node.opType,
      reason: `cannot prune its units: ${reason}`,
    });
  }

  matmul(node: NodeProto, mapped: (UnitMap | undefined)[]): void {
    const [a, b] = mapped;
    if (b !== undefined) return this.reject(node, "units reach its second input");
    const wName = node.input[1] ?? "";
    const w = this.editableConstant(wName);
    const wOk = w !== undefined && w.dims.length === 2;
    if (a !== undefined) {
      if (!wOk) this.reject(node, "its weight is not a constant 2-D initializer");
      else if (this.isShared(wName)) this.reject(node, `its weight '${wName}' is shared`);
      else if (a.axis !== -1 || Number(w.dims[0]) !== a.elems.length) {
        this.reject(node, "its input's units do not match its weight");
      } else {
        this.slice(node, wName, 0, node.input[0]!, "consumer");
        this.consumers.push({
          node,
          op: "MatMul",
          input: node.input[0]!,
          inputAxis: -1,
          weight: w,
          weightInputAxis: 0,
        });
      }
    }
    if (!wOk || w.dataType !== TensorProto_DataType.FLOAT) return;
    if (this.isShared(wName)) return this.rejectSource(node, `its weight '${wName}' is shared`);
    this.source(node, "MatMul", w, 1, -1, this.rankOf(node.output[0] ?? ""));
    this.actions.push({ kind: "slice", tensor: wName, axis: 1, value: node.output[0]! });
  }

  conv(node: NodeProto, mapped: (UnitMap | undefined)[]): void {
    const [x, wm, bm] = mapped;
    if (wm !== undefined || bm !== undefined) {
      return this.reject(node, "units reach its weight or bias input");
    }
    const wName = node.input[1] ?? "";
    const w = this.editableConstant(wName);
    if (w === undefined || w.dims.length < 3) {
      if (x !== undefined) this.reject(node, "its weight is not a constant initializer");
      return;
    }
    const rank = w.dims.length;
    const axis = -(rank - 1);
    const group = intAttr(node, "group", 1);
    const bName = node.input[2] ?? "";
    const bias = bName === "" ? undefined : this.editableConstant(bName);
    if (bName !== "" && (bias === undefined || bias.dims.length !== 1)) {
      if (x !== undefined) this.reject(node, "its bias is not a constant 1-D initializer");
      else this.rejectSource(node, "its bias is not a constant 1-D initializer");
      return;
    }
    const out = Number(w.dims[0]);
    if (group !== 1) {
      const perGroup = Number(w.dims[1]);
      const inChannels = x?.elems.length ?? perGroup * group;
      if (perGroup !== 1 || group !== inChannels || out % group !== 0) {
        return this.reject(
          node,
          `grouped Conv (group ${group}, ${inChannels} input channels) is not depthwise`,
        );
      }
      if (x === undefined) return;
      if (x.axis !== axis) {
        return this.reject(node, "its input's units are not on the channel axis");
      }
      if (this.isShared(wName) || (bName !== "" && this.isShared(bName))) {
        return this.reject(node, "its weight or bias is shared");
      }
      const multiplier = out / group;
      const elems = Int32Array.from(
        { length: out },
        (_, o) => x.elems[Math.floor(o / multiplier)]!,
      );
      const value = node.output[0] ?? "";
      this.setMap(value, { axis, rank: x.rank ?? rank, elems });
      this.slice(node, wName, 0, value, "follower");
      if (bName !== "") this.actions.push({ kind: "slice", tensor: bName, axis: 0, value });
      this.actions.push({ kind: "group", node: this.position.get(node)!, value: node.input[0]! });
      return;
    }
    if (x !== undefined) {
      if (x.axis !== axis || Number(w.dims[1]) !== x.elems.length) {
        this.reject(node, "its input's units do not match its weight's input channels");
      } else if (this.isShared(wName)) {
        this.reject(node, `its weight '${wName}' is shared`);
      } else {
        this.slice(node, wName, 1, node.input[0]!, "consumer");
        this.consumers.push({
          node,
          op: "Conv",
          input: node.input[0]!,
          inputAxis: axis,
          weight: w,
          weightInputAxis: 1,
        });
      }
    }
    if (w.dataType !== TensorProto_DataType.FLOAT) return;
    if (this.isShared(wName) || (bName !== "" && this.isShared(bName))) {
      return this.rejectSource(node, "its weight or bias is shared");
    }
    if (bias !== undefined && Number(bias.dims[0]) !== out) {
      return this.rejectSource(node, "its bias is not one value per filter");
    }
    this.source(node, "Conv", w, 0, axis, rank);
    const value = node.output[0]!;
    this.actions.push({ kind: "slice", tensor: wName, axis: 0, value });
    if (bName !== "") this.actions.push({ kind: "slice", tensor: bName, axis: 0, value });
  }

  unary(node: NodeProto, mapped: (UnitMap | undefined)[]): void {
    const x = mapped[0];
    if (x === undefined || mapped.slice(1).some((m) => m !== undefined)) {
      return this.reject(node, "units reach a parameter input");
    }
    for (const name of node.input.slice(1)) {
      if (name === "") continue;
      const t = this.index.constantTensor(name);
      if (t === undefined || t.dims.reduce((p, d) => p * Number(d), 1) !== 1) {
        return this.reject(node, `its input '${name}' is not a constant scalar`);
      }
    }
    if (this.extraOutputsUsed(node)) return this.reject(node, "its extra outputs are used");
    this.setMap(node.output[0] ?? "", x);
  }

  elementwise(node: NodeProto, mapped: (UnitMap | undefined)[]): void {
    const refSlot = mapped.findIndex((m) => m !== undefined);
    const ref = mapped[refSlot]!;
    const out = node.output[0] ?? "";
    const outRank = this.rankOf(out) ?? ref.rank;
    const slices: { name: string; axis: number }[] = [];
    let coupling = false;
    for (const [slot, name] of node.input.entries()) {
      if (slot === refSlot || name === "") continue;
      const m = mapped[slot];
      if (m !== undefined) {
        if (m.axis !== ref.axis || m.elems.length !== ref.elems.length) {
          return this.reject(
            node,
            "its inputs carry units on different axes or in different numbers",
          );
        }
        for (const [p, e] of m.elems.entries()) this.union(e, ref.elems[p]!);
        coupling = true;
        continue;
      }
      const t = this.editableConstant(name) ?? this.index.constantTensor(name);
      const dims = t !== undefined ? t.dims.map(Number) : this.dimsOf(name);
      if (dims === undefined) {
        return this.reject(node, `the shape of its input '${name}' is unknown`);
      }
      const at = dims.length + ref.axis;
      if (at < 0 || dims[at] === 1) continue;
      if (t === undefined) {
        return this.reject(
          node,
          `its input '${name}' carries channels from outside any prunable layer`,
        );
      }
      if (dims[at] !== ref.elems.length) {
        return this.reject(node, `its constant '${name}' does not match the units`);
      }
      if (this.editableConstant(name) === undefined || this.isShared(name)) {
        return this.reject(node, `its constant '${name}' is shared or not an initializer`);
      }
      slices.push({ name, axis: at });
    }
    this.setMap(out, { axis: ref.axis, rank: outRank, elems: ref.elems });
    for (const s of slices) this.slice(node, s.name, s.axis, out, "follower");
    if (coupling) this.members.push({ node, role: "coupling", value: out });
  }

  pool(node: NodeProto, mapped: (UnitMap | undefined)[]): void {
    const x = mapped[0]!;
    if (x.rank !== undefined && x.rank + x.axis !== 1) {
      return this.reject(node, "its input's units are not on the channel axis");
    }
    if (this.extraOutputsUsed(node)) return this.reject(node, "its extra outputs are used");
    this.setMap(node.output[0] ?? "", x);
  }

  norm(node: NodeProto, mapped: (UnitMap | undefined)[]): void {
    const x = mapped[0];
    if (x === undefined || mapped.slice(1).some((m) => m !== undefined)) {
      return this.reject(node, "units reach a parameter input");
    }
    if (x.rank !== undefined && x.rank + x.axis !== 1) {
      return this.reject(node, "its input's units are not on the channel axis");
    }
    if (this.extraOutputsUsed(node)) {
      return this.reject(node, "its extra (training) outputs are used");
    }
    const params = node.input.slice(1, 1 + NORMS.get(node.opType)!);
    for (const name of params) {
      const t = this.editableConstant(name);
      if (t === undefined || t.dims.length !== 1 || Number(t.dims[0]) !== x.elems.length) {
        return this.reject(node, `its parameter '${name}' is not a constant per channel`);
      }
      if (this.isShared(name)) return this.reject(node, `its parameter '${name}' is shared`);
    }
    const out = node.output[0] ?? "";
    this.setMap(out, x);
    for (const name of params) this.slice(node, name, 0, out, "follower");
  }

  concat(node: NodeProto, mapped: (UnitMap | undefined)[]): void {
    const out = node.output[0] ?? "";
    const ref = mapped.find((m) => m !== undefined)!;
    const rank = this.rankOf(out) ?? ref.rank;
    const axisAttr = intAttr(node, "axis", 0);
    if (axisAttr >= 0 && rank === undefined) return this.reject(node, "its rank is unknown");
    const axis = axisAttr < 0 ? axisAttr : axisAttr - rank!;
    if (mapped.some((m) => m !== undefined && m.axis !== axis)) {
      return this.reject(node, "it concatenates along an axis other than the units'");
    }
    const parts: number[] = [];
    for (const [slot, name] of node.input.entries()) {
      const m = mapped[slot];
      if (m !== undefined) {
        parts.push(...m.elems);
        continue;
      }
      const dims = this.index.constantTensor(name)?.dims.map(Number) ?? this.dimsOf(name);
      const size = dims?.[dims.length + axis];
      if (typeof size !== "number" || size < 0) {
        return this.reject(node, `the size of its input '${name}' along the axis is unknown`);
      }
      const first = this.newElems(
        size,
        `concatenated with '${name}', which no prunable layer makes`,
      );
      for (let i = 0; i < size; i++) parts.push(first + i);
    }
    this.setMap(out, { axis, rank, elems: Int32Array.from(parts) });
    this.members.push({ node, role: "coupling", value: out });
  }

  flatten(node: NodeProto, mapped: (UnitMap | undefined)[]): void {
    const x = mapped[0]!;
    const dims = this.dimsOf(node.input[0]!);
    const rank = x.rank ?? dims?.length;
    if (rank === undefined || dims === undefined) {
      return this.reject(node, "its input's shape is unknown");
    }
    let a = intAttr(node, "axis", 1);
    if (a < 0) a += rank;
    this.expand(node, x, dims, a, rank);
  }

  reshape(node: NodeProto, mapped: (UnitMap | undefined)[]): void {
    const x = mapped[0];
    if (x === undefined || mapped[1] !== undefined) {
      return this.reject(node, "units reach its shape input");
    }
    const dims = this.dimsOf(node.input[0]!);
    const rank = x.rank ?? dims?.length;
    const shapeName = node.input[1] ?? "";
    const shapeTensor = this.editableConstant(shapeName);
    if (rank === undefined || dims === undefined || shapeTensor === undefined) {
      return this.reject(node, "its input shape or target shape is unknown");
    }
    const target = Array.from(tensorData(shapeTensor) as BigInt64Array, Number);
    const length = target.length;
    const p = rank + x.axis;
    const allowZero = intAttr(node, "allowzero", 0) === 1;
    const prefixKept = target.slice(0, length - 1).every((d, i) =>
      (d === 0 && !allowZero) || (typeof dims[i] === "number" && d === dims[i])
    );
    if (length < 1 || p < length - 1 || !prefixKept) {
      return this.reject(node, "it does not flatten the unit axis into the last axis");
    }
    const last = target[length - 1]!;
    if (last !== -1) {
      const tail = dims.slice(length - 1);
      if (
        !tail.every((d) => typeof d === "number") ||
        last !== (tail as number[]).reduce((q, d) => q * d, 1)
      ) {
        return this.reject(node, "it does not flatten the unit axis into the last axis");
      }
      if (this.isShared(shapeName)) return this.reject(node, `its shape '${shapeName}' is shared`);
    }
    if (!this.expand(node, x, dims, length - 1, rank)) return;
    if (last !== -1) {
      this.actions.push({
        kind: "reshape",
        tensor: shapeName,
        index: length - 1,
        value: node.output[0]!,
      });
    }
  }

  /** Output [.., prod(dims[a..])] of an input whose unit axis is at or after `a`. */
  expand(
    node: NodeProto,
    x: UnitMap,
    dims: readonly (number | string | null)[],
    a: number,
    rank: number,
  ): boolean {
    const p = rank + x.axis;
    if (p < a) {
      this.reject(node, "it folds the unit axis into the batch dimension");
      return false;
    }
    let outer = 1;
    let inner = 1;
    for (let i = a; i < rank; i++) {
      if (i === p) continue;
      const d = dims[i];
      if (typeof d !== "number" || d < 0) {
        this.reject(node, "the sizes of the flattened dimensions are unknown");
        return false;
      }
      if (i < p) outer *= d;
      else inner *= d;
    }
    const c = x.elems.length;
    const elems = new Int32Array(outer * c * inner);
    for (let o = 0; o < outer; o++) {
      for (let ch = 0; ch < c; ch++) {
        elems.fill(x.elems[ch]!, (o * c + ch) * inner, (o * c + ch + 1) * inner);
      }
    }
    this.setMap(node.output[0] ?? "", {
      axis: -1,
      rank: node.opType === "Flatten" ? 2 : a + 1,
      elems,
    });
    return true;
  }

  // --- groups ---

  build(): DependencyGraph {
    const find = this.find;
    // Sources sharing a coupled unit are one group (union-find over sources).
    const sp = this.rawSources.map((_, i) => i);
    const findS = (i: number): number => {
      while (sp[i] !== i) i = sp[i] = sp[sp[i]!]!;
      return i;
    };
    const owner = new Map<number, number>();
    for (const [i, s] of this.rawSources.entries()) {
      for (let u = 0; u < s.units; u++) {
        const root = find(s.first + u);
        const o = owner.get(root);
        if (o === undefined) owner.set(root, i);
        else {
          const a = findS(o);
          const b = findS(i);
          if (a !== b) sp[Math.max(a, b)] = Math.min(a, b);
        }
      }
    }
    const frozenRoot = new Map<number, string>();
    for (const [e, reason] of this.frozen) {
      const r = find(e);
      if (!frozenRoot.has(r)) frozenRoot.set(r, reason);
    }
    const groupOfSource = new Map<number, number>();
    const groupSources: number[][] = [];
    for (let i = 0; i < this.rawSources.length; i++) {
      const root = findS(i);
      let g = groupOfSource.get(root);
      if (g === undefined) {
        g = groupSources.length;
        groupOfSource.set(root, g);
        groupSources.push([]);
      }
      groupSources[g]!.push(i);
    }
    const unitOf = new Map<number, readonly [number, number]>();
    const sources: DependencySource[] = [];
    const groups: DependencyGroup[] = [];
    const sourceById: DependencySource[] = [];
    const groupOfRoot = new Map<number, number>();
    for (const [g, list] of groupSources.entries()) {
      let units = 0;
      let reason: string | undefined;
      for (const i of list) {
        const s = this.rawSources[i]!;
        const groupUnits = new Int32Array(s.units);
        for (let u = 0; u < s.units; u++) {
          const root = find(s.first + u);
          let local = unitOf.get(root);
          if (local === undefined) {
            local = [g, units++];
            unitOf.set(root, local);
            groupOfRoot.set(root, g);
            reason ??= frozenRoot.get(root);
          }
          groupUnits[u] = local[1];
        }
        const { value, axis } = this.activationOf(s.node.output[0] ?? "");
        const source: DependencySource = {
          node: s.node,
          name: nodeName(s.node),
          op: s.op,
          units: s.units,
          weight: s.weight,
          weightAxis: s.weightAxis,
          output: s.node.output[0] ?? "",
          activation: value,
          activationAxis: axis,
          groupUnits,
          group: g,
        };
        sourceById[i] = source;
      }
      groups.push({
        id: g,
        sources: list.map((i) => sourceById[i]!),
        units,
        members: [],
        prunable: reason === undefined,
        ...(reason === undefined ? {} : { reason }),
      });
    }
    for (const s of sourceById) sources.push(s);
    sources.sort((a, b) => this.position.get(a.node)! - this.position.get(b.node)!);
    // Members: the nodes whose tensors change with each group.
    const seen = new Set<string>();
    const memberLists = groups.map(() => [] as GroupMember[]);
    for (const m of this.members) {
      const map = this.maps.get(m.value);
      if (map === undefined) continue;
      const gs = new Set<number>();
      for (const e of map.elems) {
        const g = groupOfRoot.get(find(e));
        if (g !== undefined) gs.add(g);
      }
      for (const g of gs) {
        const key = `${g}/${this.position.get(m.node)}/${m.role}`;
        if (seen.has(key)) continue;
        seen.add(key);
        memberLists[g]!.push({ node: nodeName(m.node), op: m.node.opType, role: m.role });
      }
    }
    const finalGroups = groups.map((g, i) => ({ ...g, members: memberLists[i]! }));
    return new DependencyGraph({
      model: this.model,
      sources,
      groups: finalGroups,
      consumers: this.consumers,
      unsupported: this.unsupported,
      maps: this.maps,
      actions: this.actions,
      find,
      unitOf,
    });
  }

  /** Follows a source's output through what it alone feeds: normalization, activation. */
  activationOf(value: string): { value: string; axis: number } {
    const axis = this.maps.get(value)?.axis ?? -1;
    for (;;) {
      if (this.index.isGraphOutput(value)) break;
      const uses = this.index.consumersOf(value);
      if (uses.length !== 1 || uses[0]!.kind !== "input" || uses[0]!.slot !== 0) break;
      const next = uses[0]!.node;
      if (!(UNARY.has(next.opType) || NORMS.has(next.opType))) break;
      const out = next.output[0] ?? "";
      if (this.maps.get(out)?.axis !== axis) break;
      value = out;
    }
    return { value, axis };
  }
}

/** Slices a tensor in place along an axis, keeping the given positions. */
function sliceTensor(tensor: TensorProto, axis: number, keep: readonly number[]): void {
  const dims = tensor.dims.map(Number);
  const data = tensorData(tensor) as TensorArray;
  const len = dims[axis]!;
  const inner = dims.slice(axis + 1).reduce((p, d) => p * d, 1);
  const outer = dims.slice(0, axis).reduce((p, d) => p * d, 1);
  const Ctor = data.constructor as new (n: number) => TensorArray;
  const out = new Ctor(outer * keep.length * inner);
  for (let o = 0; o < outer; o++) {
    for (const [k, p] of keep.entries()) {
      const from = (o * len + p) * inner;
      (out as Float32Array).set(
        (data as Float32Array).subarray(from, from + inner),
        (o * keep.length + k) * inner,
      );
    }
  }
  tensor.dims[axis] = BigInt(keep.length);
  setTensorData(tensor, out);
}

function intAttr(node: NodeProto, name: string, fallback: number): number {
  const attr = node.attribute.find((a) => a.name === name);
  if (attr === undefined || attr.type !== AttributeProto_AttributeType.INT) return fallback;
  return Number(attr.i);
}

/**
 * A node's name for reports: its name, or its first output when it has none.
 *
 * @param node The node.
 * @returns The name.
 * @example
 * ```ts
 * import { makeNode } from "@modelpress/onnx";
 * import { nodeName } from "./dependency_graph.ts";
 * nodeName(makeNode("Relu", { inputs: ["x"], outputs: ["y"] })); // "y"
 * ```
 */
export function nodeName(node: NodeProto): string {
  return node.name !== "" ? node.name : node.output[0] ?? "";
}
