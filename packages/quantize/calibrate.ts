/**
 * Calibration: running a model on data in onnxruntime-web with chosen intermediate tensors
 * exposed as outputs, keeping streaming statistics (min, max, histogram) per tensor.
 * @module
 */
import { float16ToFloat32, GraphIndex, type ModelProto } from "@modelpress/onnx";
import {
  type Dataset,
  DatasetFeedError,
  ExposeTensorError,
  streamActivations,
  type StreamActivationsOptions,
  type Tensor,
} from "@modelpress/evaluate";
import { HistogramCollector, type HistogramData } from "./_histogram_collector.ts";
import { WEIGHT_OPS } from "./weight_slots.ts";

export type { HistogramData };

/** Progress of {@linkcode calibrate}. */
export interface CalibrationProgress {
  /** Samples run so far. */
  readonly done: number;
  /** Samples to run. */
  readonly total: number;
}

/**
 * Options of {@linkcode calibrate}. `samples` (default all, spread evenly over the dataset),
 * `batchSize` (default 100), `executionProviders` and `signal` are those of `streamActivations`
 * in `@modelpress/evaluate`.
 */
export interface CalibrateOptions
  extends
    Pick<StreamActivationsOptions, "samples" | "batchSize" | "executionProviders" | "signal"> {
  /** The tensors to collect statistics of. Default: {@linkcode activationTensors}. */
  readonly tensors?: readonly string[];
  /** Histogram bins per tensor. Default 2048. */
  readonly bins?: number;
  /** Called after each batch; an exception it throws aborts the calibration. */
  readonly onProgress?: (progress: CalibrationProgress) => void;
}

/** The statistics of one tensor. */
export interface TensorStatistics {
  /** The tensor's name. */
  readonly name: string;
  /** Finite values seen. */
  readonly count: number;
  /** Smallest finite value (Infinity without values). */
  readonly min: number;
  /** Largest finite value (-Infinity without values). */
  readonly max: number;
  /** The histogram (see {@linkcode HistogramData}). */
  readonly histogram: HistogramData;
}

/** What {@linkcode calibrate} collected. */
export interface CalibrationStatistics {
  /** Samples run. */
  readonly samples: number;
  /** Batches run. */
  readonly batches: number;
  /** Histogram bins per tensor. */
  readonly bins: number;
  /** Per tensor, by name. */
  readonly tensors: Readonly<Record<string, TensorStatistics>>;
  /** Milliseconds the calibration took. */
  readonly timeMs: number;
}

const DEFAULT_BINS = 2048;
const DEFAULT_BATCH_SIZE = 100;

/**
 * The activation inputs of the main graph's MatMul, Gemm, Conv, ConvTranspose, LSTM, GRU and
 * RNN nodes (their input 0 where it is not a constant), each once, in node order.
 *
 * @param model The model.
 * @returns The tensor names.
 * @example
 * ```ts
 * import { decodeModel } from "@modelpress/onnx";
 * import { activationTensors } from "@modelpress/quantize";
 * const model = decodeModel(await Deno.readFile("test/fixtures/mnist_mlp.onnx"));
 * activationTensors(model); // the input and the two Relu outputs
 * ```
 */
export function activationTensors(model: ModelProto): string[] {
  const graph = model.graph;
  if (graph === undefined) return [];
  const index = new GraphIndex(graph);
  const names: string[] = [];
  for (const node of graph.node) {
    if (!WEIGHT_OPS.includes(node.opType) || (node.domain !== "" && node.domain !== "ai.onnx")) {
      continue;
    }
    const x = node.input[0] ?? "";
    if (x === "" || names.includes(x) || index.constantOf(x) !== undefined) continue;
    names.push(x);
  }
  return names;
}

