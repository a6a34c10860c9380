/**
 * Facts about ONNX tensor element types: names and bit widths.
 * @module
 */
import { TensorProto_DataType } from "./_gen/onnx_pb.ts";

const T = TensorProto_DataType;

const BITS: ReadonlyMap<number, number> = new Map([
  [T.FLOAT, 32],
  [T.UINT8, 8],
  [T.INT8, 8],
  [T.UINT16, 16],
  [T.INT16, 16],
  [T.INT32, 32],
  [T.INT64, 64],
  [T.BOOL, 8],
  [T.FLOAT16, 16],
  [T.DOUBLE, 64],
  [T.UINT32, 32],
  [T.UINT64, 64],
  [T.COMPLEX64, 64],
  [T.COMPLEX128, 128],
  [T.BFLOAT16, 16],
  [T.FLOAT8E4M3FN, 8],
  [T.FLOAT8E4M3FNUZ, 8],
  [T.FLOAT8E5M2, 8],
  [T.FLOAT8E5M2FNUZ, 8],
  [T.UINT4, 4],
  [T.INT4, 4],
  [T.FLOAT4E2M1, 4],
  [T.FLOAT8E8M0, 8],
  [T.UINT2, 2],
  [T.INT2, 2],
]);

/**
 * The name of an element type as onnx.proto spells it ("FLOAT", "INT4", ...), or "UNKNOWN(n)"
 * for a number this version does not know.
 *
 * @param dataType A `TensorProto_DataType` value.
 * @returns The name.
 * @example
 * ```ts
 * import { dataTypeName, TensorProto_DataType } from "@modelpress/onnx";
 * dataTypeName(TensorProto_DataType.BFLOAT16); // "BFLOAT16"
 * ```
 */
export function dataTypeName(dataType: number): string {
  const name = T[dataType as TensorProto_DataType] as string | undefined;
  return name ?? `UNKNOWN(${dataType})`;
}

/**
 * The number of bits one element occupies in `raw_data`: 2 for INT2/UINT2, 4 for INT4/UINT4/
 * FLOAT4E2M1, 64 for COMPLEX64 (two floats), and so on.
 *
 * @param dataType A `TensorProto_DataType` value.
 * @returns Bits per element.
 * @throws {RangeError} For STRING (no fixed size), UNDEFINED and unknown types.
 * @example
 * ```ts
 * import { dataTypeBits, TensorProto_DataType } from "@modelpress/onnx";
 * dataTypeBits(TensorProto_DataType.INT4); // 4
 * ```
 */
export function dataTypeBits(dataType: number): number {
  const bits = BITS.get(dataType);
  if (bits === undefined) {
    throw new RangeError(
      `Cannot size data type ${dataTypeName(dataType)}: it has no fixed element size`,
    );
  }
  return bits;
}

/**
 * Whether the element type has a fixed size (every type but STRING, UNDEFINED and unknown ones).
 *
 * @param dataType A `TensorProto_DataType` value.
 * @returns True when {@linkcode dataTypeBits} would return a size.
 * @example
 * ```ts
 * import { isFixedSizeDataType, TensorProto_DataType } from "@modelpress/onnx";
 * isFixedSizeDataType(TensorProto_DataType.STRING); // false
 * ```
 */
export function isFixedSizeDataType(dataType: number): boolean {
  return BITS.has(dataType);
}
