/**
 * The reference affine quantizer and dequantizer (ONNX QuantizeLinear / DequantizeLinear).
 * @module
 */
import {
  pack2Bit,
  pack4Bit,
  unpackInt2,
  unpackInt4,
  unpackUint2,
  unpackUint4,
} from "@modelpress/onnx";
import type { OutOptions, QuantizedArray, QuantizeOptions, QuantType } from "../kernels.ts";
import { checkOut, elementStorage } from "../_alloc.ts";
import { quantRange } from "../quant_range.ts";
import { type AxisView, axisView, checkShape, paramRow, subject } from "../_shape.ts";

/**
 * Rounds to the nearest integer, ties to even (as `nearbyint`, WebAssembly `f32.nearest` and
 * ONNX QuantizeLinear). NaN and ±Infinity come back unchanged.
 *
 * @param v The value.
 * @returns The nearest integer.
 * @example
 * ```ts
 * import { roundHalfEven } from "@modelpress/kernels";
 * [0.5, 1.5, 2.5, -0.5, -1.5].map(roundHalfEven); // [0, 2, 2, -0, -2]
 * ```
 */
export function roundHalfEven(v: number): number {
  const r = Math.round(v);
  // Math.round rounds halves up; an odd result from a half is one too far.
  return r - v === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

/** Checked, resolved affine parameters of one call. Imported by the backends of this package. */
export interface ResolvedQuantize {
  readonly view: AxisView;
  readonly min: number;
  readonly max: number;
  readonly bits: number;
  readonly scale: Float32Array;
  readonly zeroPoint: Int32Array;
}

/**
 * Checks quantize options against a length and fills in defaults.
 *
 * @param length Element count.
 * @param options The options.
 * @param settings The verb for error messages (default "quantize").
 * @returns The view, range and parameters.
 * @throws {RangeError} When the shape, scale or zero point does not fit.
 * @example
 * ```ts
 * import { resolveQuantize } from "./quantize.ts";
 * resolveQuantize(4, { type: "int8", scale: new Float32Array([1]) }).view.outputs; // 1
 * ```
 */
export function resolveQuantize(
  length: number,
  options: QuantizeOptions,
  settings: { readonly verb?: string } = {},
): ResolvedQuantize {
  const verb = settings.verb ?? "quantize";
  const what = subject(verb, options.name);
  const range = quantRange(options.type);
  const view = axisView(length, { ...options, verb });
  const { scale } = options;
  if (scale.length !== view.outputs) {
    throw new RangeError(`${what}: scale has ${scale.length} values, expected ${view.outputs}`);
  }
  for (let j = 0; j < scale.length; j++) {
    const s = scale[j]!;
    if (!(s > 0 && s < Infinity)) {
      throw new RangeError(`${what}: scale ${j} is ${s}, not positive and finite`);
    }
  }
  const zeroPoint = options.zeroPoint ?? new Int32Array(scale.length);
  if (zeroPoint.length !== scale.length) {
    throw new RangeError(
      `${what}: zeroPoint has ${zeroPoint.length} values, expected ${scale.length}`,
    );
  }
  for (let j = 0; j < zeroPoint.length; j++) {
    const z = zeroPoint[j]!;
    if (z < range.min || z > range.max) {
      throw new RangeError(`${what}: zeroPoint ${j} is ${z}, outside ${options.type}`);
    }
  }
  return { view, min: range.min, max: range.max, bits: range.bits, scale, zeroPoint };
}

/** The affine parameters of one value (see {@linkcode quantizeValue}). */
export interface AffineValueParams {
  /** The scale (float32). */
  scale: number;
  /** The zero point. */
  zeroPoint: number;
  /** Smallest code. */
  min: number;
  /** Largest code. */
  max: number;
}

/**
 * Quantizes one value: `clamp(roundHalfEven(fround(x / scale)) + zeroPoint)`, NaN to the zero
 * point.
 *
 * @param x The value.
 * @param params Scale, zero point and code range.
 * @returns The code.
 * @example
 * ```ts
 * import { quantizeValue } from "@modelpress/kernels";
 * quantizeValue(2.5, { scale: 1, zeroPoint: 0, min: -128, max: 127 }); // 2
 * ```
 */
export function quantizeValue(x: number, params: Readonly<AffineValueParams>): number {
  const { scale, zeroPoint, min, max } = params;
  const q = roundHalfEven(Math.fround(x / scale)) + zeroPoint;
  if (q !== q) return zeroPoint;
  return q < min ? min : q > max ? max : q;
}

function storage(
  type: QuantType,
  length: number,
): Int8Array | Uint8Array | Int16Array | Uint16Array {
  switch (type) {
    case "int8":
    case "int4":
    case "int2":
      return new Int8Array(length);
    case "uint8":
    case "uint4":
    case "uint2":
      return new Uint8Array(length);
    case "int16":
      return new Int16Array(length);
    case "uint16":
      return new Uint16Array(length);
  }
}

/**
 * Reference affine quantization; see `Kernels.quantize`.
 *
 * @param x The tensor.
 * @param options Type, scale, zero point and layout; optionally `out`, the array to fill.
 * @returns The codes, packed for 4 and 2 bits.
 * @example
 * ```ts
 * import { quantizeJs } from "@modelpress/kernels";
 * quantizeJs(new Float32Array([0.5, 1.5]), { type: "int8", scale: new Float32Array([1]) });
 * // Int8Array [0, 2]
 * ```
 */
export function quantizeJs(
  x: Float32Array,
  options: QuantizeOptions & OutOptions<QuantizedArray>,
): QuantizedArray {
  const p = resolveQuantize(x.length, options);
  const { view, scale, zeroPoint, min, max } = p;
  checkQuantizeOut(x, options);
  const packed = p.bits < 8;
  const out = packed || options.out === undefined ? storage(options.type, x.length) : options.out;
  // One parameter object, refilled per element, keeps the loop free of allocation.
  const value: AffineValueParams = { scale: 1, zeroPoint: 0, min, max };
  let e = 0;
  for (let o = 0; o < view.outer; o++) {
    for (let c = 0; c < view.channels; c++) {
      const row = paramRow(view, { o, c });
      for (let i = 0; i < view.inner; i++, e++) {
        const j = row + i * view.innerStride;
        value.scale = scale[j]!;
        value.zeroPoint = zeroPoint[j]!;
        out[e] = quantizeValue(x[e]!, value);
      }
    }
  }
  if (!packed) return out;
  const bytes = p.bits === 4 ? pack4Bit(out) : pack2Bit(out);
  if (options.out === undefined) return bytes;
  options.out.set(bytes);
  return options.out;
}

/**
 * Checks the `out` of a quantize call, if any, against the input and the result's storage.
 *
 * @param x The input.
 * @param options The options.
 * @throws {TypeError} When `out` is of another class than the result.
 * @throws {RangeError} When its length differs or it overlaps `x`.
 * @example
 * ```ts
 * import { checkQuantizeOut } from "./quantize.ts";
 * const x = new Float32Array(3);
 * checkQuantizeOut(x, { type: "int4", scale: new Float32Array([1]), out: new Uint8Array(2) });
 * ```
 */
export function checkQuantizeOut(
  x: Float32Array,
  options: QuantizeOptions & OutOptions<QuantizedArray>,
): void {
  if (options.out === undefined) return;
  const what = subject("quantize", options.name);
  checkOut(options.out, elementStorage(options.type, x.length, "quantize"), { input: x, what });
}

/**
 * Checks the `out` of a dequantize call, if any: a Float32Array of `count` values that does not
 * overlap the codes.
 *
 * @param q The codes.
 * @param count The number of values.
 * @param options The options.
 * @throws {TypeError} When `out` is not a Float32Array.
 * @throws {RangeError} When its length differs or it overlaps `q`.
 * @example
 * ```ts
 * import { checkDequantizeOut } from "./quantize.ts";
 * checkDequantizeOut(new Int8Array(2), 2, {
 *   type: "int8",
 *   scale: new Float32Array([1]),
 *   out: new Float32Array(2),
 * });
 * ```
 */
export function checkDequantizeOut(
  q: QuantizedArray,
  count: number,
  options: QuantizeOptions & OutOptions<Float32Array>,
): void {
  if (options.out === undefined) return;
  const what = subject("dequantize", options.name);
  checkOut(options.out, { Class: Float32Array, length: count }, { input: q, what });
}

/**
 * Unpacks codes to one element per value (4 and 2 bits), or returns them as they are.
 *
 * @param q The codes.
 * @param options Type and shape (needed for packed types).
 * @returns One code per element.
 * @example
 * ```ts
 * import { unpackCodes } from "./quantize.ts";
 * unpackCodes(new Uint8Array([0xf1]), { type: "int4", scale: new Float32Array([1]), shape: [2] });
 * // Int8Array [1, -1]
 * ```
 */
export function unpackCodes(q: QuantizedArray, options: QuantizeOptions): QuantizedArray {
  const range = quantRange(options.type);
  if (range.bits >= 8) {
    const ok = options.type === "int8"
      ? q instanceof Int8Array
      : options.type === "uint8"
      ? q instanceof Uint8Array
      : options.type === "int16"
      ? q instanceof Int16Array
      : q instanceof Uint16Array;
    if (!ok) {
      throw new TypeError(
        `${
          subject("dequantize", options.name)
        }: ${q.constructor.name} does not hold ${options.type}`,
      );
    }
    return q;
  }
  const what = subject("dequantize", options.name);
  if (options.shape === undefined) throw new RangeError(`${what}: packed types need a shape`);
  let count = 1;
  for (const d of options.shape) count *= d;
  const perByte = 8 / range.bits;
  if (!(q instanceof Uint8Array) || q.length !== Math.ceil(count / perByte)) {
    throw new RangeError(
      `${what}: ${count} ${options.type} values need ${Math.ceil(count / perByte)} packed bytes`,
    );
  }
  switch (options.type) {
    case "int4":
      return unpackInt4(q, count);
    case "uint4":
      return unpackUint4(q, count);
    case "int2":
      return unpackInt2(q, count);
    default:
      return unpackUint2(q, count);
  }
}

/**
 * Reference affine dequantization; see `Kernels.dequantize`.
 *
 * @param q The codes (packed for 4 and 2 bits).
 * @param options Type, scale, zero point and layout; optionally `out`, the array to fill.
 * @returns `fround((q - zeroPoint) * scale)` per element.
 * @example
 * ```ts
 * import { dequantizeJs } from "@modelpress/kernels";
 * dequantizeJs(new Int8Array([0, 2]), { type: "int8", scale: new Float32Array([0.5]) }); // [0, 1]
 * ```
 */
export function dequantizeJs(
  q: QuantizedArray,
  options: QuantizeOptions & OutOptions<Float32Array>,
): Float32Array {
  const codes = unpackCodes(q, options);
  checkShape(codes.length, { shape: options.shape, what: subject("dequantize", options.name) });
  const { view, scale, zeroPoint } = resolveQuantize(codes.length, options, { verb: "dequantize" });
  checkDequantizeOut(q, codes.length, options);
  const out = options.out ?? new Float32Array(codes.length);
  let e = 0;
  for (let o = 0; o < view.outer; o++) {
    for (let c = 0; c < view.channels; c++) {
      const row = paramRow(view, { o, c });
      for (let i = 0; i < view.inner; i++, e++) {
        const j = row + i * view.innerStride;
        out[e] = (codes[e]! - zeroPoint[j]!) * scale[j]!;
      }
    }
  }
  return out;
}
