/**
 * What is in an ONNX model, as plain data: the facts `modelpress inspect` prints.
 * @module
 */
import {
  type AttributeProto,
  dataTypeName,
  elementCount,
  isFixedSizeDataType,
  type ModelProto,
  modelTensors,
  nodeLabel,
  type NodeProto,
  type SparseTensorProto,
  tensorByteLength,
  type TensorProto,
  TensorProto_DataLocation,
  TensorProto_DataType,
  type TensorShapeProto,
  type TypeProto,
  type ValueInfoProto,
  walkGraphs,
} from "@modelpress/onnx";

/** Version tag of the {@linkcode ModelSummary} shape; changes whenever the shape does. */
export const SUMMARY_SCHEMA = "modelpress.inspect/1";

/** The default ONNX operator domain, which models may also write as `""`. */
export const DEFAULT_DOMAIN = "ai.onnx";

/** Everything `modelpress inspect` reports about a model. All numbers are plain JSON numbers. */
export interface ModelSummary {
  /** Always {@linkcode SUMMARY_SCHEMA}. */
  readonly schema: typeof SUMMARY_SCHEMA;
  /** The model file and its size, when the summary was made from a file. */
  readonly file: FileSummary | null;
  /** `ir_version`. */
  readonly irVersion: number;
  /** `producer_name` and `producer_version` (empty strings when absent). */
  readonly producer: { readonly name: string; readonly version: string };
  /** `domain` of the model (not an operator domain). */
  readonly domain: string;
  /** `model_version`. */
  readonly modelVersion: number;
  /** `doc_string` of the model. */
  readonly docString: string;
  /** Name of the main graph. */
  readonly graphName: string;
  /** Operator set imports, in file order; `""` is written as {@linkcode DEFAULT_DOMAIN}. */
  readonly opsets: readonly OpsetSummary[];
  /** Main-graph inputs that the caller feeds (inputs that also have an initializer are left out). */
  readonly inputs: readonly ValueSummary[];
  /** Main-graph outputs. */
  readonly outputs: readonly ValueSummary[];
  /** Node counts. */
  readonly nodes: NodeCounts;
  /** How often each operator occurs anywhere in the model; most frequent first. */
  readonly operators: readonly OperatorCount[];
  /** Stored parameters. */
  readonly parameters: ParameterSummary;
  /** Files that tensors keep their data in, sorted by location. */
  readonly externalData: readonly ExternalDataSummary[];
  /** Graphs held in node attributes (If, Loop, Scan), in document order. */
  readonly subgraphs: readonly SubgraphSummary[];
  /** Model-local functions. */
  readonly functions: readonly FunctionSummary[];
  /** `metadata_props`, in file order. */
  readonly metadata: readonly MetadataEntry[];
}

/** The file a summary was made from. */
export interface FileSummary {
  /** The path as given. */
  readonly path: string;
  /** Size of the model file itself (external data not included). */
  readonly bytes: number;
}

/** One operator set import. */
export interface OpsetSummary {
  /** Operator domain, such as `ai.onnx` or `com.microsoft`. */
  readonly domain: string;
  /** Operator set version. */
  readonly version: number;
}

/** A graph input or output. */
export interface ValueSummary {
  /** Value name. */
  readonly name: string;
  /** ONNX type notation: `tensor(float)`, `seq(tensor(int64))`, `map(string,tensor(float))`, ... */
  readonly type: string;
  /** Element type of a tensor or sparse tensor (`float`, `int64`, ...), else null. */
  readonly elemType: string | null;
  /**
   * Dimensions of a tensor or sparse tensor: a number, a symbolic name (`"batch"`), or null when
   * unknown. Null as a whole when the rank is unknown or the value is not a tensor.
   */
  readonly shape: readonly (number | string | null)[] | null;
}

/** Node counts by where the nodes live. */
export interface NodeCounts {
  /** All nodes anywhere in the model. */
  readonly total: number;
  /** Nodes directly in the main graph. */
  readonly mainGraph: number;
  /** Nodes in subgraphs at any depth (including subgraphs of function bodies). */
  readonly subgraphs: number;
  /** Nodes directly in local function bodies. */
  readonly functions: number;
  /** Nodes directly in training graphs (`training_info`). */
  readonly training: number;
}

