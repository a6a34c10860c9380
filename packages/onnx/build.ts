/**
 * Small builders for making ONNX models in code: tensors, attributes, nodes, value infos, graphs
 * and models.
 *
 * @example
 * ```ts
 * import { attrFloat, makeGraph, makeModel, makeNode, makeTensor, makeValueInfo, TensorProto_DataType } from "@modelpress/onnx";
 * const { FLOAT } = TensorProto_DataType;
 * const model = makeModel(makeGraph("tiny", {
 *   nodes: [makeNode("LeakyRelu", { inputs: ["x"], outputs: ["y"], attributes: { alpha: attrFloat(0.2) } })],
 *   inputs: [makeValueInfo("x", FLOAT, { shape: ["batch", 4] })],
 *   outputs: [makeValueInfo("y", FLOAT, { shape: ["batch", 4] })],
 *   initializers: [makeTensor("unused", new Float32Array([1, 2]))],
 * }));
 * ```
 * @module
 */
import { create, isMessage } from "@bufbuild/protobuf";
import {
  type AttributeProto,
  AttributeProto_AttributeType,
  AttributeProtoSchema,
  type FunctionProto,
  type GraphProto,
  GraphProtoSchema,
  type ModelProto,
  ModelProtoSchema,
  type NodeProto,
  NodeProtoSchema,
  OperatorSetIdProtoSchema,
  type SparseTensorProto,
  SparseTensorProtoSchema,
  StringStringEntryProtoSchema,
  type TensorProto,
  TensorProto_DataType,
  TensorProtoSchema,
  type TensorShapeProto,
  TensorShapeProto_DimensionSchema,
  TensorShapeProtoSchema,
  type TypeProto,
  TypeProtoSchema,
  type ValueInfoProto,
  ValueInfoProtoSchema,
} from "./_gen/onnx_pb.ts";
import { setTensorData, type TensorValues } from "./tensor.ts";

/** Options for {@linkcode makeTensor}. */
export interface MakeTensorOptions {
  /**
   * The shape. Defaults to `[n]` where `n` is the element count implied by `data` (for example
   * half the length of a Float32Array given as COMPLEX64).
   */
  readonly dims?: readonly (number | bigint)[];
  /**
   * The ONNX element type, when it is not the one inferred from `data`: FLOAT16, BFLOAT16 over a
   * Uint16Array of bits; BOOL, FLOAT8* and FLOAT4E2M1 over a Uint8Array; INT4/UINT4/INT2/UINT2 over
   * an Int8Array/Uint8Array of unpacked values (one element per array item; they are packed);
   * COMPLEX64/COMPLEX128 over an interleaved Float32Array/Float64Array.
   */
  readonly dataType?: TensorProto_DataType;
  /**
   * Copy the data. By default `raw_data` is a view over the bytes of `data` where that is
   * possible (no copy), so `data` must not be modified afterwards.
   */
  readonly copy?: boolean;
  /** Documentation string. */
  readonly docString?: string;
}

/**
 * Makes a TensorProto from a typed array. The element type is inferred from the array
 * (Float32Array → FLOAT, Float64Array → DOUBLE, Int8Array → INT8, Uint8Array → UINT8,
 * Int16Array → INT16, Uint16Array → UINT16, Int32Array → INT32, Uint32Array → UINT32,
 * BigInt64Array → INT64, BigUint64Array → UINT64, `string[]`/`Uint8Array[]` → STRING) unless
 * `options.dataType` says otherwise. Numeric data go to little-endian `raw_data`.
 *
 * @param name The tensor's name.
 * @param data The elements, in row-major order.
 * @param options Shape, element type override and copy behaviour.
 * @returns The tensor.
 * @throws {RangeError} When the element count of `dims` does not match `data`.
 * @throws {TypeError} When `dataType` cannot be stored from this kind of array.
 * @example
 * ```ts
 * import { makeTensor, TensorProto_DataType } from "@modelpress/onnx";
 * const w = makeTensor("w", new Float32Array(12), { dims: [3, 4] });
 * const h = makeTensor("h", new Uint16Array([0x3c00]), { dataType: TensorProto_DataType.FLOAT16 });
 * ```
 */
