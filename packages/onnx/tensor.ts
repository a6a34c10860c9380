/**
 * Tensor data as typed arrays, for every ONNX element type. Assumes a little-endian host, as is
 * every platform Deno and browsers run on; ONNX's `raw_data` is little-endian.
 *
 * | data_type | array from {@linkcode tensorData} |
 * | --- | --- |
 * | FLOAT, COMPLEX64 (interleaved re, im) | Float32Array |
 * | DOUBLE, COMPLEX128 (interleaved re, im) | Float64Array |
 * | INT8 / UINT8, INT16 / UINT16, INT32 / UINT32 | Int8Array / Uint8Array, ... |
 * | INT64 / UINT64 | BigInt64Array / BigUint64Array |
 * | BOOL | Uint8Array (0 or 1) |
 * | FLOAT16, BFLOAT16 | Uint16Array of bits (see `float16ToFloat32`, `bfloat16ToFloat32`) |
 * | FLOAT8E4M3FN, FLOAT8E4M3FNUZ, FLOAT8E5M2, FLOAT8E5M2FNUZ, FLOAT8E8M0 | Uint8Array of bits |
 * | INT4 / UINT4, INT2 / UINT2 | Int8Array / Uint8Array, one element per item (unpacked) |
 * | FLOAT4E2M1 | Uint8Array of 4-bit codes, one element per item (unpacked) |
 * | STRING | Uint8Array[] (string[] with `decodeStrings`) |
 * @module
 */
import { clearField, create } from "@bufbuild/protobuf";
import {
  type TensorProto,
  TensorProto_DataLocation,
  TensorProto_DataType,
  TensorProtoSchema,
} from "./_gen/onnx_pb.ts";
import { dataTypeBits, dataTypeName } from "./data_type.ts";
import {
  pack2Bit,
  pack4Bit,
  unpackInt2,
  unpackInt4,
  unpackUint2,
  unpackUint4,
} from "./pack_bits.ts";

/** A typed array holding tensor elements (see the module table for which type gives which). */
export type TensorArray =
  | Float32Array
  | Float64Array
  | Int8Array
  | Uint8Array
  | Int16Array
  | Uint16Array
  | Int32Array
  | Uint32Array
  | BigInt64Array
  | BigUint64Array;

/** Data for {@linkcode setTensorData}: a typed array, or strings for a STRING tensor. */
export type TensorValues = TensorArray | readonly string[] | readonly Uint8Array[];

type Field = "floatData" | "int32Data" | "int64Data" | "uint64Data" | "doubleData";
type ArrayConstructor =
  | Float32ArrayConstructor
  | Float64ArrayConstructor
  | Int8ArrayConstructor
  | Uint8ArrayConstructor
  | Int16ArrayConstructor
  | Uint16ArrayConstructor
  | Int32ArrayConstructor
  | Uint32ArrayConstructor
  | BigInt64ArrayConstructor
  | BigUint64ArrayConstructor;

interface Layout {
  /** The array type holding the (unpacked) elements. */
  readonly array: ArrayConstructor;
  /** The repeated field that may hold the data instead of raw_data. */
  readonly field: Field;
  /** Array items per element: 2 for complex numbers. */
  readonly items: 1 | 2;
  /** Elements per byte for sub-byte types (packed in raw_data and in each int32_data value). */
  readonly perByte?: 2 | 4;
  readonly signed?: boolean;
}