/** How often one operator occurs. */
export interface OperatorCount {
  /** Operator domain; `""` is written as {@linkcode DEFAULT_DOMAIN}. */
  readonly domain: string;
  /** Operator name, such as `Conv`. */
  readonly opType: string;
  /** Occurrences anywhere in the model. */
  readonly count: number;
}

/** Counts of tensors, elements and bytes. */
export interface Tally {
  /** Number of tensors. */
  readonly tensors: number;
  /** Number of stored elements (for sparse tensors: the non-zero values). */
  readonly elements: number;
  /** Bytes of element data (sparse tensors: values and indices). */
  readonly bytes: number;
}

/** A {@linkcode Tally} for one element type. */
export interface DtypeTally extends Tally {
  /** Element type, such as `float` or `int8`. */
  readonly dtype: string;
}

/** Parameters: initializers, sparse initializers and Constant node values, in every graph. */
export interface ParameterSummary {
  /** Everything together. */
  readonly total: Tally;
  /** Dense initializers. */
  readonly initializers: Tally;
  /** Sparse initializers. */
  readonly sparseInitializers: Tally;
  /** Values of Constant nodes. */
  readonly constants: Tally;
  /** Everything together, by element type, largest byte count first. */
  readonly byDtype: readonly DtypeTally[];
}

/** One file that tensors keep their data in. */
export interface ExternalDataSummary {
  /** Path relative to the model's folder, as written in the model. */
  readonly location: string;
  /** Number of tensors stored there. */
  readonly tensors: number;
  /** Bytes of those tensors. */
  readonly bytes: number;
  /** Size of the file on disk, or null when it is missing or was not looked at. */
  readonly fileBytes: number | null;
}

/** A graph held in a node attribute. */
export interface SubgraphSummary {
  /**
   * Where it is, as `@modelpress/onnx`'s `walkGraphs` writes it: `main/If_0.then_branch/Loop_3.body`
   * (an unnamed node is written `If#3`, its op type and position).
   */
  readonly path: string;
  /** The holding node and attribute: `Loop_3.body` (`.body[1]` in a GRAPHS attribute). */
  readonly name: string;
  /** Nesting depth: 1 for a subgraph of the main graph. */
  readonly depth: number;
  /** Nodes directly in it. */
  readonly nodes: number;
  /** Initializers directly in it. */
  readonly initializers: number;
}

/** A model-local function. */
export interface FunctionSummary {
  /** Domain of the function. */
  readonly domain: string;
  /** Name of the function (its op_type when called). */
  readonly name: string;
  /** Nodes in its body. */
  readonly nodes: number;
}

/** One metadata key/value pair. */
export interface MetadataEntry {
  /** Key. */
  readonly key: string;
  /** Value. */
  readonly value: string;
}

/** Options for {@linkcode summarizeModel}. */
export interface SummarizeModelOptions {
  /** The model file, for the summary's `file` field. */
  readonly file?: FileSummary;
  /** Sizes of external data files on disk by location, for `externalData[].fileBytes`. */
  readonly externalFileBytes?: ReadonlyMap<string, number>;
}

/**
 * Summarizes a model: metadata, inputs and outputs, operators, parameters, external data and
 * subgraphs. Pure: reads nothing from disk (pass file sizes in `options`).
 *
 * @param model The decoded model.
 * @param options The model file and the sizes of its external data files.
 * @returns The summary, ready for `JSON.stringify`.
 * @example
 * ```ts
 * import { decodeModel } from "@modelpress/onnx";
 * import { summarizeModel } from "@modelpress/cli";
 * const summary = summarizeModel(decodeModel(await Deno.readFile("model.onnx")));
 * console.log(summary.parameters.total.elements);
 * ```
 */