export function makeTensor(
  name: string,
  data: TensorValues,
  options: MakeTensorOptions = {},
): TensorProto {
  const tensor = create(TensorProtoSchema, { name });
  if (options.docString !== undefined) tensor.docString = options.docString;
  const dataType = options.dataType ?? inferDataType(name, data);
  tensor.dataType = dataType;
  const count = valueCount(dataType, data);
  tensor.dims = options.dims === undefined ? [BigInt(count)] : options.dims.map(toDim(name));
  setTensorData(tensor, data, { copy: options.copy ?? false });
  return tensor;
}

function inferDataType(name: string, data: TensorValues): TensorProto_DataType {
  const T = TensorProto_DataType;
  if (Array.isArray(data)) return T.STRING;
  if (data instanceof Float32Array) return T.FLOAT;
  if (data instanceof Float64Array) return T.DOUBLE;
  if (data instanceof Int8Array) return T.INT8;
  if (data instanceof Uint8Array) return T.UINT8;
  if (data instanceof Int16Array) return T.INT16;
  if (data instanceof Uint16Array) return T.UINT16;
  if (data instanceof Int32Array) return T.INT32;
  if (data instanceof Uint32Array) return T.UINT32;
  if (data instanceof BigInt64Array) return T.INT64;
  if (data instanceof BigUint64Array) return T.UINT64;
  throw new TypeError(
    `Cannot make tensor '${name}': cannot infer an ONNX type from ${describe(data)}`,
  );
}

function valueCount(dataType: TensorProto_DataType, data: TensorValues): number {
  const T = TensorProto_DataType;
  if (dataType === T.COMPLEX64 || dataType === T.COMPLEX128) return Math.floor(data.length / 2);
  return data.length;
}

function toDim(name: string): (d: number | bigint) => bigint {
  return (d) => {
    if (typeof d === "number" && !Number.isSafeInteger(d)) {
      throw new RangeError(`Cannot make tensor '${name}': dimension ${d} is not an integer`);
    }
    const v = BigInt(d);
    if (v < 0n) throw new RangeError(`Cannot make tensor '${name}': dimension ${v} is negative`);
    return v;
  };
}

function describe(value: unknown): string {
  if (value === null) return "null";
  if (typeof value === "object") return value.constructor?.name ?? "an object";
  return `a ${typeof value}`;
}

/**
 * A value for {@linkcode makeNode}'s `attributes`. Bare JavaScript numbers are ambiguous (is `1`
 * an INT or a FLOAT?) and are rejected: wrap them with {@linkcode attrInt},
 * {@linkcode attrFloat}, {@linkcode attrInts} or {@linkcode attrFloats}, or give integers as
 * `bigint`. Everything else is inferred: bigint → INT, string/Uint8Array → STRING, TensorProto →
 * TENSOR, GraphProto → GRAPH, SparseTensorProto → SPARSE_TENSOR, TypeProto → TYPE_PROTO, and
 * non-empty arrays of those → the plural type. An AttributeProto is used as it is (renamed).
 */
export type AttributeValue =
  | AttributeProto
  | bigint
  | string
  | Uint8Array
  | TensorProto
  | GraphProto
  | SparseTensorProto
  | TypeProto
  | readonly bigint[]
  | readonly string[]
  | readonly Uint8Array[]
  | readonly TensorProto[]
  | readonly GraphProto[]
  | readonly SparseTensorProto[]
  | readonly TypeProto[];

/**
 * Makes a FLOAT attribute value (the name is set by {@linkcode makeNode} or
 * {@linkcode makeAttribute}).
 *
 * @param value The value (stored as a 32-bit float).
 * @returns An unnamed AttributeProto.
 * @example
 * ```ts
 * import { attrFloat, makeNode } from "@modelpress/onnx";
 * const node = makeNode("LeakyRelu", { inputs: ["x"], outputs: ["y"], attributes: { alpha: attrFloat(0.2) } });
 * ```
 */
export function attrFloat(value: number): AttributeProto {
  return create(AttributeProtoSchema, { type: AttributeProto_AttributeType.FLOAT, f: value });
}

