/**
 * The range an activation is quantized over, chosen from its calibration statistics: MinMax,
 * Percentile, Entropy (KL divergence, as TensorRT's calibrator) or MSE.
 * @module
 */
import { percentileFromHistogram } from "@modelpress/kernels";
import { linearParams } from "./linear_params.ts";
import { type QuantGrid, quantGrid } from "./quant_grid.ts";
import type { TensorStatistics } from "./calibrate.ts";

/** How calibration turns statistics into a range. */
export type CalibrationMethod = "minmax" | "percentile" | "entropy" | "mse";

/** Options of {@linkcode calibrationRange}. */
export interface CalibrationRangeOptions {
  /** The method. */
  readonly method: CalibrationMethod;
  /** For `percentile`: the share of values kept, in 50..100. Default 99.999. */
  readonly percentile?: number;
  /** Bits of the activation codes: 2..8 or 16. Default 8. */
  readonly bits?: number;
  /**
   * Symmetric quantization (int8, zero point 0): the range is `[-t, t]`, searched on |x|.
   * Default false (uint8 asymmetric).
   */
  readonly symmetric?: boolean;
}

/** A chosen range. */
export interface CalibratedRange {
  /** Lower bound. */
  readonly min: number;
  /** Upper bound. */
  readonly max: number;
}

/** The default percentile, as ONNX Runtime's calibrator. */
export const DEFAULT_CALIBRATION_PERCENTILE = 99.999;

/** Most candidates per end that a search evaluates. */
const MAX_MSE_CANDIDATES = 512;

/**
 * Chooses an activation's range from its statistics:
 * - `minmax`: the smallest and largest values seen;
 * - `percentile`: asymmetric, the `(100 - p) / 2` and `100 - (100 - p) / 2` percentiles (the
 *   clipped share split between the tails); symmetric, `±` the `p` percentile of |x|;
 * - `entropy`: over windows of the histogram that contain zero (their ends searched in turn;
 *   `[0, t)` on |x| when symmetric), the one whose clipped
 *   distribution (outliers folded into the edge bins) loses least information, by KL
 *   divergence, when merged into `2^b - 1` bins (`2^(b-1)` on |x| when symmetric: 128 for int8);
 * - `mse`: over the same windows, the one that minimizes the expected squared error of
 *   dequantize(quantize(x)), integrated exactly over each bin (values uniform inside a bin).
 *
 * Ranges never exceed min/max. Without values the range is `[0, 0]`.
 *
 * @param stats The tensor's statistics (from {@linkcode calibrate}).
 * @param options Method, percentile, bits and symmetry.
 * @returns The range.
 * @throws {RangeError} When the percentile is out of range, or bits not 2..8 or 16.
 * @example
 * ```ts
 * import { calibrationRange } from "@modelpress/quantize";
 * declare const stats: import("@modelpress/quantize").TensorStatistics;
 * const { min, max } = calibrationRange(stats, { method: "percentile", percentile: 99.99 });
 * ```
 */
export function calibrationRange(
  stats: TensorStatistics,
  options: CalibrationRangeOptions,
): CalibratedRange {
  const bits = options.bits ?? 8;
  const symmetric = options.symmetric ?? false;
  const grid = quantGrid(bits, { signed: symmetric });
  if (stats.count === 0) return { min: 0, max: 0 };
  const { min, max } = stats;
  const absMax = Math.max(Math.abs(min), Math.abs(max));
  switch (options.method) {
    case "minmax":
      return { min, max };
    case "percentile": {
      const p = options.percentile ?? DEFAULT_CALIBRATION_PERCENTILE;
      if (!(p >= 50 && p <= 100)) {
        throw new RangeError(
          `Cannot choose a calibration range: percentile must be in 50..100, got ${p}`,
        );
      }
      const h = stats.histogram;
      if (symmetric) {
        const abs = foldAbs(h.counts, h.first);
        const t = percentileFromHistogramF64(abs, 0, abs.length * h.binWidth, p);
        return { min: -Math.min(t, absMax), max: Math.min(t, absMax) };
      }
      const lower = h.first * h.binWidth;
      const upper = lower + h.counts.length * h.binWidth;
      const tail = (100 - p) / 2;
      return {
        min: Math.max(min, percentileFromHistogramF64(h.counts, lower, upper, tail)),
        max: Math.min(max, percentileFromHistogramF64(h.counts, lower, upper, 100 - tail)),
      };
    }
    case "entropy":
    case "mse": {
      const search = options.method === "entropy" ? entropySearch : mseSearch;
      return search(stats, { grid, symmetric });
    }
    default:
      throw new RangeError(
        `Cannot choose a calibration range: method must be 'minmax', 'percentile', 'entropy' ` +
          `or 'mse', got ${JSON.stringify(options.method)}`,
      );
  }
}

