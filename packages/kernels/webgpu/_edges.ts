/**
 * Exact edges of monotone float32 classifications (histogram bins, nearest codebook entries)
 * for the GPU. The reference bins a float32 v (in float64) as
 * `floor((v - min) * (bins / (max - min)))`, clamped, with v <= min in bin 0 and v >= max in the
 * last bin. That is a non-decreasing function of v (each float64 step rounds monotonically), so
 * bin b starts at the smallest float32 whose reference bin is at least b. Those edges are found
 * here with the reference rule itself, as ordered u32 keys, and the GPU bins by comparing keys
 * (integers): the same bins at every edge, by construction. Imported only from this folder.
 * @module
 */
import type { HistogramOptions } from "../kernels.ts";
import type { SortedCodebook } from "../js/codebook.ts";

/** The ordered key of -Infinity and of +Infinity (keys of non-NaN floats lie between). */
const KEY_MIN = 0x007fffff;
const KEY_MAX = 0xff800000;

const F32 = new Float32Array(1);
const U32 = new Uint32Array(F32.buffer);

/** The float32 of an ordered key (the inverse of the GPU's key). */
function valueOf(key: number): number {
  U32[0] = key >= 0x80000000 ? key ^ 0x80000000 : ~key >>> 0;
  return F32[0]!;
}

/** The ordered key of a float32 value: u32 order equals numeric order (-0 just below +0). */
export function orderKey(v: number): number {
  F32[0] = v;
  const b = U32[0]!;
  return (b & 0x80000000) !== 0 ? ~b >>> 0 : (b | 0x80000000) >>> 0;
}

/**
 * Edge keys of a non-decreasing rank over float32 values: `edges[b]` (0 < b < count) is the
 * smallest ordered key whose value has rank b or more (`edges[0]` is 0, below every key;
 * `edges[count]` is 0xffffffff, above every key). `guess(b)` is any value near that edge.
 */
export function monotoneEdges(
  count: number,
  rank: (v: number) => number,
  guess: (b: number) => number,
): Uint32Array {
  const edges = new Uint32Array(count + 1);
  edges[count] = 0xffffffff;
  let previous = KEY_MIN;
  for (let b = 1; b < count; b++) {
    const at = (k: number): boolean => rank(valueOf(k)) >= b;
    // Gallop from the guess (never below the previous edge), then bisect: lo false, hi true.
    const start = Math.max(previous, Math.min(KEY_MAX, orderKey(guess(b))));
    let lo: number;
    let hi: number;
    if (at(start)) {
      hi = start;
      let step = 1;
      lo = hi - step;
      while (lo >= previous && at(lo)) {
        hi = lo;
        step *= 2;
        lo = hi - step;
      }
      lo = Math.max(lo, previous - 1);
    } else {
      lo = start;
      let step = 1;
      hi = lo + step;
      while (hi < KEY_MAX && !at(hi)) {
        lo = hi;
        step *= 2;
        hi = lo + step;
      }
      hi = Math.min(hi, KEY_MAX);
    }
    while (hi - lo > 1) {
      const mid = Math.floor((lo + hi) / 2);
      if (at(mid)) hi = mid;
      else lo = mid;
    }
    edges[b] = hi;
    previous = hi;
  }
  return edges;
}

/** Edge keys of every bin of a histogram (see {@linkcode monotoneEdges}). */
export function histogramEdges(options: HistogramOptions): Uint32Array {
  const { bins, min, max } = options;
  const factor = bins / (max - min);
  const last = bins - 1;
  // The reference's rule, operation for operation (js/histogram.ts).
  const binOf = (v: number): number => {
    if (v <= min) return 0;
    if (v >= max) return last;
    const b = Math.floor((v - min) * factor);
    return b > last ? last : b;
  };
  return monotoneEdges(bins, binOf, (b) => min + b / factor);
}

/**
 * Edge keys of the nearest-code choice over a sorted codebook: `edges[p]` is the smallest key
 * whose value the reference encodes to position p or above (see {@linkcode monotoneEdges}). The
 * reference compares `v - below` with `above - v` in float64, ties to the lower codebook index;
 * that choice only moves up as v grows, so it has edges too.
 */
export function codebookEdges(sorted: SortedCodebook): Uint32Array {
  const { values, indices } = sorted;
  const last = values.length - 1;
  // The reference's rule, operation for operation (js/codebook.ts).
  const positionOf = (v: number): number => {
    let lo = 0;
    let hi = values.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (values[mid]! < v) lo = mid + 1;
      else hi = mid;
    }
    if (lo === 0) return 0;
    if (lo > last) return last;
    const below = v - values[lo - 1]!;
    const above = values[lo]! - v;
    return below < above ? lo - 1 : above < below ? lo : (
      indices[lo - 1]! < indices[lo]! ? lo - 1 : lo
    );
  };
  return monotoneEdges(values.length, positionOf, (p) => (values[p - 1]! + values[p]!) / 2);
}