/**
 * Makes a FLOATS attribute value.
 *
 * @param values The values (stored as 32-bit floats).
 * @returns An unnamed AttributeProto.
 * @example
 * ```ts
 * import { attrFloats } from "@modelpress/onnx";
 * const scales = attrFloats([1, 1, 2, 2]);
 * ```
 */
export function attrFloats(values: readonly number[] | Float32Array): AttributeProto {
  return create(AttributeProtoSchema, {
    type: AttributeProto_AttributeType.FLOATS,
    floats: Array.from(values),
  });
}

/**
 * Makes an INT attribute value.
 *
 * @param value An integer (a number must be a safe integer).
 * @returns An unnamed AttributeProto.
 * @throws {RangeError} When `value` is a number that is not a safe integer.
 * @example
 * ```ts
 * import { attrInt, makeNode } from "@modelpress/onnx";
 * const node = makeNode("Softmax", { inputs: ["x"], outputs: ["y"], attributes: { axis: attrInt(-1) } });
 * ```
 */
export function attrInt(value: number | bigint): AttributeProto {
  return create(AttributeProtoSchema, {
    type: AttributeProto_AttributeType.INT,
    i: toInt64(value),
  });
}

/**
 * Makes an INTS attribute value.
 *
 * @param values Integers (numbers must be safe integers).
 * @returns An unnamed AttributeProto.
 * @throws {RangeError} When a number is not a safe integer.
 * @example
 * ```ts
 * import { attrInts } from "@modelpress/onnx";
 * const perm = attrInts([0, 2, 1]);
 * ```
 */
export function attrInts(
  values: readonly (number | bigint)[] | Int32Array | BigInt64Array,
): AttributeProto {
  const ints: bigint[] = [];
  for (const v of values) ints.push(toInt64(v));
  return create(AttributeProtoSchema, { type: AttributeProto_AttributeType.INTS, ints });
}

function toInt64(value: number | bigint): bigint {
  if (typeof value === "number" && !Number.isSafeInteger(value)) {
    throw new RangeError(`Cannot make an INT attribute from ${value}: it is not a safe integer`);
  }
  const v = BigInt(value);
  if (v < -(1n << 63n) || v >= 1n << 63n) {
    throw new RangeError(`Cannot make an INT attribute from ${v}: it does not fit in int64`);
  }
  return v;
}

/**
 * Makes a named AttributeProto, inferring its type from the value (see
 * {@linkcode AttributeValue} for the rule).
 *
 * @param name The attribute name.
 * @param value The value.
 * @returns The attribute.
 * @throws {TypeError} When the type cannot be inferred (a bare number, an empty or mixed array).
 * @example
 * ```ts
 * import { attrInt, makeAttribute } from "@modelpress/onnx";
 * const mode = makeAttribute("mode", "constant");
 * const axis = makeAttribute("axis", attrInt(1));
 * const axes = makeAttribute("axes", [0n, 1n]);
 * ```
 */
export function makeAttribute(name: string, value: AttributeValue): AttributeProto {
  const A = AttributeProto_AttributeType;
  if (isMessage(value, AttributeProtoSchema)) {
    // A shallow copy, so that one helper value can name several attributes. protobuf-es keeps
    // proto2 defaults on the prototype, so the copy keeps it.
    const attr: AttributeProto = Object.assign(Object.create(Object.getPrototypeOf(value)), value);
    attr.name = name;
    return attr;
  }
  if (typeof value === "bigint") {
    return create(AttributeProtoSchema, { name, type: A.INT, i: value });
  }
  if (typeof value === "string") {
    return create(AttributeProtoSchema, { name, type: A.STRING, s: ENCODER.encode(value) });
  }
  if (value instanceof Uint8Array) {
    return create(AttributeProtoSchema, { name, type: A.STRING, s: value });
  }
  if (isMessage(value, TensorProtoSchema)) {
    return create(AttributeProtoSchema, { name, type: A.TENSOR, t: value });
  }
  if (isMessage(value, GraphProtoSchema)) {
    return create(AttributeProtoSchema, { name, type: A.GRAPH, g: value });
  }
  if (isMessage(value, SparseTensorProtoSchema)) {
    return create(AttributeProtoSchema, { name, type: A.SPARSE_TENSOR, sparseTensor: value });
  }
  if (isMessage(value, TypeProtoSchema)) {
    return create(AttributeProtoSchema, { name, type: A.TYPE_PROTO, tp: value });
  }
  if (Array.isArray(value)) return makeListAttribute(name, value as readonly unknown[]);
  throw new TypeError(
    `Cannot make attribute '${name}': ${
      typeof value === "number"
        ? `the number ${value} is ambiguous, use attrInt(), attrFloat() or a bigint`
        : `${describe(value)} is not an attribute value`
    }`,
  );
}

