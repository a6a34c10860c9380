/**
 * Turning a dataset into onnxruntime-web feeds: matching its arrays to a model's inputs,
 * reshaping each sample, applying the dataset's preprocessing and converting to each input's
 * element type, for any chosen samples.
 * @module
 */
import { float32ToFloat16, type GraphProto, tensorTypeOfType } from "@modelpress/onnx";
import type { Dataset, DatasetArray, NumericArray } from "./dataset.ts";
import type { ModelValueInfo } from "./evaluate_model.ts";
import { Tensor, type TensorMap } from "./session.ts";
import { elementTypeName } from "./_type_names.ts";

/** How one model input is fed from a dataset; made by {@linkcode planDatasetFeeds}. */
export interface DatasetFeedPlan {
  /** The model input's name. */
  readonly input: string;
  /** The dataset array feeding it. */
  readonly array: DatasetArray;
  /** The array's name in `dataset.inputs`, for messages. */
  readonly arrayName: string;
  /** The element type fed (onnxruntime-web's name: `float32`, `int64`, ...). */
  readonly type: string;
  /** The dims of one sample. */
  readonly sampleShape: readonly number[];
  /** Elements per sample. */
  readonly sampleSize: number;
}

/**
 * A dataset that does not fit a model's inputs. Callers that want their own message prefix
 * rethrow `reason` under it.
 */
export class DatasetFeedError extends TypeError {
  /** What does not fit, without the "Cannot feed dataset" prefix. */
  readonly reason: string;

