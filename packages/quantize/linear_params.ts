/**
 * Scales and zero points of linear (affine) quantization onto a {@linkcode QuantGrid}.
 * @module
 */
import { type AffineParams, roundHalfEven } from "@modelpress/kernels";
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
  if (min.length !== max.length) {
    throw new RangeError(
      `Cannot compute quantization parameters: ${min.length} minima but ${max.length} maxima`,
    );
  }
  const scale = new Float32Array(min.length);
  const zeroPoint = new Int32Array(min.length);
  const half = 2 ** (grid.bits - 1);
  const steps = grid.qmax - grid.qmin;
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
      const s = Math.fround(Math.max(-lo, hi) / (half - 1));
      scale[j] = s > 0 ? s : 1;
      zeroPoint[j] = grid.signed ? 0 : half;
      continue;
    }
    const s = Math.fround((hi - lo) / steps);
    if (!(s > 0)) {
      scale[j] = 1;
      zeroPoint[j] = grid.signed ? 0 : grid.qmin;
      continue;
    }
    scale[j] = s;
    const z = roundHalfEven(grid.qmin - lo / s);
    zeroPoint[j] = Math.min(grid.qmax, Math.max(grid.qmin, z));
  }
  return { scale, zeroPoint };
}
