/**
 * Percentiles from histograms (calibration ranges).
 * @module
 */
import type { HistogramOptions } from "./kernels.ts";

/** Options of {@linkcode percentileFromHistogram}. */
export interface PercentileOptions extends Omit<HistogramOptions, "bins"> {
  /** The percentile, 0..100. */
  readonly percentile: number;
}

/**
 * Estimates a percentile from a histogram over [min, max], interpolating linearly inside the bin
 * where the cumulative count reaches `percentile / 100` of the total. An empty histogram gives
 * `min`.
 *
 * @param counts The histogram (e.g. from `Kernels.histogram`).
 * @param options The range it covers and the percentile.
 * @returns The estimated value.
 * @throws {RangeError} When the percentile is outside 0..100.
 * @example
 * ```ts
 * import { percentileFromHistogram } from "@modelpress/kernels";
 * percentileFromHistogram(new Uint32Array([1, 1, 1, 1]), { min: 0, max: 4, percentile: 50 }); // 2
 * ```
 */
export function percentileFromHistogram(counts: Uint32Array, options: PercentileOptions): number {
  const { min, max, percentile } = options;
  if (!(percentile >= 0 && percentile <= 100)) {
    throw new RangeError(`Cannot take percentile ${percentile}: it is outside 0..100`);
  }
  let total = 0;
  for (let b = 0; b < counts.length; b++) total += counts[b]!;
  if (total === 0 || counts.length === 0) return min;
  const target = (percentile / 100) * total;
  const width = (max - min) / counts.length;
  let before = 0;
  for (let b = 0; b < counts.length; b++) {
    const c = counts[b]!;
    if (c > 0 && before + c >= target) {
      return min + (b + Math.max(0, target - before) / c) * width;
    }
    before += c;
  }
  return max;
}