export function summarizeModel(
  model: ModelProto,
  options: SummarizeModelOptions = {},
): ModelSummary {
  const graph = model.graph;
  const initialized = new Set(graph?.initializer.map((t) => t.name) ?? []);
  for (const sparse of graph?.sparseInitializer ?? []) initialized.add(sparse.values?.name ?? "");

  const operators = new Map<string, { domain: string; opType: string; count: number }>();
  const nodes = { total: 0, mainGraph: 0, subgraphs: 0, functions: 0, training: 0 };
  const subgraphs: SubgraphSummary[] = [];
  const params = new ParameterCounter();

  for (const visit of walkGraphs(model)) {
    const count = visit.nodes.length;
    nodes.total += count;
    if (visit.kind === "main") nodes.mainGraph += count;
    else if (visit.kind === "function") nodes.functions += count;
    else if (visit.kind === "training") nodes.training += count;
    else nodes.subgraphs += count;
    if (visit.kind === "subgraph" && visit.parent) {
      const { entry, node, attribute, index } = visit.parent;
      subgraphs.push({
        path: visit.path,
        name: `${nodeLabel(node, entry.nodes.indexOf(node))}.${attribute}${
          index === undefined ? "" : `[${index}]`
        }`,
        depth: visit.depth,
        nodes: count,
        initializers: (visit.graph?.initializer.length ?? 0) +
          (visit.graph?.sparseInitializer.length ?? 0),
      });
    }
    for (const node of visit.nodes) {
      const domain = normalizeDomain(node.domain);
      const key = `${domain}\u0000${node.opType}`;
      const entry = operators.get(key) ?? { domain, opType: node.opType, count: 0 };
      entry.count++;
      operators.set(key, entry);
      if (node.opType === "Constant" && domain === DEFAULT_DOMAIN) params.addConstant(node);
    }
    for (const tensor of visit.graph?.initializer ?? []) params.addInitializer(tensor);
    for (const sparse of visit.graph?.sparseInitializer ?? []) params.addSparse(sparse);
  }

  return {
    schema: SUMMARY_SCHEMA,
    file: options.file ? { path: options.file.path, bytes: options.file.bytes } : null,
    irVersion: Number(model.irVersion),
    producer: { name: model.producerName, version: model.producerVersion },
    domain: model.domain,
    modelVersion: Number(model.modelVersion),
    docString: model.docString,
    graphName: graph?.name ?? "",
    opsets: model.opsetImport.map((o) => ({
      domain: normalizeDomain(o.domain),
      version: Number(o.version),
    })),
    inputs: (graph?.input ?? []).filter((v) => !initialized.has(v.name)).map(summarizeValue),
    outputs: (graph?.output ?? []).map(summarizeValue),
    nodes,
    operators: [...operators.values()].sort((a, b) =>
      b.count - a.count || compare(a.domain, b.domain) || compare(a.opType, b.opType)
    ),
    parameters: params.summary(),
    externalData: summarizeExternalData(model, options.externalFileBytes ?? new Map()),
    subgraphs,
    functions: model.functions.map((f) => ({
      domain: f.domain,
      name: f.name,
      nodes: f.node.length,
    })),
    metadata: model.metadataProps.map((p) => ({ key: p.key, value: p.value })),
  };
}

/**
 * The external data locations that a model's tensors refer to, each once, sorted.
 *
 * @param model The decoded model.
 * @returns Locations relative to the model's folder.
 * @example
 * ```ts
 * import { decodeModel } from "@modelpress/onnx";
 * import { externalDataLocations } from "@modelpress/cli";
 * const model = decodeModel(await Deno.readFile("model.onnx"));
 * for (const location of externalDataLocations(model)) console.log(location);
 * ```
 */
export function externalDataLocations(model: ModelProto): string[] {
  return summarizeExternalData(model, new Map()).map((e) => e.location);
}

/**
 * The ONNX type notation of a value type: `tensor(float)`, `seq(tensor(int64))`,
 * `map(string,tensor(float))`, `optional(tensor(float))`, `sparse_tensor(float)`,
 * `opaque(domain.name)`, or `?` when the type is not set.
 *
 * @param type The type, or undefined.
 * @returns The notation.
 * @example
 * ```ts
 * import { typeNotation } from "@modelpress/cli";
 * typeNotation(undefined); // "?"
 * ```
 */
