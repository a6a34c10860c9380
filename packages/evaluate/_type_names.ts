/**
 * Lower-case element type names as onnxruntime-web and NumPy spell them (`float32`, `int64`,
 * `bool`), for reports.
 * @module
 */
import { dataTypeName, TensorProto_DataType } from "@modelpress/onnx";

const NAMES: ReadonlyMap<number, string> = new Map([
  [TensorProto_DataType.FLOAT, "float32"],
  [TensorProto_DataType.DOUBLE, "float64"],
  [TensorProto_DataType.FLOAT16, "float16"],
  [TensorProto_DataType.UNDEFINED, "unknown"],
]);

/**
 * The report name of an ONNX element type.
 *
 * @param dataType A `TensorProto_DataType` value.
 * @returns `float32`, `float64`, `float16`, `unknown`, else ONNX's name in lower case.
 */
export function elementTypeName(dataType: number): string {
  return NAMES.get(dataType) ?? dataTypeName(dataType).toLowerCase();
}