  /**
   * @param dataset The dataset's name.
   * @param reason What does not fit.
   */
  constructor(dataset: string, reason: string) {
    super(`Cannot feed dataset '${dataset}': ${reason}`);
    this.name = "DatasetFeedError";
    this.reason = reason;
  }
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
 * Matches a dataset's arrays to a model's inputs and settles each sample's shape.
 *
 * A single array feeds a single input whatever their names; otherwise each input takes the array
 * of its name. A sample's shape is `preprocess.sampleShape`, else the input's declared dims after
 * the first where all are fixed, else the array's own.
 *
 * @param dataset The dataset.
 * @param modelInputs The model's graph (its inputs that are not initializers are used), or its
 * inputs.
 * @returns One plan per model input, in the model's order.
 * @throws {DatasetFeedError} When an input has no array or an element type a numeric array cannot
 * feed, sample sizes differ, or an array matches no input.
 * @example
 * ```ts
 * import { loadDataset, planDatasetFeeds } from "@modelpress/evaluate";
 * const dataset = await loadDataset({ x: [[1, 2, 3, 4]] });
 * const [plan] = planDatasetFeeds(dataset, [{ name: "input", type: "float32", shape: [1, 2, 2] }]);
 * console.log(plan?.sampleShape); // [2, 2]
 * ```
 */
export function planDatasetFeeds(
  dataset: Dataset,
  modelInputs: GraphProto | readonly ModelValueInfo[],
): DatasetFeedPlan[] {
  const inputs = isGraph(modelInputs) ? graphInputs(modelInputs) : modelInputs;
  const fail = (reason: string): never => {
    throw new DatasetFeedError(dataset.name, reason);
  };
  const arrayNames = Object.keys(dataset.inputs);
  const single = arrayNames.length === 1 && inputs.length === 1;
  const used = new Set<string>();
  const plans = inputs.map((info): DatasetFeedPlan => {
    const arrayName = single ? arrayNames[0]! : info.name;
    if (!Object.hasOwn(dataset.inputs, arrayName)) {
      fail(
        `the dataset has no array for model input '${info.name}' ` +
          `(dataset inputs: ${arrayNames.join(", ")})`,
      );
    }
    used.add(arrayName);
    const array = dataset.inputs[arrayName]!;
    if (!FEEDABLE.has(info.type)) {
      fail(
        `input '${info.name}' has element type ${info.type}, which a numeric dataset cannot feed`,
      );
    }
    const own = array.shape.slice(1);
    const ownSize = own.reduce((p, d) => p * d, 1);
    const declared = info.shape?.slice(1);
    const fixed = declared?.every((d) => typeof d === "number" && d > 0)
      ? declared as number[]
      : undefined;
    const sampleShape = dataset.preprocess?.sampleShape ?? fixed ?? own;
    const sampleSize = sampleShape.reduce((p, d) => p * d, 1);
    if (sampleSize !== ownSize) {
      fail(
        `input '${info.name}' takes samples of [${sampleShape.join(", ")}] (${sampleSize} ` +
          `values), dataset array '${arrayName}' has samples of [${own.join(", ")}] ` +
          `(${ownSize} values)`,
      );
    }
    return { input: info.name, array, arrayName, type: info.type, sampleShape, sampleSize };
  });
  const unused = arrayNames.filter((n) => !used.has(n));
  if (unused.length > 0) {
    fail(
      `dataset arrays ${unused.map((n) => `'${n}'`).join(", ")} match no model input ` +
        `(model inputs: ${inputs.map((i) => i.name).join(", ")})`,
    );
  }
  return plans;
}

/**
 * The feeds of chosen samples: each plan's array gathered at `sampleIndices`, scaled by
 * `preprocess` (`multiply`, `offset`; floating-point inputs only) and converted to the input's
 * element type, with dims `[sampleIndices.length, ...sampleShape]`.
 *
 * @param dataset The dataset the plans were made for.
 * @param plans The plans from {@linkcode planDatasetFeeds}.
 * @param sampleIndices The samples, in batch order; any order, repeats allowed.
 * @returns The feeds, by model input name.
 * @throws {RangeError} When an index is not a sample of the dataset.
 * @throws {DatasetFeedError} When an int64 or uint64 input would get a fraction.
 * @example
 * ```ts
 * import { datasetFeeds, loadDataset, planDatasetFeeds } from "@modelpress/evaluate";
 * const dataset = await loadDataset({ x: [[1, 2], [3, 4], [5, 6]] });
 * const plans = planDatasetFeeds(dataset, [{ name: "x", type: "float32", shape: ["n", 2] }]);
 * const feeds = datasetFeeds(dataset, plans, [2, 0]);
 * console.log(feeds.x?.data); // Float32Array [5, 6, 1, 2]
 * ```
 */
export function datasetFeeds(
  dataset: Dataset,
  plans: readonly DatasetFeedPlan[],
  sampleIndices: readonly number[],
): TensorMap {
  for (const i of sampleIndices) {
    if (!Number.isInteger(i) || i < 0 || i >= dataset.count) {
      throw new RangeError(
        `Cannot feed dataset '${dataset.name}': sample ${i} is not in [0, ${dataset.count})`,
      );
    }
  }
  const scale = {
    multiply: dataset.preprocess?.multiply ?? 1,
    offset: dataset.preprocess?.offset ?? 0,
  };
  const feeds: TensorMap = {};
  for (const plan of plans) {
    const dims = [sampleIndices.length, ...plan.sampleShape];
    feeds[plan.input] = feedTensor(dataset.name, plan, gather(plan, sampleIndices), dims, scale);
  }
  return feeds;
}

/**
 * A fresh copy of the chosen samples of a plan's array, in the array's own type.
 *
 * @param plan The plan.
 * @param indices The samples.
 * @returns The copy.
 */
function gather(plan: DatasetFeedPlan, indices: readonly number[]): NumericArray {
  const n = plan.sampleSize;
  const data = plan.array.data;
  const first = indices[0] ?? 0;
  // Whole batches of consecutive samples (evaluation) are one copy.
  if (indices.every((v, i) => v === first + i)) {
    return data.slice(first * n, (first + indices.length) * n);
  }
  const Ctor = data.constructor as new (length: number) => NumericArray;
  const out = new Ctor(indices.length * n);
  for (const [s, i] of indices.entries()) {
    out.set(data.subarray(i * n, (i + 1) * n) as never, s * n);
  }
  return out;
}

/**
 * Scales and converts gathered samples for a model input.
 *
 * @param datasetName The dataset's name, for messages.
 * @param plan The input's plan.
 * @param source The gathered samples (a fresh copy).
 * @param dims The tensor's dims.
 * @param scale `multiply` and `offset` for floating-point inputs.
 * @returns The tensor.
 */
function feedTensor(
  datasetName: string,
  plan: DatasetFeedPlan,
  source: NumericArray,
  dims: readonly number[],
  scale: { readonly multiply: number; readonly offset: number },
): Tensor {
  const { type } = plan;
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
  const toBigInt = (v: number | bigint): bigint => {
    if (typeof v === "bigint") return v;
    if (!Number.isInteger(v)) {
      throw new DatasetFeedError(
        datasetName,
        `input '${plan.input}' is ${type} and dataset array '${plan.arrayName}' holds ${v}`,
      );
    }
    return BigInt(v);
  };
  switch (type) {
    case "float32":
      return new Tensor(
        type,
        source instanceof Float32Array && !scaled ? source : Float32Array.from(numbers()),
        dims,
      );
    case "float64":
      return new Tensor(type, Float64Array.from(numbers()), dims);
    case "float16":
      return new Tensor(type, float32ToFloat16(numbers()), dims);
    case "int64":
      return new Tensor(
        type,
        BigInt64Array.from(source as ArrayLike<number | bigint>, toBigInt),
        dims,
      );
    case "uint64":
      return new Tensor(
        type,
        BigUint64Array.from(source as ArrayLike<number | bigint>, toBigInt),
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
 * Whether the argument is a graph rather than a list of inputs.
 *
 * @param value The argument.
 * @returns `true` for a graph.
 */
function isGraph(value: GraphProto | readonly ModelValueInfo[]): value is GraphProto {
  return !Array.isArray(value);
}

/**
 * The graph's real inputs: its inputs that are not initializers.
 *
 * @param graph The graph.
 * @returns Their names, element types and dims.
 */
function graphInputs(graph: GraphProto): ModelValueInfo[] {
  const initializers = new Set(graph.initializer.map((t) => t.name));
  return graph.input.filter((v) => !initializers.has(v.name)).map((v) => {
    const t = v.type === undefined ? undefined : tensorTypeOfType(v.type);
    return {
      name: v.name,
      type: elementTypeName(t?.elemType ?? 0),
      shape: t?.shape === undefined ? null : [...t.shape],
    };
  });
}