const ENCODER = new TextEncoder();

function makeListAttribute(name: string, values: readonly unknown[]): AttributeProto {
  const A = AttributeProto_AttributeType;
  const first = values[0];
  const all = <T>(guard: (v: unknown) => v is T): T[] | undefined =>
    values.every(guard) ? (values as T[]).slice() : undefined;
  let attr: AttributeProto | undefined;
  if (first === undefined) {
    throw new TypeError(
      `Cannot make attribute '${name}': an empty array is ambiguous, use attrInts([]) or attrFloats([])`,
    );
  } else if (typeof first === "bigint") {
    const ints = all((v): v is bigint => typeof v === "bigint");
    if (ints) attr = create(AttributeProtoSchema, { name, type: A.INTS, ints });
  } else if (typeof first === "string" || first instanceof Uint8Array) {
    const strings = all((v): v is string | Uint8Array =>
      typeof v === "string" || v instanceof Uint8Array
    );
    if (strings) {
      attr = create(AttributeProtoSchema, {
        name,
        type: A.STRINGS,
        strings: strings.map((s) => typeof s === "string" ? ENCODER.encode(s) : s),
      });
    }
  } else if (isMessage(first, TensorProtoSchema)) {
    const tensors = all((v): v is TensorProto => isMessage(v, TensorProtoSchema));
    if (tensors) attr = create(AttributeProtoSchema, { name, type: A.TENSORS, tensors });
  } else if (isMessage(first, GraphProtoSchema)) {
    const graphs = all((v): v is GraphProto => isMessage(v, GraphProtoSchema));
    if (graphs) attr = create(AttributeProtoSchema, { name, type: A.GRAPHS, graphs });
  } else if (isMessage(first, SparseTensorProtoSchema)) {
    const sparse = all((v): v is SparseTensorProto => isMessage(v, SparseTensorProtoSchema));
    if (sparse) {
      attr = create(AttributeProtoSchema, { name, type: A.SPARSE_TENSORS, sparseTensors: sparse });
    }
  } else if (isMessage(first, TypeProtoSchema)) {
    const types = all((v): v is TypeProto => isMessage(v, TypeProtoSchema));
    if (types) {
      attr = create(AttributeProtoSchema, { name, type: A.TYPE_PROTOS, typeProtos: types });
    }
  } else if (typeof first === "number") {
    throw new TypeError(
      `Cannot make attribute '${name}': an array of numbers is ambiguous, use attrInts() or attrFloats()`,
    );
  }
  if (attr === undefined) {
    throw new TypeError(
      `Cannot make attribute '${name}': the array mixes or holds values of no attribute type`,
    );
  }
  return attr;
}

/** Options for {@linkcode makeNode}. */
export interface MakeNodeOptions {
  /** Input value names ("" for an omitted optional input). */
  readonly inputs?: readonly string[];
  /** Output value names. */
  readonly outputs?: readonly string[];
  /** The node's name. */
  readonly name?: string;
  /** The operator domain; "" (the default) is the standard ONNX domain. */
  readonly domain?: string;
  /** Attributes by name; see {@linkcode AttributeValue} for how types are inferred. */
  readonly attributes?: Readonly<Record<string, AttributeValue>>;
  /** Documentation string. */
  readonly docString?: string;
}

/**
 * Makes a NodeProto.
 *
 * @param opType The operator, e.g. "MatMul".
 * @param options Inputs, outputs, name, domain and attributes.
 * @returns The node.
 * @throws {TypeError} When an attribute's type cannot be inferred.
 * @example
 * ```ts
 * import { attrInt, makeNode } from "@modelpress/onnx";
 * const node = makeNode("Gemm", {
 *   inputs: ["x", "w", "b"],
 *   outputs: ["y"],
 *   name: "fc1",
 *   attributes: { transB: attrInt(1) },
 * });
 * ```
 */
