/**
 * Output fidelity of a model against a reference model on the same inputs, accumulated batch by
 * batch (memory stays constant).
 *
 * Definitions, with `a` the model's output and `r` the reference's, per output:
 * - `top1Agreement`: fraction of samples whose argmax (first maximum over the sample's flattened
 *   output) is the same in both;
 * - `cosineSimilarity`: the mean over samples of `a·r / (|a| |r|)` over the sample's flattened
 *   output (1 when both are all zeros, 0 when only one is);
 * - `mse`: mean of `(a - r)²` over all elements; `maxAbsError`: max of `|a - r|`;
 * - `sqnrDb`: `10·log10(Σr² / Σ(a - r)²)` over all elements, `Infinity` when the outputs are
 *   identical (and `-Infinity` when the reference is all zeros but the model's output is not);
 * - `klDivergence`: the mean over rows of the last axis of `KL(softmax(r) ‖ softmax(a))`, in
 *   nats, from log-softmax computed stably (`x - max - log Σ exp(x - max)`).
 * Sums are in float64.
 * @module
 */

/** Fidelity of one output. */
export interface FidelityReport {
  /** The output's name. */
  readonly output: string;
  /** Samples compared. */
  readonly samples: number;
  /** Elements compared. */
  readonly elements: number;
  /** Fraction of samples with the same argmax. */
  readonly top1Agreement: number;
  /** Mean per-sample cosine similarity. */
  readonly cosineSimilarity: number;
  /** Mean squared error. */
  readonly mse: number;
  /** Largest absolute error. */
  readonly maxAbsError: number;
  /** Signal-to-quantization-noise ratio in dB; `Infinity` when identical. */
  readonly sqnrDb: number;
  /** Mean KL divergence of the softmax of the last axis, reference to model, in nats. */
  readonly klDivergence: number;
}

/** Options of {@link FidelityMeter}. */
export interface FidelityMeterOptions {
  /** The output's name for the report (default `"output"`). */
  readonly output?: string;
}

/** Options of {@link FidelityMeter.add}. */
export interface FidelityAddOptions {
  /** Samples in the batch (default 1); the arrays split into this many equal parts. */
  readonly samples?: number;
  /** Length of the last axis, the softmax rows of the KL divergence (default: a whole sample). */
  readonly rowLength?: number;
}

/**
 * Accumulates fidelity metrics (see the module doc) over batches of one output.
 *
 * @example
 * ```ts
 * import { FidelityMeter } from "@modelpress/evaluate";
 * const meter = new FidelityMeter({ output: "logits" });
 * meter.add(new Float32Array([1, 2, 3.1]), new Float32Array([1, 2, 3]));
 * console.log(meter.report().sqnrDb.toFixed(1)); // 31.5
 * ```
 */
export class FidelityMeter {
  readonly #output: string;
  #samples = 0;
  #elements = 0;
  #agree = 0;
  #cosineSum = 0;
  #squaredError = 0;
  #signal = 0;
  #maxAbs = 0;
  #klSum = 0;
  #rows = 0;

  /**
   * Creates a meter.
   *
   * @param options The output's name.
   */
  constructor(options: FidelityMeterOptions = {}) {
    this.#output = options.output ?? "output";
  }

