/**
 * Top-1 and top-k classification accuracy, accumulated batch by batch.
 * @module
 */

/** Accuracy at one k. */
export interface TopKAccuracy {
  /** The k: a sample counts when its label is among its k highest scores. */
  readonly k: number;
  /** Samples counted correct. */
  readonly correct: number;
  /** `correct / count`. */
  readonly accuracy: number;
}

/** Accuracy over the samples seen. */
export interface AccuracyReport {
  /** The output scored (its argmax is the prediction). */
  readonly output: string;
  /** Samples scored. */
  readonly count: number;
  /** Samples whose first highest score is at the label. */
  readonly correct: number;
  /** `correct / count` (0 when nothing was scored). */
  readonly top1: number;
  /** Accuracy at each k asked for, in the order asked. */
  readonly topK: readonly TopKAccuracy[];
}

/** Options of {@link AccuracyMeter}. */
export interface AccuracyMeterOptions {
  /** The ks of top-k accuracy (default `[5]`). */
  readonly topK?: readonly number[];
  /** The output's name for the report (default `"output"`). */
  readonly output?: string;
}

/** Scores of a batch: one row of class scores per sample, sample-major. */
export type ScoreArray = ArrayLike<number>;

/**
 * Counts top-1 and top-k hits over batches; memory stays constant however many batches come.
 * A sample's prediction is its first highest score; its label is within the top k when fewer
 * than k scores rank above the label's (a score ranks above when it is higher, or equal and at
 * a lower index, so ties break as top-1 does).
 *
 * @example
 * ```ts
 * import { AccuracyMeter } from "@modelpress/evaluate";
 * const meter = new AccuracyMeter({ topK: [2] });
 * meter.add(new Float32Array([0.1, 0.7, 0.2, 0.5, 0.3, 0.2]), [1, 1]);
 * meter.report(); // { count: 2, correct: 1, top1: 0.5, topK: [{ k: 2, correct: 2, accuracy: 1 }], ... }
 * ```
 */
export class AccuracyMeter {
  readonly #ks: readonly number[];
  readonly #output: string;
  readonly #hits: number[];
  #count = 0;
  #correct = 0;

  /**
   * Creates a meter.
   *
   * @param options The ks of top-k accuracy and the output's name.
   * @throws {RangeError} When a k is not a positive integer.
   */
  constructor(options: AccuracyMeterOptions = {}) {
    const ks = [...(options.topK ?? [5])];
    for (const k of ks) {
      if (!Number.isInteger(k) || k < 1) {
        throw new RangeError(
          `Cannot evaluate accuracy: topK must hold positive integers, got ${k}`,
        );
      }
    }
    this.#ks = Object.freeze(ks);
    this.#output = options.output ?? "output";
    this.#hits = ks.map(() => 0);
  }

  /**
   * Scores one batch.
   *
   * @param scores `labels.length` rows of class scores, sample-major.
   * @param labels The class index of each sample.
   * @throws {RangeError} When the scores do not split into `labels.length` equal rows, or a
   * label is not a class index of the rows.
   */
  add(scores: ScoreArray, labels: ArrayLike<number>): void {
    const n = labels.length;
    if (n === 0) return;
    const classes = scores.length / n;
    if (!Number.isInteger(classes) || classes < 1) {
      throw new RangeError(
        `Cannot evaluate accuracy: ${scores.length} scores do not split into ${n} rows`,
      );
    }
    for (let s = 0; s < n; s++) {
      const label = labels[s]!;
      if (!Number.isInteger(label) || label < 0 || label >= classes) {
        throw new RangeError(
          `Cannot evaluate accuracy: label ${label} of sample ${this.#count + s} is not a class ` +
            `index of ${classes} scores`,
        );
      }
      const base = s * classes;
      const target = scores[base + label]!;
      // Rank of the label: scores above it, ties at a lower index included.
      let rank = 0;
      for (let c = 0; c < classes; c++) {
        const v = scores[base + c]!;
        if (v > target || (v === target && c < label) || (Number.isNaN(target) && c !== label)) {
          rank++;
        }
      }
      if (rank === 0) this.#correct++;
      for (let i = 0; i < this.#ks.length; i++) {
        if (rank < this.#ks[i]!) this.#hits[i]!++;
      }
    }
    this.#count += n;
  }

  /**
   * The accuracy so far.
   *
   * @returns The report (a fresh object).
   */
  report(): AccuracyReport {
    const count = this.#count;
    const ratio = (c: number): number => (count === 0 ? 0 : c / count);
    return {
      output: this.#output,
      count,
      correct: this.#correct,
      top1: ratio(this.#correct),
      topK: this.#ks.map((k, i) => ({
        k,
        correct: this.#hits[i]!,
        accuracy: ratio(this.#hits[i]!),
      })),
    };
  }
}