export function makeNode(opType: string, options: MakeNodeOptions = {}): NodeProto {
  const node = create(NodeProtoSchema, {
    opType,
    input: [...(options.inputs ?? [])],
    output: [...(options.outputs ?? [])],
  });
  if (options.name !== undefined) node.name = options.name;
  if (options.domain !== undefined) node.domain = options.domain;
  if (options.docString !== undefined) node.docString = options.docString;
  for (const [key, value] of Object.entries(options.attributes ?? {})) {
    try {
      node.attribute.push(makeAttribute(key, value));
    } catch (e) {
      if (!(e instanceof TypeError)) throw e;
      const label = options.name ? `node '${options.name}'` : `a ${opType} node`;
      throw new TypeError(`Cannot make ${label}: ${e.message.replace(/^Cannot make /, "")}`, {
        cause: e,
      });
    }
  }
  return node;
}

/** A dimension for {@linkcode makeValueInfo}: a size, a symbolic name, or `null` (unknown). */
export type Dim = number | bigint | string | null;

/** Options for {@linkcode makeValueInfo}. */
export interface MakeValueInfoOptions {
  /** The shape; leave it out when even the rank is unknown. */
  readonly shape?: readonly Dim[];
  /** Documentation string. */
  readonly docString?: string;
}

/**
 * Makes a ValueInfoProto of a tensor type.
 *
 * @param name The value's name.
 * @param elemType The element type.
 * @param options The shape: numbers are fixed sizes, strings symbolic ones, `null` unknown.
 * @returns The value info.
 * @throws {RangeError} When a fixed size is negative or not an integer.
 * @example
 * ```ts
 * import { makeValueInfo, TensorProto_DataType } from "@modelpress/onnx";
 * const x = makeValueInfo("x", TensorProto_DataType.FLOAT, { shape: ["batch", 3, 224, 224] });
 * ```
 */
export function makeValueInfo(
  name: string,
  elemType: TensorProto_DataType,
  options: MakeValueInfoOptions = {},
): ValueInfoProto {
  const tensorType: { elemType: number; shape?: TensorShapeProto } = { elemType };
  if (options.shape !== undefined) tensorType.shape = makeShape(name, options.shape);
  const info = create(ValueInfoProtoSchema, {
    name,
    type: create(TypeProtoSchema, { value: { case: "tensorType", value: tensorType } }),
  });
  if (options.docString !== undefined) info.docString = options.docString;
  return info;
}

function makeShape(name: string, shape: readonly Dim[]): TensorShapeProto {
  return create(TensorShapeProtoSchema, {
    dim: shape.map((d) => {
      if (d === null) return create(TensorShapeProto_DimensionSchema);
      if (typeof d === "string") {
        return create(TensorShapeProto_DimensionSchema, { value: { case: "dimParam", value: d } });
      }
      if ((typeof d === "number" && !Number.isSafeInteger(d)) || d < 0) {
        throw new RangeError(
          `Cannot make value info '${name}': dimension ${d} is not a non-negative integer`,
        );
      }
      return create(TensorShapeProto_DimensionSchema, {
        value: { case: "dimValue", value: BigInt(d) },
      });
    }),
  });
}

/** Options for {@linkcode makeGraph}. */
export interface MakeGraphOptions {
  /** Nodes in topological order. */
  readonly nodes?: readonly NodeProto[];
  /** Graph inputs. */
  readonly inputs?: readonly ValueInfoProto[];
  /** Graph outputs. */
  readonly outputs?: readonly ValueInfoProto[];
  /** Constant tensors. */
  readonly initializers?: readonly TensorProto[];
  /** Constant sparse tensors. */
  readonly sparseInitializers?: readonly SparseTensorProto[];
  /** Types and shapes of intermediate values. */
  readonly valueInfo?: readonly ValueInfoProto[];
  /** Documentation string. */
  readonly docString?: string;
}