export function typeNotation(type: TypeProto | undefined): string {
  const value = type?.value;
  switch (value?.case) {
    case "tensorType":
      return `tensor(${elemTypeName(value.value.elemType)})`;
    case "sparseTensorType":
      return `sparse_tensor(${elemTypeName(value.value.elemType)})`;
    case "sequenceType":
      return `seq(${typeNotation(value.value.elemType)})`;
    case "optionalType":
      return `optional(${typeNotation(value.value.elemType)})`;
    case "mapType":
      return `map(${elemTypeName(value.value.keyType)},${typeNotation(value.value.valueType)})`;
    case "opaqueType":
      return `opaque(${[value.value.domain, value.value.name].filter(Boolean).join(".")})`;
    default:
      return "?";
  }
}

/**
 * The lower-case ONNX name of an element type (`float`, `int8`, `bfloat16`), as used in type
 * notation; `undefined` for 0 and `unknown(n)` for numbers newer than this build.
 *
 * @param dataType A `TensorProto_DataType` value.
 * @returns The name.
 * @example
 * ```ts
 * import { elemTypeName } from "@modelpress/cli";
 * elemTypeName(1); // "float"
 * ```
 */
export function elemTypeName(dataType: number): string {
  return dataTypeName(dataType).toLowerCase();
}

function summarizeValue(info: ValueInfoProto): ValueSummary {
  const value = info.type?.value;
  const tensor = value?.case === "tensorType" || value?.case === "sparseTensorType"
    ? value.value
    : undefined;
  return {
    name: info.name,
    type: typeNotation(info.type),
    elemType: tensor ? elemTypeName(tensor.elemType) : null,
    shape: tensor?.shape ? summarizeShape(tensor.shape) : null,
  };
}

function summarizeShape(shape: TensorShapeProto): (number | string | null)[] {
  return shape.dim.map((d) => {
    if (d.value.case === "dimValue") return Number(d.value.value);
    if (d.value.case === "dimParam") return d.value.value;
    return null;
  });
}

function normalizeDomain(domain: string): string {
  return domain === "" ? DEFAULT_DOMAIN : domain;
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

interface MutableTally {
  tensors: number;
  elements: number;
  bytes: number;
}

interface Sized {
  readonly dtype: string;
  readonly elements: number;
  readonly bytes: number;
}

const T = TensorProto_DataType;

/** Adds up parameters by source and by element type. */
class ParameterCounter {
  readonly #initializers = emptyTally();
  readonly #sparse = emptyTally();
  readonly #constants = emptyTally();
  readonly #byDtype = new Map<string, MutableTally>();

  addInitializer(tensor: TensorProto): void {
    this.#add(this.#initializers, sizeTensor(tensor));
  }

  addSparse(sparse: SparseTensorProto): void {
    const values = sparse.values ? sizeTensor(sparse.values) : undefined;
    const indices = sparse.indices ? sizeTensor(sparse.indices) : undefined;
    this.#add(this.#sparse, {
      dtype: values?.dtype ?? elemTypeName(T.UNDEFINED),
      elements: values?.elements ?? 0,
      bytes: (values?.bytes ?? 0) + (indices?.bytes ?? 0),
    });
  }

  addConstant(node: NodeProto): void {
    for (const attr of node.attribute) {
      const sized = this.#sizeConstantAttribute(attr);
      if (sized) this.#add(this.#constants, sized);
    }
  }

  summary(): ParameterSummary {
    const total = emptyTally();
    for (const t of [this.#initializers, this.#sparse, this.#constants]) {
      total.tensors += t.tensors;
      total.elements += t.elements;
      total.bytes += t.bytes;
    }
    return {
      total,
      initializers: this.#initializers,
      sparseInitializers: this.#sparse,
      constants: this.#constants,
      byDtype: [...this.#byDtype.entries()]
        .map(([dtype, t]) => ({ dtype, ...t }))
        .sort((a, b) => b.bytes - a.bytes || compare(a.dtype, b.dtype)),
    };
  }

  #add(tally: MutableTally, sized: Sized): void {
    tally.tensors++;
    tally.elements += sized.elements;
    tally.bytes += sized.bytes;
    const byDtype = this.#byDtype.get(sized.dtype) ?? emptyTally();
    byDtype.tensors++;
    byDtype.elements += sized.elements;
    byDtype.bytes += sized.bytes;
    this.#byDtype.set(sized.dtype, byDtype);
  }

  #sizeConstantAttribute(attr: AttributeProto): Sized | undefined {
    switch (attr.name) {
      case "value":
        return attr.t ? sizeTensor(attr.t) : undefined;
      case "sparse_value": {
        if (!attr.sparseTensor) return undefined;
        const values = attr.sparseTensor.values;
        const v = values ? sizeTensor(values) : undefined;
        const i = attr.sparseTensor.indices ? sizeTensor(attr.sparseTensor.indices) : undefined;
        return {
          dtype: v?.dtype ?? elemTypeName(T.UNDEFINED),
          elements: v?.elements ?? 0,
          bytes: (v?.bytes ?? 0) + (i?.bytes ?? 0),
        };
      }
      case "value_float":
        return { dtype: elemTypeName(T.FLOAT), elements: 1, bytes: 4 };
      case "value_floats":
        return {
          dtype: elemTypeName(T.FLOAT),
          elements: attr.floats.length,
          bytes: 4 * attr.floats.length,
        };
      case "value_int":
        return { dtype: elemTypeName(T.INT64), elements: 1, bytes: 8 };
      case "value_ints":
        return {
          dtype: elemTypeName(T.INT64),
          elements: attr.ints.length,
          bytes: 8 * attr.ints.length,
        };
      case "value_string":
        return { dtype: elemTypeName(T.STRING), elements: 1, bytes: attr.s.length };
      case "value_strings":
        return {
          dtype: elemTypeName(T.STRING),
          elements: attr.strings.length,
          bytes: attr.strings.reduce((sum, s) => sum + s.length, 0),
        };
      default:
        return undefined;
    }
  }
}