const T = TensorProto_DataType;
const LAYOUTS: ReadonlyMap<number, Layout> = new Map<number, Layout>([
  [T.FLOAT, { array: Float32Array, field: "floatData", items: 1 }],
  [T.DOUBLE, { array: Float64Array, field: "doubleData", items: 1 }],
  [T.COMPLEX64, { array: Float32Array, field: "floatData", items: 2 }],
  [T.COMPLEX128, { array: Float64Array, field: "doubleData", items: 2 }],
  [T.INT8, { array: Int8Array, field: "int32Data", items: 1 }],
  [T.UINT8, { array: Uint8Array, field: "int32Data", items: 1 }],
  [T.INT16, { array: Int16Array, field: "int32Data", items: 1 }],
  [T.UINT16, { array: Uint16Array, field: "int32Data", items: 1 }],
  [T.INT32, { array: Int32Array, field: "int32Data", items: 1 }],
  [T.UINT32, { array: Uint32Array, field: "uint64Data", items: 1 }],
  [T.INT64, { array: BigInt64Array, field: "int64Data", items: 1 }],
  [T.UINT64, { array: BigUint64Array, field: "uint64Data", items: 1 }],
  [T.BOOL, { array: Uint8Array, field: "int32Data", items: 1 }],
  [T.FLOAT16, { array: Uint16Array, field: "int32Data", items: 1 }],
  [T.BFLOAT16, { array: Uint16Array, field: "int32Data", items: 1 }],
  [T.FLOAT8E4M3FN, { array: Uint8Array, field: "int32Data", items: 1 }],
  [T.FLOAT8E4M3FNUZ, { array: Uint8Array, field: "int32Data", items: 1 }],
  [T.FLOAT8E5M2, { array: Uint8Array, field: "int32Data", items: 1 }],
  [T.FLOAT8E5M2FNUZ, { array: Uint8Array, field: "int32Data", items: 1 }],
  [T.FLOAT8E8M0, { array: Uint8Array, field: "int32Data", items: 1 }],
  [T.INT4, { array: Int8Array, field: "int32Data", items: 1, perByte: 2, signed: true }],
  [T.UINT4, { array: Uint8Array, field: "int32Data", items: 1, perByte: 2 }],
  [T.FLOAT4E2M1, { array: Uint8Array, field: "int32Data", items: 1, perByte: 2 }],
  [T.INT2, { array: Int8Array, field: "int32Data", items: 1, perByte: 4, signed: true }],
  [T.UINT2, { array: Uint8Array, field: "int32Data", items: 1, perByte: 4 }],
]);

const FIELD_NAMES: Readonly<Record<Field, string>> = {
  floatData: "float_data",
  int32Data: "int32_data",
  int64Data: "int64_data",
  uint64Data: "uint64_data",
  doubleData: "double_data",
};

const DECODER = new TextDecoder();
const ENCODER = new TextEncoder();

/**
 * The number of elements the tensor's dims describe (1 for a scalar, whose dims are `[]`).
 *
 * @param tensorOrDims A tensor, or its dims.
 * @returns The product of the dims.
 * @throws {RangeError} When a dim is negative or the product is beyond 2^53.
 * @example
 * ```ts
 * import { elementCount } from "@modelpress/onnx";
 * elementCount([3n, 4n]); // 12
 * ```
 */
export function elementCount(tensorOrDims: TensorProto | readonly (number | bigint)[]): number {
  const isTensor = !Array.isArray(tensorOrDims);
  const dims = isTensor
    ? (tensorOrDims as TensorProto).dims
    : tensorOrDims as readonly (number | bigint)[];
  let count = 1;
  for (const d of dims) {
    const n = Number(d);
    if (!(n >= 0) || !Number.isInteger(n)) {
      const what = isTensor ? `tensor '${(tensorOrDims as TensorProto).name}'` : "a tensor";
      throw new RangeError(`Cannot count elements of ${what}: dims ${formatDims(dims)} hold ${d}`);
    }
    count *= n;
  }
  if (!Number.isSafeInteger(count)) {
    throw new RangeError(`Cannot count elements: dims ${formatDims(dims)} hold more than 2^53`);
  }
  return count;
}

/**
 * The number of bytes the tensor's data occupy in `raw_data` form: `ceil(count * bits / 8)`, or
 * for STRING the total length of its strings. Works for external tensors too (from the dims).
 *
 * @param tensor The tensor.
 * @returns The byte length.
 * @throws {RangeError} When the data type is unknown or the dims are invalid.
 * @example
 * ```ts
 * import { makeTensor, tensorByteLength } from "@modelpress/onnx";
 * tensorByteLength(makeTensor("w", new Float32Array(12))); // 48
 * ```
 */