/**
 * Makes a GraphProto. The given protos are used as they are (not copied).
 *
 * @param name The graph's name.
 * @param options Nodes, inputs, outputs, initializers and value infos.
 * @returns The graph.
 * @example
 * ```ts
 * import { makeGraph, makeNode, makeValueInfo, TensorProto_DataType } from "@modelpress/onnx";
 * const { FLOAT } = TensorProto_DataType;
 * const graph = makeGraph("relu", {
 *   nodes: [makeNode("Relu", { inputs: ["x"], outputs: ["y"] })],
 *   inputs: [makeValueInfo("x", FLOAT, { shape: [4] })],
 *   outputs: [makeValueInfo("y", FLOAT, { shape: [4] })],
 * });
 * ```
 */
export function makeGraph(name: string, options: MakeGraphOptions = {}): GraphProto {
  const graph = create(GraphProtoSchema, {
    name,
    node: [...(options.nodes ?? [])],
    input: [...(options.inputs ?? [])],
    output: [...(options.outputs ?? [])],
    initializer: [...(options.initializers ?? [])],
    sparseInitializer: [...(options.sparseInitializers ?? [])],
    valueInfo: [...(options.valueInfo ?? [])],
  });
  if (options.docString !== undefined) graph.docString = options.docString;
  return graph;
}

/** An operator set import for {@linkcode makeModel}. */
export interface OpsetImport {
  /** The domain; "" is the standard ONNX domain. */
  readonly domain?: string;
  /** The opset version. */
  readonly version: number | bigint;
}

/** The default opset of the standard domain used by {@linkcode makeModel} (goes with IR 10). */
export const DEFAULT_OPSET_VERSION = 21;

/** The default IR version used by {@linkcode makeModel}. */
export const DEFAULT_IR_VERSION = 10;

/** Options for {@linkcode makeModel}. */
export interface MakeModelOptions {
  /** Opset imports; default `[{ domain: "", version: DEFAULT_OPSET_VERSION }]`. */
  readonly opsetImports?: readonly OpsetImport[];
  /** IR version; default {@linkcode DEFAULT_IR_VERSION}. */
  readonly irVersion?: number | bigint;
  /** Producer name; default "modelpress". */
  readonly producerName?: string;
  /** Producer version. */
  readonly producerVersion?: string;
  /** Model domain (reverse DNS). */
  readonly domain?: string;
  /** Model version. */
  readonly modelVersion?: number | bigint;
  /** Documentation string. */
  readonly docString?: string;
  /** Model-local functions. */
  readonly functions?: readonly FunctionProto[];
  /** Metadata key/value pairs. */
  readonly metadata?: Readonly<Record<string, string>>;
}

/**
 * Makes a ModelProto around a graph.
 *
 * @param graph The main graph.
 * @param options Opset imports, IR version, producer and metadata.
 * @returns The model, ready for `encodeModel`.
 * @example
 * ```ts
 * import { encodeModel, makeGraph, makeModel } from "@modelpress/onnx";
 * const model = makeModel(makeGraph("empty"), { opsetImports: [{ version: 17 }], irVersion: 8 });
 * const bytes = encodeModel(model);
 * ```
 */
export function makeModel(graph: GraphProto, options: MakeModelOptions = {}): ModelProto {
  const imports = options.opsetImports ?? [{ domain: "", version: DEFAULT_OPSET_VERSION }];
  const model = create(ModelProtoSchema, {
    irVersion: BigInt(options.irVersion ?? DEFAULT_IR_VERSION),
    producerName: options.producerName ?? "modelpress",
    graph,
    opsetImport: imports.map((o) =>
      create(OperatorSetIdProtoSchema, { domain: o.domain ?? "", version: BigInt(o.version) })
    ),
    functions: [...(options.functions ?? [])],
    metadataProps: Object.entries(options.metadata ?? {}).map(([key, value]) =>
      create(StringStringEntryProtoSchema, { key, value })
    ),
  });
  if (options.producerVersion !== undefined) model.producerVersion = options.producerVersion;
  if (options.domain !== undefined) model.domain = options.domain;
  if (options.modelVersion !== undefined) model.modelVersion = BigInt(options.modelVersion);
  if (options.docString !== undefined) model.docString = options.docString;
  return model;
}
