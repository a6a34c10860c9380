/**
 * Scales and zero points from observed ranges (symmetric or asymmetric affine quantization).
 * @module
 */
import type { QuantType } from "./kernels.ts";
import { type QuantRange, quantRange } from "./quant_range.ts";
import { roundHalfEven } from "./js/quantize.ts";

/** Options of {@linkcode affineParams}. */
export interface AffineParamsOptions {
  /** The integer type. */
  readonly type: QuantType;
  /**
   * The codes, when narrower than the type's whole range (3-bit codes in an int8 container,
   * say): `2^bits - 1` steps from `min` to `max`. Default: the type's range.
   */
  readonly codes?: QuantRange;
  /**
   * Symmetric: zero point 0 (signed) or the middle code (unsigned: 2^(bits-1)), and
   * `scale = absmax / (2^(bits-1) - 1)` so that ±absmax are codes. Default: asymmetric.
   */
  readonly symmetric?: boolean;
}

/** Scales and zero points, one per range. */
export interface AffineParams {
  /** Positive, finite scales. */
  readonly scale: Float32Array;
  /** Zero points in the type's range. */
  readonly zeroPoint: Int32Array;
}

/**
 * Computes affine quantization parameters from ranges. Asymmetric: the range is first widened to
 * include 0 (so that 0 is exactly representable), then [lo, hi] maps onto the type's
 * `2^bits - 1` steps: `scale = fround((hi - lo) / (qmax - qmin))`,
 * `zeroPoint = clamp(roundHalfEven(qmin - lo / scale))`. A zero range (all values 0) gets
 * scale 1 so that quantizing never divides by zero.
 *
 * @param min Smallest value per range (e.g. from `reduce("min", ...)`).
 * @param max Largest value per range, same length.
 * @param options Type and symmetry.
 * @returns One scale and zero point per range.
 * @throws {RangeError} When a bound is NaN or infinite, or the lengths differ.
 * @example
 * ```ts
 * import { affineParams } from "@modelpress/kernels";
 * affineParams(new Float32Array([-1]), new Float32Array([3]), { type: "uint8" });
 * // { scale: [0.01568627...], zeroPoint: [64] }
 * ```
 */
export function affineParams(
  min: Float32Array,
  max: Float32Array,
  options: AffineParamsOptions,
): AffineParams {
  const range = options.codes ?? quantRange(options.type);
  if (min.length !== max.length) {
    throw new RangeError(
      `Cannot compute quantization parameters: ${min.length} minima but ${max.length} maxima`,
    );
  }
  const scale = new Float32Array(min.length);
  const zeroPoint = new Int32Array(min.length);
  const half = 2 ** (range.bits - 1);
  for (let j = 0; j < min.length; j++) {
    const a = min[j]!;
    const b = max[j]!;
    if (!Number.isFinite(a) || !Number.isFinite(b)) {
      throw new RangeError(
        `Cannot compute quantization parameters: range ${j} [${a}, ${b}] is not finite`,
      );
    }
    const lo = Math.min(a, 0);
    const hi = Math.max(b, 0);
    if (options.symmetric === true) {
      const absmax = Math.max(-lo, hi);
      const s = Math.fround(absmax / (half - 1));
      scale[j] = s > 0 ? s : 1;
      zeroPoint[j] = range.signed ? 0 : half;
      continue;
    }
    const s = Math.fround((hi - lo) / (range.max - range.min));
    if (!(s > 0)) {
      scale[j] = 1;
      zeroPoint[j] = range.signed ? 0 : range.min;
      continue;
    }
    scale[j] = s;
    const z = roundHalfEven(range.min - lo / s);
    zeroPoint[j] = Math.min(range.max, Math.max(range.min, z));
  }
  return { scale, zeroPoint };
}