export function tensorByteLength(tensor: TensorProto): number {
  if (tensor.dataType === T.STRING) {
    let total = 0;
    for (const s of tensor.stringData) total += s.length;
    return total;
  }
  return Math.ceil((elementCount(tensor) * dataTypeBits(tensor.dataType)) / 8);
}

/** Options for {@linkcode tensorData}. */
export interface TensorDataOptions {
  /** Return a STRING tensor's elements as strings (UTF-8 decoded) instead of bytes. */
  readonly decodeStrings?: boolean;
  /** Always return a fresh array, never a view over `raw_data`. */
  readonly copy?: boolean;
}

/**
 * Reads a tensor's elements as a typed array (see the module table for which type gives which).
 *
 * From `raw_data`, the result is a zero-copy view when `raw_data`'s byte offset is a multiple of
 * the element size (so writes to it change the tensor, and it lives as long as the model bytes);
 * it is a copy when the offset is unaligned (as happens in decoded models, whose `raw_data` are
 * views into the file bytes), when `options.copy` is set, and for the unpacked 4- and 2-bit types.
 * From the typed fields (`float_data`, `int32_data`, ...) it is always a copy: `int32_data` holds
 * one element per value for the 8/16-bit types, BOOL, FLOAT16, BFLOAT16 and FLOAT8 types, and one
 * packed byte per value for the 4- and 2-bit types; `uint64_data` holds UINT32 and UINT64.
 *
 * @param tensor The tensor.
 * @param options `decodeStrings`, `copy`.
 * @returns The elements, `elementCount(tensor)` of them (twice that for complex types).
 * @throws {RangeError} When the data do not match the dims ("raw_data has 10 bytes, dims [3, 4]
 *   need 48").
 * @throws {TypeError} When the data type is unknown or UNDEFINED.
 * @throws {Error} When the data are external and not loaded (see `readModel`, `loadExternalData`).
 * @example
 * ```ts
 * import { decodeModel, tensorData } from "@modelpress/onnx";
 * const model = decodeModel(await Deno.readFile("model.onnx"));
 * for (const t of model.graph?.initializer ?? []) console.log(t.name, tensorData(t).length);
 * ```
 */
export function tensorData(
  tensor: TensorProto,
  options: TensorDataOptions & { readonly decodeStrings: true },
): TensorArray | string[];
export function tensorData(
  tensor: TensorProto,
  options?: TensorDataOptions,
): TensorArray | Uint8Array[];
export function tensorData(
  tensor: TensorProto,
  options: TensorDataOptions = {},
): TensorArray | Uint8Array[] | string[] {
  const name = tensor.name;
  if (tensor.dataLocation === TensorProto_DataLocation.EXTERNAL) {
    const location = tensor.externalData.find((e) => e.key === "location")?.value ?? "";
    throw new Error(
      `Cannot read tensor '${name}': its data are in external file '${location}' and not loaded; ` +
        "use readModel() or loadExternalData() first",
    );
  }
  const count = elementCount(tensor);
  if (tensor.dataType === T.STRING) {
    if (tensor.stringData.length !== count) {
      throw new RangeError(
        `Cannot read tensor '${name}': string_data has ${tensor.stringData.length} values, ` +
          `dims ${formatDims(tensor.dims)} need ${count}`,
      );
    }
    if (options.decodeStrings) return tensor.stringData.map((s) => DECODER.decode(s));
    return options.copy ? tensor.stringData.map((s) => s.slice()) : tensor.stringData.slice();
  }
  const layout = layoutOf(tensor, "read");
  const raw = tensor.rawData;
  const typed = tensor[layout.field];
  if (raw.length > 0 || typed.length === 0) {
    const need = Math.ceil((count * dataTypeBits(tensor.dataType)) / 8);
    if (raw.length !== need) {
      throw new RangeError(
        `Cannot read tensor '${name}': raw_data has ${raw.length} bytes, dims ${
          formatDims(tensor.dims)
        } need ${need}`,
      );
    }
    if (layout.perByte !== undefined) return unpackBits(layout, raw, count);
    return viewOrCopy(raw, layout.array, count * layout.items, options.copy ?? false);
  }
  const need = layout.perByte === undefined
    ? count * layout.items
    : Math.ceil(count / layout.perByte);
  if (typed.length !== need) {
    throw new RangeError(
      `Cannot read tensor '${name}': ${FIELD_NAMES[layout.field]} has ${typed.length} values, ` +
        `dims ${formatDims(tensor.dims)} need ${need}`,
    );
  }
  if (layout.perByte !== undefined) {
    return unpackBits(layout, new Uint8Array(tensor.int32Data), count);
  }
  switch (layout.field) {
    case "int64Data":
      return BigInt64Array.from(tensor.int64Data);
    case "uint64Data":
      return layout.array === Uint32Array
        ? Uint32Array.from(tensor.uint64Data, Number)
        : BigUint64Array.from(tensor.uint64Data);
    default:
      // Float32Array/Float64Array/Int*Array/Uint*Array constructors convert number[] natively
      // (int32_data values wrap to the element width, as ONNX's readers do).
      return new (layout.array as Float64ArrayConstructor)(tensor[layout.field]);
  }
}