function summarizeExternalData(
  model: ModelProto,
  fileBytes: ReadonlyMap<string, number>,
): ExternalDataSummary[] {
  const files = new Map<string, MutableTally>();
  for (const tensor of modelTensors(model)) {
    if (tensor.dataLocation !== TensorProto_DataLocation.EXTERNAL) continue;
    const location = tensor.externalData.find((e) => e.key === "location")?.value ?? "";
    const file = files.get(location) ?? emptyTally();
    const sized = sizeTensor(tensor);
    file.tensors++;
    file.elements += sized.elements;
    file.bytes += sized.bytes;
    files.set(location, file);
  }
  return [...files.entries()]
    .sort(([a], [b]) => compare(a, b))
    .map(([location, t]) => ({
      location,
      tensors: t.tensors,
      bytes: t.bytes,
      fileBytes: fileBytes.get(location) ?? null,
    }));
}

function emptyTally(): MutableTally {
  return { tensors: 0, elements: 0, bytes: 0 };
}

/**
 * Element count and data bytes of a tensor. Bytes are what the data occupies wherever it is:
 * `raw_data`'s length, the external `length`, the UTF-8 bytes of strings, or for typed fields
 * (`float_data`, ...) the packed size the elements would have in `raw_data`.
 */
function sizeTensor(tensor: TensorProto): Sized {
  const dtype = elemTypeName(tensor.dataType);
  const elements = elementCount(tensor);
  // Types newer than this build have no known width; their bytes count only when stored raw.
  const packed = isFixedSizeDataType(tensor.dataType) ? tensorByteLength(tensor) : 0;
  if (tensor.dataLocation === TensorProto_DataLocation.EXTERNAL) {
    const length = tensor.externalData.find((e) => e.key === "length")?.value;
    const parsed = length === undefined ? NaN : Number(length);
    return { dtype, elements, bytes: Number.isSafeInteger(parsed) ? parsed : packed };
  }
  if (tensor.dataType === T.STRING) return { dtype, elements, bytes: tensorByteLength(tensor) };
  if (tensor.rawData.length > 0) return { dtype, elements, bytes: tensor.rawData.length };
  return { dtype, elements, bytes: packed };
}
