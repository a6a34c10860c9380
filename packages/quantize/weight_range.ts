/**
 * The range that linear quantization maps onto its grid, per tensor, channel or block: observed
 * min/max, percentiles, MSE-optimal clipping, or mean ± k standard deviations.
 * @module
 */
import type { Kernels } from "@modelpress/kernels";
import { percentileFromHistogram } from "@modelpress/kernels";
import type { QuantGrid } from "./quant_grid.ts";
import { linearParams } from "./linear_params.ts";
import { axisOptions, groupIndex, paramLayout } from "./_layout.ts";
import { dequantizeCodes, quantizeCodes } from "./_codes.ts";

/**
 * How a range is chosen:
 * - `minmax`: the observed smallest and largest values;
 * - `percentile`: the `100 - p` and `p` percentiles (default p = 99.99), from a 2048-bin
 *   histogram per range;
 * - `mse`: the clipping ratio r of `[r * min, r * max]`, searched over `steps` ratios from 1 down
 *   to `minRatio` (defaults 50 and 0.2), that minimizes the squared error of
 *   dequantize(quantize(x)) per range;
 * - `std`: `mean ± k * std` (default k = 3), never wider than min/max.
 */
export type RangeMethod =
  | { readonly method: "minmax" }
  | { readonly method: "percentile"; readonly percentile?: number }
  | { readonly method: "mse"; readonly steps?: number; readonly minRatio?: number }
  | { readonly method: "std"; readonly k?: number };

/** Options of {@linkcode weightRange}. */
export interface WeightRangeOptions {
  /** The tensor's dims. */
  readonly shape: readonly number[];
  /** The axis kept (per channel or per block); none for one range. */
  readonly axis?: number;
  /** Block length along `axis`. */
  readonly blockSize?: number;
  /** The method. Default `{ method: "minmax" }`. */
  readonly range?: RangeMethod;
  /** The grid, which `mse` quantizes onto. */
  readonly grid: QuantGrid;
  /** Symmetric quantization, which `mse` uses. Default false. */
  readonly symmetric?: boolean;
  /** The tensor's name, for errors. */
  readonly name?: string;
}

/** Per-range bounds, laid out as the scales. */
export interface WeightRange {
  /** Lower bounds. */
  readonly min: Float32Array;
  /** Upper bounds. */
  readonly max: Float32Array;
}

const BINS = 2048;

/**
 * Computes the ranges of a weight tensor with the kernels.
 *
 * @param kernels The kernels.
 * @param x The values.
 * @param options Layout, method, grid and symmetry.
 * @returns The bounds, one pair per range.
 * @throws {RangeError} When a method's parameter is out of range.
 * @example
 * ```ts
 * import { createKernels } from "@modelpress/kernels";
 * import { quantGrid, weightRange } from "@modelpress/quantize";
 * const kernels = await createKernels({ backend: "js" });
 * await weightRange(kernels, new Float32Array([-1, 2, 3, -4]), {
 *   shape: [2, 2],
 *   axis: 0,
 *   grid: quantGrid(8),
 * }); // { min: [-1, -4], max: [2, 3] }
 * ```
 */
export async function weightRange(
  kernels: Kernels,
  x: Float32Array,
  options: WeightRangeOptions,
): Promise<WeightRange> {
  const name = options.name ?? "";
  const layout = paramLayout(name, options);
  const axes = axisOptions(layout);
  const range = options.range ?? { method: "minmax" };
  const min = await kernels.reduce("min", x, axes);
  const max = await kernels.reduce("max", x, axes);
  switch (range.method) {
    case "minmax":
      return { min, max };
    case "std": {
      const k = range.k ?? 3;
      if (!(k > 0 && Number.isFinite(k))) {
        throw new RangeError(`Cannot compute the range of '${name}': k must be positive, got ${k}`);
      }
      const sum = await kernels.reduce("sum", x, axes);
      const sumsq = await kernels.reduce("sumsq", x, axes);
      const counts = await kernels.reduce("sum", new Float32Array(x.length).fill(1), axes);
      for (let j = 0; j < min.length; j++) {
        const n = counts[j]!;
        const mean = sum[j]! / n;
        const std = Math.sqrt(Math.max(0, sumsq[j]! / n - mean * mean));
        min[j] = Math.max(min[j]!, mean - k * std);
        max[j] = Math.min(max[j]!, mean + k * std);
      }
      return { min, max };
    }
    case "percentile": {
      const p = range.percentile ?? 99.99;
      if (!(p >= 50 && p <= 100)) {
        throw new RangeError(
          `Cannot compute the range of '${name}': percentile must be 50..100, got ${p}`,
        );
      }
      const groups = gather(x, groupIndex(layout), layout.count);
      for (let j = 0; j < groups.length; j++) {
        const lo = min[j]!;
        const hi = max[j]!;
        if (!(hi > lo)) continue;
        const counts = await kernels.histogram(groups[j]!, { bins: BINS, min: lo, max: hi });
        min[j] = percentileFromHistogram(counts, { min: lo, max: hi, percentile: 100 - p });
        max[j] = percentileFromHistogram(counts, { min: lo, max: hi, percentile: p });
      }
      return { min, max };
    }
    case "mse": {
      const steps = range.steps ?? 50;
      const minRatio = range.minRatio ?? 0.2;
      if (!(Number.isInteger(steps) && steps >= 1 && minRatio > 0 && minRatio <= 1)) {
        throw new RangeError(
          `Cannot compute the range of '${name}': mse needs integer steps >= 1 and minRatio in ` +
            `(0, 1], got ${steps} and ${minRatio}`,
        );
      }
      const best = new Float64Array(min.length).fill(Infinity);
      const bestMin = min.slice();
      const bestMax = max.slice();
      const lo = new Float32Array(min.length);
      const hi = new Float32Array(min.length);
      const diff = new Float32Array(x.length);
      for (let s = 0; s < steps; s++) {
        const r = steps === 1 ? 1 : 1 - (s * (1 - minRatio)) / (steps - 1);
        for (let j = 0; j < lo.length; j++) {
          lo[j] = Math.fround(min[j]! * r);
          hi[j] = Math.fround(max[j]! * r);
        }
        const params = linearParams(lo, hi, {
          grid: options.grid,
          symmetric: options.symmetric ?? false,
        });
        const codeOptions = { grid: options.grid, params, layout, name };
        const codes = await quantizeCodes(kernels, x, codeOptions);
        const back = await dequantizeCodes(kernels, codes, codeOptions);
        for (let i = 0; i < x.length; i++) diff[i] = back[i]! - x[i]!;
        const err = await kernels.reduce("sumsq", diff, axes);
        for (let j = 0; j < err.length; j++) {
          if (err[j]! < best[j]!) {
            best[j] = err[j]!;
            bestMin[j] = lo[j]!;
            bestMax[j] = hi[j]!;
          }
        }
      }
      return { min: bestMin, max: bestMax };
    }
    default:
      throw new TypeError(
        `Cannot compute the range of '${name}': unknown method '${
          (range as { method: string }).method
        }'`,
      );
  }
}

/** Splits values into contiguous arrays, one per range. */
function gather(x: Float32Array, group: Int32Array, count: number): Float32Array[] {
  const sizes = new Int32Array(count);
  for (let i = 0; i < group.length; i++) sizes[group[i]!] = sizes[group[i]!]! + 1;
  const out = Array.from(sizes, (n) => new Float32Array(n));
  const fill = new Int32Array(count);
  for (let i = 0; i < x.length; i++) {
    const g = group[i]!;
    out[g]![fill[g]!] = x[i]!;
    fill[g] = fill[g]! + 1;
  }
  return out;
}
