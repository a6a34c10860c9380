/**
 * A streaming histogram whose range grows with the data while its bin count stays fixed.
 * Imported only from this folder.
 *
 * Bins lie on a grid anchored at zero: bin `k` (an integer, negative below zero) covers
 * `[k * w, (k + 1) * w)` with `w = 2^e`. The collector keeps `bins` consecutive grid bins from
 * `floor(min / w)`, where `min` is the smallest value seen. When a batch falls outside them, `e`
 * grows until the whole range seen fits, and the old counts are re-binned: bin `k` goes to
 * `floor(k / 2^s)`. Like ONNX Runtime's HistogramCollector, old counts are merged rather than
 * recomputed, but the bin count never grows, so memory is `bins` numbers per tensor whatever the
 * data; and since halving the resolution merges whole bins, no count is split, and the result
 * is the same histogram that one pass over all the data would give.
 * @module
 */

/** The smallest bin-width exponent (below float32's smallest subnormal there is nothing). */
const MIN_EXPONENT = -150;

/** A histogram on the zero-anchored grid. */
export interface HistogramData {
  /** Bin width, a power of two. */
  readonly binWidth: number;
  /** Grid index of the first bin: it starts at `first * binWidth`. */
  readonly first: number;
  /** Counts, one per bin. */
  readonly counts: Float64Array;
}

/** Collects min, max and a histogram of the finite values of many batches. */
export class HistogramCollector {
  readonly #counts: Float64Array;
  #exponent = MIN_EXPONENT;
  #first = 0;
  #min = Infinity;
  #max = -Infinity;
  #count = 0;

  /**
   * @param bins Bins kept, an integer >= 2.
   */
  constructor(bins: number) {
    if (!(Number.isInteger(bins) && bins >= 2)) {
      throw new RangeError(`Cannot collect a histogram: bins must be an integer >= 2, got ${bins}`);
    }
    this.#counts = new Float64Array(bins);
  }

  /** Finite values counted. */
  get count(): number {
    return this.#count;
  }

  /** Smallest finite value seen (Infinity before any). */
  get min(): number {
    return this.#min;
  }

  /** Largest finite value seen (-Infinity before any). */
  get max(): number {
    return this.#max;
  }

  /** Bytes held for the statistics (fixed: the counts and a few numbers). */
  get byteLength(): number {
    return this.#counts.byteLength + 5 * 8;
  }

  /** A copy of the histogram. */
  histogram(): HistogramData {
    return {
      binWidth: 2 ** this.#exponent,
      first: this.#first,
      counts: this.#counts.slice(),
    };
  }

  /**
   * Counts a batch; NaN and infinities are skipped.
   *
   * @param values The batch.
   */
  add(values: ArrayLike<number>): void {
    let lo = Infinity;
    let hi = -Infinity;
    let n = 0;
    for (let i = 0; i < values.length; i++) {
      const v = values[i]!;
      if (!Number.isFinite(v)) continue;
      if (v < lo) lo = v;
      if (v > hi) hi = v;
      n++;
    }
    if (n === 0) return;
    const min = Math.min(this.#min, lo);
    const max = Math.max(this.#max, hi);
    this.#grow(min, max);
    this.#min = min;
    this.#max = max;
    this.#count += n;
    const counts = this.#counts;
    // Scaling by a power of two is exact, so floor(v / w) is the true grid index.
    const inv = 2 ** -this.#exponent;
    const first = this.#first;
    for (let i = 0; i < values.length; i++) {
      const v = values[i]!;
      if (!Number.isFinite(v)) continue;
      counts[Math.floor(v * inv) - first]! += 1;
    }
  }

  /** Widens the bins until [min, max] fits, and moves the old counts to their new bins. */
  #grow(min: number, max: number): void {
    const bins = this.#counts.length;
    const fits = (e: number): boolean =>
      Math.floor(max * 2 ** -e) - Math.floor(min * 2 ** -e) < bins;
    let e = this.#exponent;
    if (this.#count === 0) {
      // A lower bound of the smallest fitting exponent, to skip most of the climb.
      const span = max - min;
      if (span > 0) e = Math.max(e, Math.floor(Math.log2(span / (bins + 1))) - 1);
    }
    while (!fits(e)) e++;
    const first = Math.floor(min * 2 ** -e);
    if (e === this.#exponent && first === this.#first) return;
    const old = this.#counts.slice();
    const oldFirst = this.#first;
    const shift = 2 ** (e - this.#exponent);
    this.#counts.fill(0);
    if (this.#count > 0) {
      for (let i = 0; i < old.length; i++) {
        const c = old[i]!;
        if (c === 0) continue;
        this.#counts[Math.floor((oldFirst + i) / shift) - first]! += c;
      }
    }
    this.#exponent = e;
    this.#first = first;
  }
}