/** Options for {@linkcode setTensorData}. */
export interface SetTensorDataOptions {
  /**
   * Copy the data into a fresh `raw_data`. By default `raw_data` becomes a view over `data`'s
   * bytes (no copy) where the type allows it, so `data` must not be modified afterwards.
   */
  readonly copy?: boolean;
}

/**
 * Replaces a tensor's data: writes little-endian `raw_data` (or `string_data` for STRING),
 * clears the typed fields and any external-data entries. `tensor.dataType` and `tensor.dims` must
 * be set first; `data` is what {@linkcode tensorData} returns for that type (unpacked values for
 * the 4- and 2-bit types, which are packed here; interleaved re, im for complex types).
 *
 * @param tensor The tensor to change.
 * @param data The elements.
 * @param options `copy`.
 * @throws {TypeError} When `data` is not the array type the data type needs.
 * @throws {RangeError} When the number of elements does not match the dims, or a 4/2-bit value is
 *   out of range.
 * @example
 * ```ts
 * import { makeTensor, setTensorData } from "@modelpress/onnx";
 * const w = makeTensor("w", new Float32Array(4));
 * setTensorData(w, new Float32Array([1, 2, 3, 4]));
 * ```
 */
export function setTensorData(
  tensor: TensorProto,
  data: TensorValues,
  options: SetTensorDataOptions = {},
): void {
  const name = tensor.name;
  const count = elementCount(tensor);
  let raw: Uint8Array;
  let stringData: Uint8Array[] = [];
  if (tensor.dataType === T.STRING) {
    if (!Array.isArray(data)) {
      throw new TypeError(
        `Cannot set data of tensor '${name}': STRING needs string[] or Uint8Array[], not ${
          arrayName(data)
        }`,
      );
    }
    checkCount(tensor, data.length, count);
    stringData = (data as readonly (string | Uint8Array)[]).map((s) =>
      typeof s === "string" ? ENCODER.encode(s) : options.copy ? s.slice() : s
    );
    raw = new Uint8Array(0);
  } else {
    const layout = layoutOf(tensor, "set data of");
    const accepted = layout.perByte === undefined ? [layout.array] : [Int8Array, Uint8Array];
    if (Array.isArray(data) || !accepted.some((ctor) => data instanceof ctor)) {
      throw new TypeError(
        `Cannot set data of tensor '${name}': ${dataTypeName(tensor.dataType)} needs ${
          accepted.map((c) => c.name).join(" or ")
        }, not ${arrayName(data)}`,
      );
    }
    const array = data as TensorArray;
    if (array.length % layout.items !== 0) {
      throw new RangeError(
        `Cannot set data of tensor '${name}': ${dataTypeName(tensor.dataType)} needs an even ` +
          `number of values (re, im pairs), got ${array.length}`,
      );
    }
    checkCount(tensor, array.length / layout.items, count);
    if (layout.perByte === 2) raw = pack4Bit(array as Int8Array | Uint8Array);
    else if (layout.perByte === 4) raw = pack2Bit(array as Int8Array | Uint8Array);
    else {
      raw = new Uint8Array(array.buffer, array.byteOffset, array.byteLength);
      if (options.copy) raw = raw.slice();
    }
  }
  tensor.rawData = raw;
  tensor.stringData = stringData;
  tensor.floatData = [];
  tensor.int32Data = [];
  tensor.int64Data = [];
  tensor.uint64Data = [];
  tensor.doubleData = [];
  tensor.externalData = [];
  clearField(tensor, TensorProtoSchema.field.dataLocation);
}

