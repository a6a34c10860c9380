/**
 * Calibration: running a model on data in onnxruntime-web with chosen intermediate tensors
 * exposed as outputs, keeping streaming statistics (min, max, histogram) per tensor.
 * @module
 */
import {
  decodeModel,
  encodeModel,
  float16ToFloat32,
  GraphIndex,
  type GraphProto,
  inferShapes,
  makeValueInfo,
  type ModelProto,
  TensorProto_DataType,
} from "@modelpress/onnx";
import {
  createSession,
  type Dataset,
  DatasetFeedError,
  datasetFeeds,
  planDatasetFeeds,
  runSession,
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

/** Options of {@linkcode calibrate}. */
export interface CalibrateOptions {
  /** The tensors to collect statistics of. Default: {@linkcode activationTensors}. */
  readonly tensors?: readonly string[];
  /**
   * Samples to run, spread evenly over the dataset (every `count / samples`-th, so that a
   * dataset sorted by class is sampled across classes). Default: all.
   */
  readonly samples?: number;
  /** Samples per run. Default 100. */
  readonly batchSize?: number;
  /** Histogram bins per tensor. Default 2048. */
  readonly bins?: number;
  /** onnxruntime-web execution providers. Default `["wasm"]`. */
  readonly executionProviders?: readonly string[];
  /** Cancels between batches. */
  readonly signal?: AbortSignal;
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
const T = TensorProto_DataType;

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
  const copy = decodeModel(encodeModel(model));
  const graph = copy.graph!;
  const tensors = [...new Set(options.tensors ?? activationTensors(model))];
  const inputs = graphInputs(graph);
  const fetched = exposeTensors(graph, tensors, inputs);
  const plans = inCalibrationWords(() => planDatasetFeeds(dataset, graph));
  const collectors = new Map(tensors.map((name) => [name, new HistogramCollector(bins)]));
  const session = await createSession(encodeModel(copy), {
    ...(options.executionProviders === undefined
      ? {}
      : { executionProviders: options.executionProviders }),
  });
  let batches = 0;
  try {
    onProgress?.({ done: 0, total: samples });
    for (let start = 0; start < samples; start += batchSize) {
      signal?.throwIfAborted();
      const picks: number[] = [];
      for (let i = start; i < Math.min(samples, start + batchSize); i++) {
        picks.push(Math.floor((i * dataset.count) / samples));
      }
      const feeds = inCalibrationWords(() => datasetFeeds(dataset, plans, picks));
      const outputs = fetched.length === 0
        ? {}
        : await runSession(session, feeds, { outputs: fetched });
      for (const [name, collector] of collectors) {
        const t = outputs[name] ?? feeds[name];
        collector.add(floatData(t!, name));
      }
      batches++;
      onProgress?.({ done: start + picks.length, total: samples });
    }
  } finally {
    await session.release();
  }
  const stats: Record<string, TensorStatistics> = {};
  for (const [name, c] of collectors) {
    stats[name] = { name, count: c.count, min: c.min, max: c.max, histogram: c.histogram() };
  }
  return { samples, batches, bins, tensors: stats, timeMs: performance.now() - started };
}

interface InputInfo {
  readonly name: string;
  readonly elemType: number;
}

function graphInputs(graph: GraphProto): InputInfo[] {
  const inits = new Set(graph.initializer.map((t) => t.name));
  return graph.input.filter((v) => !inits.has(v.name)).map((v) => {
    const t = v.type?.value.case === "tensorType" ? v.type.value.value : undefined;
    return { name: v.name, elemType: t?.elemType ?? 0 };
  });
}

/** Adds the tensors as graph outputs; returns the names to fetch (graph inputs come from feeds). */
function exposeTensors(
  graph: GraphProto,
  tensors: readonly string[],
  inputs: readonly InputInfo[],
): string[] {
  const index = new GraphIndex(graph);
  let types: Map<string, { elemType: number }> | undefined;
  const fetched: string[] = [];
  // Checked on the index first: the index refuses use after the graph changes.
  const added: string[] = [];
  for (const name of tensors) {
    const input = inputs.find((i) => i.name === name);
    if (input !== undefined) {
      if (input.elemType !== T.FLOAT && input.elemType !== T.FLOAT16) {
        throw new TypeError(`Cannot calibrate tensor '${name}': it is not float`);
      }
      continue;
    }
    if (index.producerOf(name) === undefined) {
      throw new TypeError(`Cannot calibrate tensor '${name}': no node of the main graph makes it`);
    }
    fetched.push(name);
    if (!index.isGraphOutput(name)) added.push(name);
  }
  for (const name of added) {
    if (types === undefined) {
      try {
        types = inferShapes(graph);
      } catch {
        types = new Map();
      }
    }
    const elemType = types.get(name)?.elemType || T.FLOAT;
    if (elemType !== T.FLOAT && elemType !== T.FLOAT16) {
      throw new TypeError(`Cannot calibrate tensor '${name}': it is not float`);
    }
    graph.output.push(makeValueInfo(name, elemType));
  }
  return fetched;
}

/** Runs `f`, rethrowing a dataset that does not fit the model in calibration's words. */
function inCalibrationWords<T>(f: () => T): T {
  try {
    return f();
  } catch (e) {
    if (e instanceof DatasetFeedError) {
      throw new TypeError(`Cannot calibrate model: ${e.reason}`, { cause: e });
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
