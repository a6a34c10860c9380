/**
 * Writing quantized weights into graphs: integer initializers, scales, zero points, and the
 * nodes that use them. Imported only from this folder.
 * @module
 */
import {
  attrInt,
  float32ToFloat16,
  makeNode,
  makeTensor,
  type NodeProto,
  TensorProto_DataType,
  type UniqueNames,
} from "@modelpress/onnx";
import type { QuantizedTensor } from "./quantize_tensor.ts";
import type { QuantGrid } from "./quant_grid.ts";
import type { Scope } from "./_scopes.ts";

const T = TensorProto_DataType;

/** The ONNX element type that stores a grid's codes at an opset, and its name for reports. */
export function storageType(grid: QuantGrid, opset: number): { type: number; name: string } {
  if (grid.bits === 16) {
    return grid.signed ? { type: T.INT16, name: "int16" } : { type: T.UINT16, name: "uint16" };
  }
  // INT4/UINT4 exist from opset 21; before, 4-bit codes sit in 8-bit containers, as do 2, 3,
  // 5, 6 and 7 bits at any opset (ONNX has no such types for DequantizeLinear there).
  if (grid.bits === 4 && opset >= 21) {
    return grid.signed ? { type: T.INT4, name: "int4" } : { type: T.UINT4, name: "uint4" };
  }
  return grid.signed ? { type: T.INT8, name: "int8" } : { type: T.UINT8, name: "uint8" };
}

/** Codes or zero points as the typed array that `makeTensor` takes for the storage type. */
function asStored(
  values: ArrayLike<number>,
  grid: QuantGrid,
): Int8Array | Uint8Array | Int16Array | Uint16Array {
  if (grid.bits === 16) return grid.signed ? Int16Array.from(values) : Uint16Array.from(values);
  return grid.signed ? Int8Array.from(values) : Uint8Array.from(values);
}

/** The names and tensors of a weight stored as integers. */
export interface StoredWeight {
  /** The integer initializer's name. */
  readonly codes: string;
  /** The scale initializer's name. */
  readonly scale: string;
  /** The zero-point initializer's name. */
  readonly zeroPoint: string;
  /** The stored element type's name. */
  readonly storedAs: string;
}

/**
 * Adds a quantized weight's codes, scale and zero point to a graph as initializers.
 *
 * @param scope The graph.
 * @param base The float weight's name, the base of the new names.
 * @param options The quantized tensor, its shape, the opset, the names, reshaping, and the
 *   scale's element type (FLOAT16 for an fp16 weight, so that DequantizeLinear yields fp16;
 *   opset 19 or later). Default FLOAT.
 * @returns The new names.
 */
export function addStoredWeight(
  scope: Scope,
  base: string,
  options: {
    q: QuantizedTensor;
    shape: readonly number[];
    opset: number;
    names: UniqueNames;
    scaleShape?: readonly number[];
    scalarZeroPoint?: boolean;
    scaleFactor?: number;
    scaleType?: number;
  },
): StoredWeight {
  const { q, names } = options;
  const stored = storageType(q.grid, options.opset);
  const codes = names.value(`${base}_quantized`);
  const scale = names.value(`${base}_scale`);
  const zeroPoint = names.value(`${base}_zero_point`);
  const factor = options.scaleFactor ?? 1;
  const scales = factor === 1 ? q.scale : q.scale.map((s) => Math.fround(s * factor));
  const zp = options.scalarZeroPoint ? q.zeroPoint.subarray(0, 1) : q.zeroPoint;
  const zpShape = options.scalarZeroPoint ? [] : options.scaleShape ?? q.paramShape;
  scope.index.graph.initializer.push(
    makeTensor(codes, asStored(q.codes, q.grid), { dims: options.shape, dataType: stored.type }),
    options.scaleType === T.FLOAT16
      ? makeTensor(scale, float32ToFloat16(scales), {
        dims: options.scaleShape ?? q.paramShape,
        dataType: T.FLOAT16,
      })
      : makeTensor(scale, scales, { dims: options.scaleShape ?? q.paramShape }),
    makeTensor(zeroPoint, asStored(zp, q.grid), { dims: zpShape, dataType: stored.type }),
  );
  return { codes, scale, zeroPoint, storedAs: stored.name };
}

/**
 * Makes the DequantizeLinear node of a stored weight (per tensor, per axis or blocked).
 *
 * @param stored The stored weight.
 * @param options Output name, node name, axis and block size.
 * @returns The node.
 */
export function dequantizeNode(
  stored: StoredWeight,
  options: {
    output: string;
    name: string;
    axis: number | undefined;
    blockSize: number | undefined;
  },
): NodeProto {
  const attributes: Record<string, ReturnType<typeof attrInt>> = {};
  if (options.axis !== undefined) attributes.axis = attrInt(options.axis);
  if (options.blockSize !== undefined) attributes.block_size = attrInt(options.blockSize);
  return makeNode("DequantizeLinear", {
    inputs: [stored.codes, stored.scale, stored.zeroPoint],
    outputs: [options.output],
    name: options.name,
    attributes,
  });
}
