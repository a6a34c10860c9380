/**
 * Scales and zero points of linear (affine) quantization onto a {@linkcode QuantGrid}.
 * @module
 */
import { type AffineParams, affineParams } from "@modelpress/kernels";
import type { QuantGrid } from "./quant_grid.ts";

/** Options of {@linkcode linearParams}. */
export interface LinearParamsOptions {
  /** The grid the codes live on. */
  readonly grid: QuantGrid;
  /**
   * Zero point 0 (signed) or `2^(b-1)` (unsigned), `scale = absmax / (2^(b-1) - 1)`, so that
   * ±absmax are codes. Default false (asymmetric).
   */
  readonly symmetric?: boolean;
}

/**
 * Computes affine parameters from ranges. Asymmetric: the range is widened to include 0 (so that
 * 0 is exactly a code), then `[lo, hi]` maps onto the grid's `2^b - 1` steps:
 * `scale = (hi - lo) / (2^b - 1)`, `zeroPoint = clamp(roundHalfEven(qmin - lo / scale))`.
 * A zero range gets scale 1.
 *
 * @param min Smallest value per range.
 * @param max Largest value per range, same length.
 * @param options Grid and symmetry.
 * @returns One scale and zero point per range.
 * @throws {RangeError} When a bound is not finite or the lengths differ.
 * @example
 * ```ts
 * import { linearParams, quantGrid } from "@modelpress/quantize";
 * linearParams(new Float32Array([0]), new Float32Array([15]), { grid: quantGrid(4, { signed: false }) });
 * // { scale: [1], zeroPoint: [0] }: 16 codes, 15 steps
 * ```
 */
export function linearParams(
  min: Float32Array,
  max: Float32Array,
  options: LinearParamsOptions,
): AffineParams {
  const { grid } = options;
  return affineParams(min, max, {
    type: grid.container,
    codes: { min: grid.qmin, max: grid.qmax, bits: grid.bits, signed: grid.signed },
    ...(options.symmetric === undefined ? {} : { symmetric: options.symmetric }),
  });
}