/**
 * Runs a model on (a sample of) a dataset in onnxruntime-web and collects, per tensor, the
 * running min and max and a histogram whose range grows with the data (old counts re-binned,
 * the bin count fixed), so memory is `bins` numbers per tensor whatever the dataset's size.
 * The tensors are exposed as extra outputs of a copy of the model; graph inputs are read from
 * the feeds. The model is not changed.
 *
 * @param model The float model.
 * @param dataset The data (see `loadDataset` of `@modelpress/evaluate`); its preprocessing is
 * applied.
 * @param options Tensors, samples, batch size, bins, progress and cancellation.
 * @returns The statistics.
 * @throws {TypeError} When the model has no graph, a tensor is not in it or not float, or the
 * dataset does not fit the model's inputs.
 * @throws {RangeError} When a count option is out of range.
 * @example
 * ```ts
 * import { decodeModel } from "@modelpress/onnx";
 * import { loadDataset } from "@modelpress/evaluate";
 * import { calibrate, calibrationRange } from "@modelpress/quantize";
 * const model = decodeModel(await Deno.readFile("test/fixtures/mnist_cnn.onnx"));
 * const stats = await calibrate(model, await loadDataset("mnist", { split: "train" }), {
 *   samples: 500,
 * });
 * for (const t of Object.values(stats.tensors)) {
 *   console.log(t.name, calibrationRange(t, { method: "entropy" }));
 * }
 * ```
 */
export async function calibrate(
  model: ModelProto,
  dataset: Dataset,
  options: CalibrateOptions = {},
): Promise<CalibrationStatistics> {
  const started = performance.now();
  const { signal, onProgress } = options;
  const bins = options.bins ?? DEFAULT_BINS;
  if (!(Number.isInteger(bins) && bins >= 2 && bins <= 1 << 20)) {
    throw new RangeError(`Cannot calibrate model: bins must be an integer 2..1048576, got ${bins}`);
  }
  const batchSize = options.batchSize ?? DEFAULT_BATCH_SIZE;
  if (!(Number.isInteger(batchSize) && batchSize >= 1)) {
    throw new RangeError(
      `Cannot calibrate model: batchSize must be a positive integer, got ${batchSize}`,
    );
  }
  const samples = Math.min(dataset.count, options.samples ?? dataset.count);
  if (!(Number.isInteger(samples) && samples >= 1)) {
    throw new RangeError(
      `Cannot calibrate model: samples must be a positive integer, got ${options.samples}`,
    );
  }
  signal?.throwIfAborted();
  if (model.graph === undefined) throw new TypeError("Cannot calibrate model: it has no graph");
  const tensors = [...new Set(options.tensors ?? activationTensors(model))];
  const collectors = new Map(tensors.map((name) => [name, new HistogramCollector(bins)]));
  const { batches } = await inCalibrationWords(() =>
    streamActivations(model, dataset, {
      tensors,
      samples,
      batchSize,
      floatOnly: true,
      ...(options.executionProviders === undefined
        ? {}
        : { executionProviders: options.executionProviders }),
      ...(signal === undefined ? {} : { signal }),
      onStart: (total) => onProgress?.({ done: 0, total }),
      onBatch: ({ tensors: values, done, total }) => {
        for (const [name, collector] of collectors) collector.add(floatData(values[name]!, name));
        onProgress?.({ done, total });
      },
    })
  );
  const stats: Record<string, TensorStatistics> = {};
  for (const [name, c] of collectors) {
    stats[name] = { name, count: c.count, min: c.min, max: c.max, histogram: c.histogram() };
  }
  return { samples, batches, bins, tensors: stats, timeMs: performance.now() - started };
}

/**
 * Runs `f`, rethrowing a dataset that does not fit the model or a tensor that cannot be exposed
 * in calibration's words.
 */
async function inCalibrationWords<T>(f: () => Promise<T>): Promise<T> {
  try {
    return await f();
  } catch (e) {
    if (e instanceof DatasetFeedError) {
      throw new TypeError(`Cannot calibrate model: ${e.reason}`, { cause: e });
    }
    if (e instanceof ExposeTensorError) {
      throw new TypeError(`Cannot calibrate tensor '${e.tensor}': ${e.reason}`, { cause: e });
    }
    throw e;
  }
}

function floatData(t: Tensor, name: string): ArrayLike<number> {
  if (t.type === "float32") return t.data as Float32Array;
  if (t.type === "float16") {
    const data = t.data as unknown;
    return data instanceof Uint16Array ? float16ToFloat32(data) : data as ArrayLike<number>;
  }
  throw new TypeError(`Cannot calibrate tensor '${name}': it is ${t.type}, not float`);
}