interface SearchOptions {
  readonly grid: QuantGrid;
  readonly symmetric: boolean;
}

/** The histogram a search runs on: signed counts, or |x| counts from zero when symmetric. */
interface SearchHistogram {
  /** Counts of the occupied bins. */
  readonly counts: Float64Array;
  /** Grid index of counts[0]. */
  readonly first: number;
  /** Bin width. */
  readonly width: number;
  /** Index in counts where zero lies, clamped to [0, counts.length]. */
  readonly zero: number;
}

function searchHistogram(stats: TensorStatistics, symmetric: boolean): SearchHistogram {
  const h = stats.histogram;
  if (symmetric) {
    const counts = foldAbs(h.counts, h.first);
    return { counts, first: 0, width: h.binWidth, zero: 0 };
  }
  // Only the bins up to the largest value are occupied.
  const used = Math.floor(stats.max / h.binWidth) - h.first + 1;
  const counts = h.counts.subarray(0, Math.min(h.counts.length, Math.max(1, used)));
  const zero = Math.min(counts.length, Math.max(0, -h.first));
  return { counts, first: h.first, width: h.binWidth, zero };
}

/**
 * The window `[lo, hi)` of bin indices, containing zero and at least `smallest` bins wide,
 * that minimizes `cost`. On |x| the window is `[0, hi)`; on signed values the two ends are
 * searched in turn (upper, lower, upper, lower), each over at most `most` candidates.
 */
function bestWindow(
  h: SearchHistogram,
  smallest: number,
  most: number,
  cost: (lo: number, hi: number) => number,
): [number, number] | undefined {
  const length = h.counts.length;
  if (length < smallest) return undefined;
  let lo = 0;
  let hi = length;
  let best = cost(lo, hi);
  const scan = (from: number, to: number, at: (i: number) => [number, number]): void => {
    if (to < from) return;
    const stride = Math.max(1, Math.ceil((to - from + 1) / most));
    for (let i = from; i <= to; i += stride) {
      const [a, b] = at(i);
      const c = cost(a, b);
      if (c < best) {
        best = c;
        lo = a;
        hi = b;
      }
    }
  };
  const passes = h.zero === 0 ? 1 : 2;
  for (let pass = 0; pass < passes; pass++) {
    const keepLo = lo;
    scan(Math.max(h.zero, keepLo + smallest, 1), length, (i) => [keepLo, i]);
    if (h.zero === 0) break;
    const keepHi = hi;
    scan(0, Math.min(h.zero, keepHi - smallest), (i) => [i, keepHi]);
  }
  return [lo, hi];
}

function toRange(h: SearchHistogram, lo: number, hi: number, o: SearchOptions): CalibratedRange {
  if (o.symmetric) {
    const t = hi * h.width;
    return { min: -t, max: t };
  }
  return { min: (h.first + lo) * h.width, max: (h.first + hi) * h.width };
}

function clampRange(r: CalibratedRange, stats: TensorStatistics): CalibratedRange {
  return { min: Math.max(r.min, stats.min), max: Math.min(r.max, stats.max) };
}

function entropySearch(stats: TensorStatistics, o: SearchOptions): CalibratedRange {
  const h = searchHistogram(stats, o.symmetric);
  const target = o.symmetric ? 2 ** (o.grid.bits - 1) : 2 ** o.grid.bits - 1;
  const c = h.counts;
  const prefix = new Float64Array(c.length + 1);
  for (let i = 0; i < c.length; i++) prefix[i + 1] = prefix[i]! + c[i]!;
  const p = new Float64Array(c.length);
  const q = new Float64Array(c.length);
  const best = bestWindow(h, target, 512, (lo, hi) => {
    const n = hi - lo;
    // The reference: the window's counts, with the clipped outliers folded into its edges.
    for (let j = 0; j < n; j++) p[j] = c[lo + j]!;
    p[0]! += prefix[lo]!;
    p[n - 1]! += prefix[c.length]! - prefix[hi]!;
    // The candidate: the window's own counts merged into `target` bins, spread back evenly
    // over the bins that the reference has non-empty.
    for (let b = 0; b < target; b++) {
      const start = Math.floor((b * n) / target);
      const end = Math.floor(((b + 1) * n) / target);
      let nonzero = 0;
      for (let j = start; j < end; j++) if (p[j]! !== 0) nonzero++;
      const share = nonzero === 0 ? 0 : (prefix[lo + end]! - prefix[lo + start]!) / nonzero;
      for (let j = start; j < end; j++) q[j] = p[j]! !== 0 ? share : 0;
    }
    return divergence(p.subarray(0, n), q.subarray(0, n));
  });
  if (best === undefined) return { min: stats.min, max: stats.max };
  return clampRange(toRange(h, best[0], best[1], o), stats);
}

