/**
 * The reference power-of-two quantizer.
 * @module
 */
import type { Log2Options } from "../kernels.ts";

const F32 = new Float32Array(1);
const U32 = new Uint32Array(F32.buffer);

/**
 * Checks power-of-two options and returns the smallest exponent and largest code.
 *
 * @param options Bits and largest exponent.
 * @returns `eMin` and `maxCode`.
 * @throws {RangeError} When bits is outside 2..8 or maxExponent is not an integer.
 * @example
 * ```ts
 * import { log2Params } from "./log2_quantize.ts";
 * log2Params({ bits: 4, maxExponent: 0 }); // { eMin: -6, maxCode: 7 }
 * ```
 */
export function log2Params(options: Log2Options): { eMin: number; maxCode: number } {
  const { bits, maxExponent } = options;
  if (!Number.isInteger(bits) || bits < 2 || bits > 8) {
    throw new RangeError(`Cannot log2-quantize tensor: bits ${bits} is not in 2..8`);
  }
  if (!Number.isInteger(maxExponent) || Math.abs(maxExponent) > 1000) {
    throw new RangeError(
      `Cannot log2-quantize tensor: maxExponent ${maxExponent} is not an integer`,
    );
  }
  const maxCode = 2 ** (bits - 1) - 1;
  return { eMin: maxExponent - maxCode + 1, maxCode };
}

/**
 * The exponent of the power of two nearest to a positive finite float32 (ties up), from its bits.
 *
 * @param bits The float32 bits of |x|, 1..0x7f7fffff.
 * @returns e such that 2^e is nearest.
 * @example
 * ```ts
 * import { nearestExponent } from "./log2_quantize.ts";
 * nearestExponent(0x3fc00000); // 1 (1.5 rounds up to 2)
 * ```
 */
export function nearestExponent(bits: number): number {
  const field = bits >>> 23;
  if (field === 0) {
    // Subnormal: m * 2^-149 with the leading bit of m at position p.
    const p = 31 - Math.clz32(bits);
    const up = p > 0 && ((bits >>> (p - 1)) & 1) === 1 ? 1 : 0;
    return p - 149 + up;
  }
  return field - 127 + ((bits & 0x400000) !== 0 ? 1 : 0);
}

/**
 * Reference power-of-two quantization; see `Kernels.log2Quantize`.
 *
 * @param x The values.
 * @param options Bits and largest exponent.
 * @returns One code per value.
 * @example
 * ```ts
 * import { log2QuantizeJs } from "@modelpress/kernels";
 * log2QuantizeJs(new Float32Array([1, -0.25]), { bits: 4, maxExponent: 0 }); // [7, -5]
 * ```
 */
export function log2QuantizeJs(x: Float32Array, options: Log2Options): Int8Array {
  const { eMin, maxCode } = log2Params(options);
  const out = new Int8Array(x.length);
  const zeroBelow = log2ZeroBelow(eMin);
  for (let e = 0; e < x.length; e++) {
    F32[0] = x[e]!;
    const u = U32[0]!;
    const mag = u & 0x7fffffff;
    if (mag < zeroBelow || mag > 0x7f800000) continue;
    const exp = mag === 0x7f800000 ? Infinity : nearestExponent(mag);
    const code = Math.min(maxCode, Math.max(1, exp - eMin + 1));
    out[e] = u >>> 31 === 1 ? -code : code;
  }
  return out;
}

/**
 * The smallest magnitude bits that get a nonzero code: those of 2^(eMin - 1), half the smallest
 * power of two (nearer to it than to zero from there on; the half itself rounds up), at least 1.
 *
 * @param eMin The smallest exponent.
 * @returns Float32 bits.
 * @example
 * ```ts
 * import { log2ZeroBelow } from "./log2_quantize.ts";
 * log2ZeroBelow(1); // 0x3f800000 (the bits of 1)
 * ```
 */
export function log2ZeroBelow(eMin: number): number {
  F32[0] = 2 ** (eMin - 1);
  return Math.max(1, U32[0]!);
}

/**
 * Reference power-of-two decoding; see `Kernels.log2Dequantize`.
 *
 * @param codes The codes.
 * @param options Bits and largest exponent.
 * @returns The values.
 * @example
 * ```ts
 * import { log2DequantizeJs } from "@modelpress/kernels";
 * log2DequantizeJs(new Int8Array([7, -5, 0]), { bits: 4, maxExponent: 0 }); // [1, -0.25, 0]
 * ```
 */
export function log2DequantizeJs(codes: Int8Array, options: Log2Options): Float32Array {
  const { eMin, maxCode } = log2Params(options);
  const out = new Float32Array(codes.length);
  for (let e = 0; e < codes.length; e++) {
    const c = codes[e]!;
    if (c === 0) continue;
    const a = Math.abs(c);
    if (a > maxCode) {
      throw new RangeError(`Cannot log2-dequantize tensor: code ${c} at ${e} exceeds ${maxCode}`);
    }
    const v = 2 ** (a - 1 + eMin);
    out[e] = c < 0 ? -v : v;
  }
  return out;
}
