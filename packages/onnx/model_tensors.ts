/**
 * Every tensor a model holds, wherever it sits: graph initializers, sparse initializers (values
 * and indices), tensor-valued attributes (Constant's `value`, ...), the subgraphs of If/Loop/Scan
 * at any depth, model-local functions (nodes and attribute defaults) and training info graphs.
 * @module
 */
import type {
  AttributeProto,
  FunctionProto,
  GraphProto,
  ModelProto,
  NodeProto,
  SparseTensorProto,
  TensorProto,
  TrainingInfoProto,
} from "./_gen/onnx_pb.ts";

/** Where a tensor sits, for {@linkcode mapModelTensors} callbacks. */
export interface TensorSite {
  /**
   * `initializer` (GraphProto.initializer), `sparse_initializer` (values or indices of
   * GraphProto.sparse_initializer) or `attribute` (an attribute's tensor or sparse tensor).
   */
  readonly kind: "initializer" | "sparse_initializer" | "attribute";
  /**
   * True for tensors of the main graph itself (its initializers and its nodes' attributes);
   * false inside subgraphs (If/Loop/Scan bodies), functions and training graphs.
   */
  readonly inMainGraph: boolean;
}

/** Maps a tensor to itself (no change) or to a replacement. */
export type TensorMapper = (tensor: TensorProto, site: TensorSite) => TensorProto;

/** Sites by [inMainGraph ? 1 : 0]: frozen and shared, so walking allocates nothing per tensor. */
const INITIALIZER: readonly TensorSite[] = [false, true].map((inMainGraph) =>
  Object.freeze({ kind: "initializer" as const, inMainGraph })
);
const SPARSE_INITIALIZER: readonly TensorSite[] = [false, true].map((inMainGraph) =>
  Object.freeze({ kind: "sparse_initializer" as const, inMainGraph })
);
const ATTRIBUTE: readonly TensorSite[] = [false, true].map((inMainGraph) =>
  Object.freeze({ kind: "attribute" as const, inMainGraph })
);

/**
 * Lists every tensor in a model (see the module doc for where it looks), in a stable order.
 *
 * @param model The model.
 * @returns The tensors, the model's own objects (not copies).
 * @example
 * ```ts
 * import { decodeModel, modelTensors, tensorByteLength } from "@modelpress/onnx";
 * const model = decodeModel(await Deno.readFile("model.onnx"));
 * const bytes = modelTensors(model).reduce((sum, t) => sum + tensorByteLength(t), 0);
 * ```
 */
export function modelTensors(model: ModelProto): TensorProto[] {
  const out: TensorProto[] = [];
  mapModelTensors(model, (t) => {
    out.push(t);
    return t;
  });
  return out;
}

/**
 * Returns a model in which every tensor is replaced by `map(tensor, site)`, without changing the
 * given model: the containers on the way to a replaced tensor (graphs, nodes, attributes,
 * functions, the model) are shallow copies; everything else, tensor data included, is shared.
 * When `map` returns every tensor unchanged, the result is `model` itself.
 *
 * @param model The model.
 * @param map Called once per tensor, in the order of {@linkcode modelTensors}.
 * @returns The model with the replacements.
 * @example
 * ```ts
 * import { decodeModel, mapModelTensors, tensorData, TensorProto_DataType, withTensorData } from "@modelpress/onnx";
 * const model = decodeModel(await Deno.readFile("model.onnx"));
 * const zeroed = mapModelTensors(model, (t, site) =>
 *   site.kind === "initializer" && t.dataType === TensorProto_DataType.FLOAT
 *     ? withTensorData(t, new Float32Array(tensorData(t).length))
 *     : t
 * );
 * ```
 */
export function mapModelTensors(model: ModelProto, map: TensorMapper): ModelProto {
  const graph = model.graph && mapGraph(model.graph, map, true);
  const functions = mapArray(model.functions, (f) => mapFunction(f, map));
  const trainingInfo = mapArray(model.trainingInfo, (t) => mapTrainingInfo(t, map));
  if (
    graph === model.graph && functions === model.functions && trainingInfo === model.trainingInfo
  ) {
    return model;
  }
  const copy = shallowCopy(model);
  if (graph !== undefined) copy.graph = graph;
  copy.functions = functions;
  copy.trainingInfo = trainingInfo;
  return copy;
}

