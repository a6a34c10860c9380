/**
 * Turning a dataset into model feeds: matching arrays to model inputs, per-sample reshaping,
 * scaling and conversion to the input's element type, batch by batch (only one batch of
 * converted data exists at a time).
 * @module
 */
import { float32ToFloat16 } from "@modelpress/onnx";
import type { Dataset, DatasetArray, NumericArray } from "./dataset.ts";
import type { ModelValueInfo } from "./evaluate_model.ts";
import { Tensor, type TensorMap } from "./session.ts";

/** How one model input is fed. */
export interface FeedPlan {
  /** The model input's name. */
  readonly input: string;
  /** The dataset array feeding it. */
  readonly array: DatasetArray;
  /** The array's name, for messages. */
  readonly arrayName: string;
  /** The element type to feed (onnxruntime-web's name). */
  readonly type: string;
  /** The dims of one sample. */
  readonly sampleShape: readonly number[];
  /** Elements per sample. */
  readonly sampleSize: number;
}

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

const FEEDABLE = new Set([
  "float32",
  "float64",
  "float16",
  "int8",
  "uint8",
  "int16",
  "uint16",
  "int32",
  "uint32",
  "int64",
  "uint64",
  "bool",
]);

/**
 * Matches dataset arrays to model inputs and settles each sample's shape.
 *
 * @param dataset The dataset.
 * @param inputs The model's inputs.
 * @returns One plan per model input.
 * @throws {TypeError} When an input has no array, an array matches no input, or sizes differ.
 */
export function planFeeds(dataset: Dataset, inputs: readonly ModelValueInfo[]): FeedPlan[] {
  const arrayNames = Object.keys(dataset.inputs);
  const single = arrayNames.length === 1 && inputs.length === 1;
  const used = new Set<string>();
  const plans = inputs.map((info): FeedPlan => {
    const arrayName = single ? arrayNames[0]! : info.name;
    if (!Object.hasOwn(dataset.inputs, arrayName)) {
      throw new TypeError(
        `Cannot evaluate model: the dataset has no array for model input '${info.name}' ` +
          `(dataset inputs: ${arrayNames.join(", ")})`,
      );
    }
    used.add(arrayName);
    const array = dataset.inputs[arrayName]!;
    if (!FEEDABLE.has(info.type)) {
      throw new TypeError(
        `Cannot evaluate model: input '${info.name}' has element type ${info.type}, ` +
          "which a numeric dataset cannot feed",
      );
    }
    const own = array.shape.slice(1);
    const ownSize = own.reduce((p, d) => p * d, 1);
    const declared = info.shape?.slice(1);
    const fixed = declared !== undefined && declared.every((d) => typeof d === "number")
      ? declared as number[]
      : undefined;
    const sampleShape = dataset.preprocess?.sampleShape ?? fixed ?? own;
    const sampleSize = sampleShape.reduce((p, d) => p * d, 1);
    if (sampleSize !== ownSize) {
      throw new TypeError(
        `Cannot evaluate model: input '${info.name}' takes samples of [${
          sampleShape.join(", ")
        }] ` +
          `(${sampleSize} values), dataset array '${arrayName}' has samples of [${
            own.join(", ")
          }] (${ownSize} values)`,
      );
    }
    return { input: info.name, array, arrayName, type: info.type, sampleShape, sampleSize };
  });
  const unused = arrayNames.filter((n) => !used.has(n));
  if (unused.length > 0) {
    throw new TypeError(
      `Cannot evaluate model: dataset arrays ${unused.map((n) => `'${n}'`).join(", ")} match no ` +
        `model input (model inputs: ${inputs.map((i) => i.name).join(", ")})`,
    );
  }
  return plans;
}

/**
 * Copies, scales and converts one batch of an array for a model input.
 *
 * @param plan The input's plan.
 * @param range First sample and sample count.
 * @param scale `multiply` and `offset` for floating-point inputs.
 * @returns The tensor.
 */
function feedTensor(
  plan: FeedPlan,
  range: { readonly start: number; readonly count: number },
  scale: { readonly multiply: number; readonly offset: number },
): Tensor {
  const { array, sampleSize, type } = plan;
  const from = range.start * sampleSize;
  const source = array.data.subarray(from, from + range.count * sampleSize) as NumericArray;
  const dims = [range.count, ...plan.sampleShape];
  const isFloat = type === "float32" || type === "float64" || type === "float16";
  const scaled = isFloat && (scale.multiply !== 1 || scale.offset !== 0);
  const numbers = (): Float64Array => {
    const out = new Float64Array(source.length);
    for (let i = 0; i < source.length; i++) {
      const v = Number(source[i]!);
      out[i] = scaled ? v * scale.multiply + scale.offset : v;
    }
    return out;
  };
  switch (type) {
    case "float32":
      return new Tensor(
        type,
        source instanceof Float32Array && !scaled ? source.slice() : Float32Array.from(numbers()),
        dims,
      );
    case "float64":
      return new Tensor(type, Float64Array.from(numbers()), dims);
    case "float16":
      return new Tensor(type, float32ToFloat16(numbers()), dims);
    case "int64":
      return new Tensor(
        type,
        BigInt64Array.from(source as ArrayLike<number | bigint>, toBigInt(plan)),
        dims,
      );
    case "uint64":
      return new Tensor(
        type,
        BigUint64Array.from(source as ArrayLike<number | bigint>, toBigInt(plan)),
        dims,
      );
    case "bool":
      return new Tensor(type, Uint8Array.from(numbers(), (v) => (v !== 0 ? 1 : 0)), dims);
    default: {
      const Ctor = {
        int8: Int8Array,
        uint8: Uint8Array,
        int16: Int16Array,
        uint16: Uint16Array,
        int32: Int32Array,
        uint32: Uint32Array,
      }[type as "int8"]!;
      return new Tensor(type as "int8", Ctor.from(numbers()), dims);
    }
  }
}

/**
 * A converter of dataset elements to bigint, refusing fractions.
 *
 * @param plan The input's plan, for messages.
 * @returns The converter.
 */
function toBigInt(plan: FeedPlan): (v: number | bigint) => bigint {
  return (v) => {
    if (typeof v === "bigint") return v;
    if (!Number.isInteger(v)) {
      throw new TypeError(
        `Cannot evaluate model: input '${plan.input}' is int64 and dataset array ` +
          `'${plan.arrayName}' holds ${v}`,
      );
    }
    return BigInt(v);
  };
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
  const scale = {
    multiply: dataset.preprocess?.multiply ?? 1,
    offset: dataset.preprocess?.offset ?? 0,
  };
  const end = Math.min(dataset.count, options.limit);
  for (let start = 0; start < end; start += options.batchSize) {
    const range = { start, count: Math.min(options.batchSize, end - start) };
    const feeds: TensorMap = {};
    for (const plan of options.plans) feeds[plan.input] = feedTensor(plan, range, scale);
    yield {
      ...range,
      feeds,
      ...(dataset.labels === undefined ? {} : { labels: labelIndices(dataset.labels, range) }),
    };
  }
}
