/**
 * Evaluation batches: consecutive samples of a dataset as feeds (see `dataset_feeds.ts`), with
 * their labels, one batch of converted data at a time.
 * @module
 */
import type { Dataset, DatasetArray } from "./dataset.ts";
import {
  DatasetFeedError,
  type DatasetFeedPlan,
  datasetFeeds,
  planDatasetFeeds,
} from "./dataset_feeds.ts";
import type { ModelValueInfo } from "./evaluate_model.ts";
import type { TensorMap } from "./session.ts";

/** How one model input is fed. */
export type FeedPlan = DatasetFeedPlan;

/** One batch of feeds. */
export interface Batch {
  /** Index of the batch's first sample. */
  readonly start: number;
  /** Samples in the batch. */
  readonly count: number;
  /** The feeds, by model input name. */
  readonly feeds: TensorMap;
  /** The class index of each sample, when the dataset has labels. */
  readonly labels?: Int32Array;
}

/**
 * Matches dataset arrays to model inputs, in evaluation's words.
 *
 * @param dataset The dataset.
 * @param inputs The model's inputs.
 * @returns One plan per model input.
 * @throws {TypeError} When the dataset does not fit the inputs.
 */
export function planFeeds(dataset: Dataset, inputs: readonly ModelValueInfo[]): FeedPlan[] {
  return inEvaluationWords(() => planDatasetFeeds(dataset, inputs));
}

/**
 * Runs `f`, rethrowing a {@linkcode DatasetFeedError} as evaluation's TypeError.
 *
 * @param f The work.
 * @returns What `f` returns.
 */
function inEvaluationWords<T>(f: () => T): T {
  try {
    return f();
  } catch (e) {
    if (e instanceof DatasetFeedError) {
      throw new TypeError(`Cannot evaluate model: ${e.reason}`, { cause: e });
    }
    throw e;
  }
}

/**
 * The class indices of a range of labels ([n], [n, 1]: the values; [n, classes]: the argmax).
 *
 * @param labels The label array.
 * @param range First sample and count.
 * @returns The class indices.
 */
function labelIndices(
  labels: DatasetArray,
  range: { readonly start: number; readonly count: number },
): Int32Array {
  const width = labels.shape.length === 2 ? labels.shape[1]! : 1;
  const out = new Int32Array(range.count);
  for (let s = 0; s < range.count; s++) {
    const base = (range.start + s) * width;
    if (width === 1) {
      const v = Number(labels.data[base]!);
      if (!Number.isInteger(v) || v < 0) {
        throw new RangeError(
          `Cannot evaluate accuracy: label of sample ${range.start + s} is ${v}, not a class index`,
        );
      }
      out[s] = v;
      continue;
    }
    let best = 0;
    for (let c = 1; c < width; c++) {
      if (Number(labels.data[base + c]!) > Number(labels.data[base + best]!)) best = c;
    }
    out[s] = best;
  }
  return out;
}

/**
 * Yields the dataset's first `limit` samples as feeds, `batchSize` at a time.
 *
 * @param dataset The dataset.
 * @param options The plans, batch size and limit.
 * @returns The batches.
 */
export function* batches(
  dataset: Dataset,
  options: {
    readonly plans: readonly FeedPlan[];
    readonly batchSize: number;
    readonly limit: number;
  },
): Generator<Batch> {
  const end = Math.min(dataset.count, options.limit);
  for (let start = 0; start < end; start += options.batchSize) {
    const range = { start, count: Math.min(options.batchSize, end - start) };
    const indices = Array.from({ length: range.count }, (_, i) => start + i);
    const feeds = inEvaluationWords(() => datasetFeeds(dataset, options.plans, indices));
    yield {
      ...range,
      feeds,
      ...(dataset.labels === undefined ? {} : { labels: labelIndices(dataset.labels, range) }),
    };
  }
}
