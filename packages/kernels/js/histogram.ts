/**
 * The reference histogram.
 * @module
 */
import type { HistogramOptions } from "../kernels.ts";

/**
 * Checks histogram options.
 *
 * @param options The options.
 * @returns Nothing.
 * @throws {RangeError} When bins is not a positive integer or the range is not finite and ordered.
 * @example
 * ```ts
 * import { checkHistogram } from "./histogram.ts";
 * checkHistogram({ bins: 10, min: 0, max: 1 });
 * ```
 */
export function checkHistogram(options: HistogramOptions): void {
  const { bins, min, max } = options;
  if (!Number.isSafeInteger(bins) || bins < 1 || bins > 2 ** 24) {
    throw new RangeError(`Cannot make histogram: bins ${bins} is not an integer in 1..2^24`);
  }
  if (!Number.isFinite(min) || !Number.isFinite(max) || !(min <= max)) {
    throw new RangeError(`Cannot make histogram: range [${min}, ${max}] is not finite and ordered`);
  }
}

/**
 * Reference histogram; see `Kernels.histogram`.
 *
 * @param x The values.
 * @param options Bins and range.
 * @returns The counts.
 * @example
 * ```ts
 * import { histogramJs } from "@modelpress/kernels";
 * histogramJs(new Float32Array([0, 0.5, 1, NaN]), { bins: 2, min: 0, max: 1 }); // [1, 2]
 * ```
 */
export function histogramJs(x: Float32Array, options: HistogramOptions): Uint32Array {
  checkHistogram(options);
  const { bins, min, max } = options;
  const counts = new Uint32Array(bins);
  const factor = bins / (max - min);
  const last = bins - 1;
  for (let e = 0; e < x.length; e++) {
    const v = x[e]!;
    if (v !== v) continue;
    let b: number;
    if (v <= min) b = 0;
    else if (v >= max) b = last;
    else {
      b = Math.floor((v - min) * factor);
      if (b > last) b = last;
    }
    counts[b]!++;
  }
  return counts;
}