/**
 * Makes a copy of a tensor's metadata (name, type, dims, doc string, metadata) with the given
 * data; the original is not changed.
 *
 * @param tensor The tensor to copy the metadata from.
 * @param data The new elements, as for {@linkcode setTensorData}.
 * @param options `copy`.
 * @returns A new tensor.
 * @example
 * ```ts
 * import { makeTensor, withTensorData } from "@modelpress/onnx";
 * const w = makeTensor("w", new Float32Array([1, 2]));
 * const doubled = withTensorData(w, new Float32Array([2, 4]));
 * ```
 */
export function withTensorData(
  tensor: TensorProto,
  data: TensorValues,
  options: SetTensorDataOptions = {},
): TensorProto {
  const copy = create(TensorProtoSchema, {
    name: tensor.name,
    dataType: tensor.dataType,
    dims: tensor.dims.slice(),
    metadataProps: tensor.metadataProps.slice(),
  });
  if (tensor.docString !== "") copy.docString = tensor.docString;
  if (tensor.segment !== undefined) copy.segment = tensor.segment;
  setTensorData(copy, data, options);
  return copy;
}

function checkCount(tensor: TensorProto, given: number, count: number): void {
  if (given !== count) {
    throw new RangeError(
      `Cannot set data of tensor '${tensor.name}': ${given} values given, dims ${
        formatDims(tensor.dims)
      } need ${count}`,
    );
  }
}

function layoutOf(tensor: TensorProto, verb: string): Layout {
  const layout = LAYOUTS.get(tensor.dataType);
  if (layout === undefined) {
    throw new TypeError(
      `Cannot ${verb} tensor '${tensor.name}': data type ${
        dataTypeName(tensor.dataType)
      } is not supported`,
    );
  }
  return layout;
}

function unpackBits(layout: Layout, packed: Uint8Array, count: number): Int8Array | Uint8Array {
  if (layout.perByte === 2) {
    return layout.signed ? unpackInt4(packed, count) : unpackUint4(packed, count);
  }
  return layout.signed ? unpackInt2(packed, count) : unpackUint2(packed, count);
}

function viewOrCopy(
  raw: Uint8Array,
  array: ArrayConstructor,
  length: number,
  copy: boolean,
): TensorArray {
  const ctor = array as Uint8ArrayConstructor;
  if (!copy && raw.byteOffset % array.BYTES_PER_ELEMENT === 0) {
    return new ctor(raw.buffer, raw.byteOffset, length);
  }
  const out = new ctor(length);
  new Uint8Array(out.buffer).set(raw);
  return out;
}

function arrayName(data: unknown): string {
  if (Array.isArray(data)) return "an array";
  return (data as object)?.constructor?.name ?? typeof data;
}

function formatDims(dims: readonly (number | bigint)[]): string {
  return `[${dims.join(", ")}]`;
}