/**
 * KL(P || Q) of two count vectors after smoothing, as MXNet's and TensorRT's calibrators do:
 * empty bins get a small mass `eps`, taken evenly from the others.
 */
function divergence(p: Float64Array, q: Float64Array): number {
  const ps = smooth(p);
  const qs = smooth(q);
  if (ps === undefined || qs === undefined) return Infinity;
  let sp = 0;
  let sq = 0;
  for (let i = 0; i < ps.length; i++) {
    sp += ps[i]!;
    sq += qs[i]!;
  }
  let kl = 0;
  for (let i = 0; i < ps.length; i++) {
    const a = ps[i]! / sp;
    if (a > 0) kl += a * Math.log(a / (qs[i]! / sq));
  }
  return kl;
}

function smooth(x: Float64Array, eps = 1e-4): Float64Array | undefined {
  let zeros = 0;
  for (let i = 0; i < x.length; i++) if (x[i] === 0) zeros++;
  const nonzeros = x.length - zeros;
  if (nonzeros === 0) return undefined;
  const take = (eps * zeros) / nonzeros;
  const out = new Float64Array(x.length);
  for (let i = 0; i < x.length; i++) {
    out[i] = x[i] === 0 ? eps : Math.max(x[i]! - take, eps * 1e-3);
  }
  return out;
}

function mseSearch(stats: TensorStatistics, o: SearchOptions): CalibratedRange {
  const h = searchHistogram(stats, o.symmetric);
  const signed = stats.histogram;
  const { grid } = o;
  const best = bestWindow(h, 1, MAX_MSE_CANDIDATES, (lo, hi) => {
    const range = clampRange(toRange(h, lo, hi, o), stats);
    const { scale, zeroPoint } = linearParams(
      new Float32Array([range.min]),
      new Float32Array([range.max]),
      { grid, symmetric: o.symmetric },
    );
    return expectedError(signed.counts, signed.first, signed.binWidth, {
      scale: scale[0]!,
      zeroPoint: zeroPoint[0]!,
      qmin: grid.qmin,
      qmax: grid.qmax,
    });
  });
  if (best === undefined) return { min: stats.min, max: stats.max };
  return clampRange(toRange(h, best[0], best[1], o), stats);
}

/**
 * The expected squared error of fake quantization over a histogram, each bin's values taken as
 * uniform inside it: the integral of (x - q(x))^2 is summed piece by piece over the cells of
 * the codes each bin overlaps.
 */
function expectedError(
  counts: Float64Array,
  first: number,
  width: number,
  g: { scale: number; zeroPoint: number; qmin: number; qmax: number },
): number {
  const { scale, zeroPoint, qmin, qmax } = g;
  const code = (x: number): number =>
    Math.min(qmax, Math.max(qmin, Math.round(x / scale + zeroPoint)));
  let total = 0;
  for (let i = 0; i < counts.length; i++) {
    const n = counts[i]!;
    if (n === 0) continue;
    const a = (first + i) * width;
    const b = a + width;
    let sum = 0;
    for (let j = code(a), last = code(b); j <= last; j++) {
      const level = (j - zeroPoint) * scale;
      const from = j === qmin ? a : Math.max(a, level - scale / 2);
      const to = j === qmax ? b : Math.min(b, level + scale / 2);
      if (to <= from) continue;
      sum += ((to - level) ** 3 - (from - level) ** 3) / 3;
    }
    total += (n * sum) / width;
  }
  return total;
}

/** Folds signed grid bins onto |x|: bin k >= 0 stays, bin k < 0 goes to -k - 1. */
function foldAbs(counts: Float64Array, first: number): Float64Array {
  let top = 0;
  for (let i = 0; i < counts.length; i++) {
    if (counts[i] === 0) continue;
    const k = first + i;
    top = Math.max(top, (k >= 0 ? k : -k - 1) + 1);
  }
  const out = new Float64Array(Math.max(1, top));
  for (let i = 0; i < counts.length; i++) {
    const c = counts[i]!;
    if (c === 0) continue;
    const k = first + i;
    out[k >= 0 ? k : -k - 1]! += c;
  }
  return out;
}

/** `percentileFromHistogram` for float64 counts (which may pass 2^32 on large data sets). */
function percentileFromHistogramF64(
  counts: Float64Array,
  min: number,
  max: number,
  percentile: number,
): number {
  let total = 0;
  for (let i = 0; i < counts.length; i++) total += counts[i]!;
  if (total < 2 ** 32) {
    return percentileFromHistogram(Uint32Array.from(counts), { min, max, percentile });
  }
  const target = (percentile / 100) * total;
  const width = (max - min) / counts.length;
  let before = 0;
  for (let b = 0; b < counts.length; b++) {
    const c = counts[b]!;
    if (c > 0 && before + c >= target) return min + (b + Math.max(0, target - before) / c) * width;
    before += c;
  }
  return max;
}
