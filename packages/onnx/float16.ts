/**
 * Conversions between 32-bit floats and the bit patterns of IEEE half precision (FLOAT16) and
 * bfloat16 (BFLOAT16), rounding to nearest, ties to even. NaN stays NaN, ±Infinity stays
 * ±Infinity, subnormals are exact; values too large for the target become ±Infinity.
 * @module
 */
import { float16ToFloat32Portable, float32ToFloat16Portable } from "./_float16_portable.ts";

interface Float16ArrayLike extends ArrayLike<number> {
  readonly buffer: ArrayBufferLike;
  readonly byteOffset: number;
}
type Float16ArrayConstructorLike = {
  new (values: ArrayLike<number>): Float16ArrayLike;
  new (buffer: ArrayBufferLike, byteOffset: number, length: number): Float16ArrayLike;
};

const NATIVE_FLOAT16 = (globalThis as { Float16Array?: Float16ArrayConstructorLike }).Float16Array;

/**
 * Converts numbers to IEEE 754 half-precision bit patterns (round to nearest even).
 *
 * @param values The values.
 * @returns One 16-bit pattern per value, ready for a FLOAT16 tensor.
 * @example
 * ```ts
 * import { float32ToFloat16 } from "@modelpress/onnx";
 * float32ToFloat16(new Float32Array([1, -2, 65520])); // Uint16Array [0x3c00, 0xc000, 0x7c00]
 * ```
 */
export function float32ToFloat16(values: ArrayLike<number>): Uint16Array {
  if (NATIVE_FLOAT16 !== undefined) {
    const half = new NATIVE_FLOAT16(values);
    return new Uint16Array(half.buffer, half.byteOffset, half.length);
  }
  return float32ToFloat16Portable(values);
}

/**
 * Converts IEEE 754 half-precision bit patterns to 32-bit floats (exact).
 *
 * @param bits One 16-bit pattern per value, as in a FLOAT16 tensor.
 * @returns The values.
 * @example
 * ```ts
 * import { float16ToFloat32 } from "@modelpress/onnx";
 * float16ToFloat32(new Uint16Array([0x3c00, 0x0001])); // Float32Array [1, 5.960464477539063e-8]
 * ```
 */
export function float16ToFloat32(bits: Uint16Array): Float32Array {
  if (NATIVE_FLOAT16 !== undefined) {
    return new Float32Array(new NATIVE_FLOAT16(bits.buffer, bits.byteOffset, bits.length));
  }
  return float16ToFloat32Portable(bits);
}

/**
 * Converts numbers to bfloat16 bit patterns (the upper half of a float32, round to nearest even).
 *
 * @param values The values.
 * @returns One 16-bit pattern per value, ready for a BFLOAT16 tensor.
 * @example
 * ```ts
 * import { float32ToBfloat16 } from "@modelpress/onnx";
 * float32ToBfloat16(new Float32Array([1, 3.14159])); // Uint16Array [0x3f80, 0x4049]
 * ```
 */
export function float32ToBfloat16(values: ArrayLike<number>): Uint16Array {
  const f32 = values instanceof Float32Array ? values : Float32Array.from(values);
  const u32 = new Uint32Array(f32.buffer, f32.byteOffset, f32.length);
  const out = new Uint16Array(u32.length);
  for (let i = 0; i < u32.length; i++) {
    const u = u32[i]!;
    // NaN: keep the sign and the top of the payload, set the quiet bit so it stays NaN.
    out[i] = (u & 0x7fffffff) > 0x7f800000
      ? (u >>> 16) | 0x40
      : (u + 0x7fff + ((u >>> 16) & 1)) >>> 16;
  }
  return out;
}

/**
 * Converts bfloat16 bit patterns to 32-bit floats (exact).
 *
 * @param bits One 16-bit pattern per value, as in a BFLOAT16 tensor.
 * @returns The values.
 * @example
 * ```ts
 * import { bfloat16ToFloat32 } from "@modelpress/onnx";
 * bfloat16ToFloat32(new Uint16Array([0x3f80])); // Float32Array [1]
 * ```
 */
export function bfloat16ToFloat32(bits: Uint16Array): Float32Array {
  const out = new Float32Array(bits.length);
  const u32 = new Uint32Array(out.buffer);
  for (let i = 0; i < bits.length; i++) u32[i] = bits[i]! << 16;
  return out;
}