function mapGraph(graph: GraphProto, map: TensorMapper, main: boolean): GraphProto {
  const m = main ? 1 : 0;
  const initializer = mapArray(graph.initializer, (t) => map(t, INITIALIZER[m]!));
  const sparseInitializer = mapArray(
    graph.sparseInitializer,
    (s) => mapSparse(s, map, SPARSE_INITIALIZER[m]!),
  );
  const node = mapArray(graph.node, (n) => mapNode(n, map, main));
  if (
    initializer === graph.initializer && sparseInitializer === graph.sparseInitializer &&
    node === graph.node
  ) {
    return graph;
  }
  const copy = shallowCopy(graph);
  copy.initializer = initializer;
  copy.sparseInitializer = sparseInitializer;
  copy.node = node;
  return copy;
}

function mapSparse(
  sparse: SparseTensorProto,
  map: TensorMapper,
  site: TensorSite,
): SparseTensorProto {
  const values = sparse.values && map(sparse.values, site);
  const indices = sparse.indices && map(sparse.indices, site);
  if (values === sparse.values && indices === sparse.indices) return sparse;
  const copy = shallowCopy(sparse);
  if (values !== undefined) copy.values = values;
  if (indices !== undefined) copy.indices = indices;
  return copy;
}

function mapNode(node: NodeProto, map: TensorMapper, main: boolean): NodeProto {
  const attribute = mapArray(node.attribute, (a) => mapAttribute(a, map, main));
  if (attribute === node.attribute) return node;
  const copy = shallowCopy(node);
  copy.attribute = attribute;
  return copy;
}

function mapAttribute(attr: AttributeProto, map: TensorMapper, main: boolean): AttributeProto {
  const site = ATTRIBUTE[main ? 1 : 0]!;
  const t = attr.t && map(attr.t, site);
  const tensors = mapArray(attr.tensors, (x) => map(x, site));
  const sparseTensor = attr.sparseTensor && mapSparse(attr.sparseTensor, map, site);
  const sparseTensors = mapArray(attr.sparseTensors, (s) => mapSparse(s, map, site));
  const g = attr.g && mapGraph(attr.g, map, false);
  const graphs = mapArray(attr.graphs, (x) => mapGraph(x, map, false));
  if (
    t === attr.t && tensors === attr.tensors && sparseTensor === attr.sparseTensor &&
    sparseTensors === attr.sparseTensors && g === attr.g && graphs === attr.graphs
  ) {
    return attr;
  }
  const copy = shallowCopy(attr);
  if (t !== undefined) copy.t = t;
  if (sparseTensor !== undefined) copy.sparseTensor = sparseTensor;
  if (g !== undefined) copy.g = g;
  copy.tensors = tensors;
  copy.sparseTensors = sparseTensors;
  copy.graphs = graphs;
  return copy;
}

function mapFunction(fn: FunctionProto, map: TensorMapper): FunctionProto {
  const node = mapArray(fn.node, (n) => mapNode(n, map, false));
  const attributeProto = mapArray(fn.attributeProto, (a) => mapAttribute(a, map, false));
  if (node === fn.node && attributeProto === fn.attributeProto) return fn;
  const copy = shallowCopy(fn);
  copy.node = node;
  copy.attributeProto = attributeProto;
  return copy;
}

function mapTrainingInfo(info: TrainingInfoProto, map: TensorMapper): TrainingInfoProto {
  const initialization = info.initialization && mapGraph(info.initialization, map, false);
  const algorithm = info.algorithm && mapGraph(info.algorithm, map, false);
  if (initialization === info.initialization && algorithm === info.algorithm) return info;
  const copy = shallowCopy(info);
  if (initialization !== undefined) copy.initialization = initialization;
  if (algorithm !== undefined) copy.algorithm = algorithm;
  return copy;
}

/** Returns `items` itself when `f` changes nothing, else a new array. */
function mapArray<T>(items: T[], f: (item: T) => T): T[] {
  let out: T[] | undefined;
  for (let i = 0; i < items.length; i++) {
    const item = items[i]!;
    const mapped = f(item);
    if (mapped !== item) {
      out ??= items.slice();
      out[i] = mapped;
    }
  }
  return out ?? items;
}

/**
 * Copies a message's own fields onto an object with the same prototype: protobuf-es keeps proto2
 * defaults on the prototype and tells set fields by own properties, so this keeps presence.
 */
function shallowCopy<T extends object>(message: T): T {
  return Object.assign(Object.create(Object.getPrototypeOf(message)), message);
}