  /**
   * Compares one batch.
   *
   * @param actual The model's output, sample-major.
   * @param expected The reference's output, same length.
   * @param options Samples in the batch and the softmax row length.
   * @throws {RangeError} When the lengths differ or do not split into samples and rows.
   */
  add(
    actual: ArrayLike<number>,
    expected: ArrayLike<number>,
    options: FidelityAddOptions = {},
  ): void {
    const what = `Cannot evaluate fidelity of '${this.#output}'`;
    if (actual.length !== expected.length) {
      throw new RangeError(
        `${what}: the model gives ${actual.length} values, the reference ${expected.length}`,
      );
    }
    const samples = options.samples ?? 1;
    const per = actual.length / samples;
    if (!Number.isInteger(samples) || samples < 1 || !Number.isInteger(per)) {
      throw new RangeError(`${what}: ${actual.length} values do not split into ${samples} samples`);
    }
    const row = options.rowLength ?? per;
    if (!Number.isInteger(row) || row < 1 || per % row !== 0) {
      throw new RangeError(`${what}: samples of ${per} values do not split into rows of ${row}`);
    }
    for (let s = 0; s < samples; s++) {
      const base = s * per;
      let dot = 0, na = 0, nr = 0;
      let argA = 0, argR = 0;
      for (let i = 0; i < per; i++) {
        const a = actual[base + i]!, r = expected[base + i]!;
        const d = a - r;
        dot += a * r;
        na += a * a;
        nr += r * r;
        this.#squaredError += d * d;
        const abs = Math.abs(d);
        if (abs > this.#maxAbs || Number.isNaN(abs)) this.#maxAbs = abs;
        if (a > actual[base + argA]!) argA = i;
        if (r > expected[base + argR]!) argR = i;
      }
      this.#signal += nr;
      if (argA === argR) this.#agree++;
      this.#cosineSum += na === 0 && nr === 0
        ? 1
        : na === 0 || nr === 0
        ? 0
        : dot / (Math.sqrt(na) * Math.sqrt(nr));
      for (let start = base; start < base + per; start += row) {
        this.#klSum += klDivergence(expected, actual, start, row);
        this.#rows++;
      }
    }
    this.#samples += samples;
    this.#elements += actual.length;
  }

  /**
   * The metrics so far.
   *
   * @returns The report (a fresh object; zeros before any batch, SQNR `Infinity`).
   */
  report(): FidelityReport {
    const n = this.#samples;
    return {
      output: this.#output,
      samples: n,
      elements: this.#elements,
      top1Agreement: n === 0 ? 0 : this.#agree / n,
      cosineSimilarity: n === 0 ? 0 : this.#cosineSum / n,
      mse: this.#elements === 0 ? 0 : this.#squaredError / this.#elements,
      maxAbsError: this.#maxAbs,
      sqnrDb: this.#squaredError === 0
        ? Infinity
        : 10 * Math.log10(this.#signal / this.#squaredError),
      klDivergence: this.#rows === 0 ? 0 : this.#klSum / this.#rows,
    };
  }
}

/**
 * KL(softmax(p) ‖ softmax(q)) of one row, from stable log-softmax.
 *
 * @param p Logits of the reference distribution.
 * @param q Logits of the compared distribution.
 * @param start The row's first index.
 * @param length The row's length.
 * @returns The divergence in nats (≥ 0 up to rounding).
 */
function klDivergence(
  p: ArrayLike<number>,
  q: ArrayLike<number>,
  start: number,
  length: number,
): number {
  const lseP = logSumExp(p, start, length);
  const lseQ = logSumExp(q, start, length);
  let kl = 0;
  for (let i = start; i < start + length; i++) {
    const lp = p[i]! - lseP;
    const lq = q[i]! - lseQ;
    const prob = Math.exp(lp);
    if (prob > 0) kl += prob * (lp - lq);
  }
  return Math.max(0, kl);
}

/**
 * `log Σ exp(x)` over a row, shifted by the row's max so that nothing overflows.
 *
 * @param x The values.
 * @param start The row's first index.
 * @param length The row's length.
 * @returns The log-sum-exp.
 */
function logSumExp(x: ArrayLike<number>, start: number, length: number): number {
  let max = -Infinity;
  for (let i = start; i < start + length; i++) if (x[i]! > max) max = x[i]!;
  if (max === -Infinity || max === Infinity) return max;
  let sum = 0;
  for (let i = start; i < start + length; i++) sum += Math.exp(x[i]! - max);
  return max + Math.log(sum);
}
