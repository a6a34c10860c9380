/**
 * Intermediate activations of a model on a dataset: a copy of the model with chosen tensors
 * added as graph outputs ({@linkcode exposeTensors}), run in onnxruntime-web on evenly spread
 * samples of a dataset, batch by batch ({@linkcode streamActivations}). Calibration
 * (`@modelpress/quantize`) and activation-aware pruning (`@modelpress/prune`) keep their own
 * statistics on top.
 * @module
 */
import {
  decodeModel,
  encodeModel,
  GraphIndex,
  type GraphProto,
  inferShapes,
  makeValueInfo,
  type ModelProto,
  TensorProto_DataType,
} from "@modelpress/onnx";
import type { Dataset } from "./dataset.ts";
import { datasetFeeds, planDatasetFeeds } from "./dataset_feeds.ts";
import { createSession, runSession, type Session, type Tensor } from "./session.ts";

/**
 * A tensor that cannot be exposed. Callers that want their own message prefix rethrow `tensor`
 * and `reason` under it (as with `DatasetFeedError`).
 */
export class ExposeTensorError extends TypeError {
  /** The tensor's name. */
  readonly tensor: string;
  /** Why, without the "Cannot expose tensor" prefix. */
  readonly reason: string;

  /**
   * @param tensor The tensor's name.
   * @param reason Why it cannot be exposed.
   */
  constructor(tensor: string, reason: string) {
    super(`Cannot expose tensor '${tensor}': ${reason}`);
    this.name = "ExposeTensorError";
    this.tensor = tensor;
    this.reason = reason;
  }
}

/** Options of {@linkcode exposeTensors}. */
export interface ExposeTensorsOptions {
  /**
   * Refuse a tensor (graph inputs included) whose element type is not float32 or float16.
   * Default false.
   */
  readonly floatOnly?: boolean;
}

/**
 * A copy of a model whose main graph outputs the given tensors too. A graph input is left as it
 * is (its values are the feeds) and so is a tensor that already is an output; any other tensor
 * must be made by a node of the main graph and is appended to the outputs, typed by shape
 * inference (float32 where inference cannot tell), without a shape. The model is not changed.
 *
 * @param model The model.
 * @param tensors The tensors' names (repeats allowed).
 * @param options Whether only float tensors are allowed.
 * @returns The copy.
 * @throws {TypeError} When the model has no graph.
 * @throws {ExposeTensorError} When a tensor is no graph input and no node of the main graph makes
 * it, or (with `floatOnly`) it is not float.
 * @example
 * ```ts
 * import { decodeModel } from "@modelpress/onnx";
 * import { exposeTensors } from "@modelpress/evaluate";
 * const model = decodeModel(await Deno.readFile("test/fixtures/mnist_mlp.onnx"));
 * const exposed = exposeTensors(model, ["relu1_out"]);
 * console.log(exposed.graph?.output.map((o) => o.name)); // ["logits", "relu1_out"]
 * ```
 */
export function exposeTensors(
  model: ModelProto,
  tensors: readonly string[],
  options: ExposeTensorsOptions = {},
): ModelProto {
  if (model.graph === undefined) {
    throw new TypeError("Cannot expose tensors: the model has no graph");
  }
  const floatOnly = options.floatOnly ?? false;
  const copy = decodeModel(encodeModel(model));
  const graph = copy.graph!;
  const inputs = graphInputTypes(graph);
  const index = new GraphIndex(graph);
  // Checked on the index first: the index refuses use once the graph changes.
  const added: string[] = [];
  for (const name of new Set(tensors)) {
    const inputType = inputs.get(name);
    if (inputType !== undefined) {
      if (floatOnly && !isFloat(inputType)) throw new ExposeTensorError(name, "it is not float");
      continue;
    }
    if (index.producerOf(name) === undefined) {
      throw new ExposeTensorError(name, "no node of the main graph makes it");
    }
    if (!index.isGraphOutput(name)) added.push(name);
  }
  let types: Map<string, { elemType: number }> | undefined;
  for (const name of added) {
    if (types === undefined) {
      try {
        types = inferShapes(graph);
      } catch {
        types = new Map();
      }
    }
    const elemType = types.get(name)?.elemType || TensorProto_DataType.FLOAT;
    if (floatOnly && !isFloat(elemType)) throw new ExposeTensorError(name, "it is not float");
    graph.output.push(makeValueInfo(name, elemType));
  }
  return copy;
}

/** One batch of {@linkcode streamActivations}. */
export interface ActivationBatch {
  /** Position of the batch's first sample among the samples run (0, batchSize, ...). */
  readonly start: number;
  /** The dataset's indices of the batch's samples, in batch order. */
  readonly sampleIndices: readonly number[];
  /** Samples run so far, this batch included. */
  readonly done: number;
  /** Samples to run in all. */
  readonly total: number;
  /**
   * Each requested tensor's values for the batch, by name (a graph input's are its feeds, after
   * the dataset's preprocessing).
   */
  readonly tensors: Readonly<Record<string, Tensor>>;
}

/** Options of {@linkcode streamActivations}. */
export interface StreamActivationsOptions {
  /** The tensors to read: graph inputs or tensors made by nodes of the main graph. */
  readonly tensors: readonly string[];
  /**
   * Samples to run, spread evenly over the dataset (sample `floor(i * count / samples)` for
   * i = 0..samples-1, so that a dataset sorted by class is sampled across classes); more than
   * the dataset has means all. Default: all.
   */
  readonly samples?: number;
  /** Samples per run. Default 100. */
  readonly batchSize?: number;
  /** Refuse tensors that are not float (see {@linkcode ExposeTensorsOptions}). Default false. */
  readonly floatOnly?: boolean;
  /** onnxruntime-web execution providers. Default `["wasm"]`. */
  readonly executionProviders?: readonly string[];
  /** Cancels before each batch (the promise rejects with the signal's reason). */
  readonly signal?: AbortSignal;
  /**
   * Called once the model is loaded, before the first batch, with the samples to run; an
   * exception it throws ends the stream.
   */
  readonly onStart?: (total: number) => void;
  /** Called with each batch and awaited; an exception it throws ends the stream. */
  readonly onBatch: (batch: ActivationBatch) => void | Promise<void>;
}

/** What {@linkcode streamActivations} ran. */
export interface StreamedActivations {
  /** Samples run. */
  readonly samples: number;
  /** Batches run. */
  readonly batches: number;
}

const DEFAULT_BATCH_SIZE = 100;

/**
 * Runs a model on (a sample of) a dataset in onnxruntime-web and hands each batch's values of
 * chosen intermediate tensors to a callback, one batch in memory at a time. The tensors are
 * exposed as extra outputs of a copy ({@linkcode exposeTensors}); graph inputs are read from
 * the feeds, and no session is made when only they are asked for. The session is released in
 * every case before the promise settles. The model is not changed.
 *
 * @param model The model.
 * @param dataset The data (see `loadDataset`); its preprocessing is applied.
 * @param options Tensors, samples, batch size, execution providers, cancellation and callbacks.
 * @returns How many samples and batches ran.
 * @throws {RangeError} When `samples` or `batchSize` is not a positive integer.
 * @throws {TypeError} When the model has no graph.
 * @throws {ExposeTensorError} When a tensor cannot be exposed.
 * @throws {DatasetFeedError} When the dataset does not fit the model's inputs.
 * @throws {Error} When the runtime cannot load or run the model.
 * @example
 * ```ts
 * import { decodeModel } from "@modelpress/onnx";
 * import { loadDataset, streamActivations } from "@modelpress/evaluate";
 * const model = decodeModel(await Deno.readFile("test/fixtures/mnist_mlp.onnx"));
 * let max = -Infinity;
 * await streamActivations(model, await loadDataset("mnist"), {
 *   tensors: ["relu1_out"],
 *   samples: 500,
 *   onBatch: ({ tensors }) => {
 *     for (const v of tensors.relu1_out!.data as Float32Array) max = Math.max(max, v);
 *   },
 * });
 * ```
 */
export async function streamActivations(
  model: ModelProto,
  dataset: Dataset,
  options: StreamActivationsOptions,
): Promise<StreamedActivations> {
  const { signal, onStart, onBatch } = options;
  const batchSize = options.batchSize ?? DEFAULT_BATCH_SIZE;
  if (!(Number.isInteger(batchSize) && batchSize >= 1)) {
    throw new RangeError(
      `Cannot stream activations: batchSize must be a positive integer, got ${batchSize}`,
    );
  }
  if (
    options.samples !== undefined && !(Number.isInteger(options.samples) && options.samples >= 1)
  ) {
    throw new RangeError(
      `Cannot stream activations: samples must be a positive integer, got ${options.samples}`,
    );
  }
  const total = Math.min(dataset.count, options.samples ?? dataset.count);
  signal?.throwIfAborted();
  const tensors = [...new Set(options.tensors)];
  const copy = exposeTensors(model, tensors, { floatOnly: options.floatOnly ?? false });
  const graph = copy.graph!;
  const inputs = graphInputTypes(graph);
  const fetched = tensors.filter((name) => !inputs.has(name));
  const plans = planDatasetFeeds(dataset, graph);
  let session: Session | undefined;
  if (fetched.length > 0) {
    session = await createSession(encodeModel(copy), {
      ...(options.executionProviders === undefined
        ? {}
        : { executionProviders: options.executionProviders }),
    });
  }
  let batches = 0;
  try {
    onStart?.(total);
    for (let start = 0; start < total; start += batchSize) {
      signal?.throwIfAborted();
      const sampleIndices: number[] = [];
      for (let i = start; i < Math.min(total, start + batchSize); i++) {
        sampleIndices.push(Math.floor((i * dataset.count) / total));
      }
      const feeds = datasetFeeds(dataset, plans, sampleIndices);
      const outputs = session === undefined
        ? {}
        : await runSession(session, feeds, { outputs: fetched });
      const values: Record<string, Tensor> = {};
      for (const name of tensors) values[name] = (outputs[name] ?? feeds[name])!;
      batches++;
      const done = start + sampleIndices.length;
      await onBatch({ start, sampleIndices, done, total, tensors: values });
    }
  } finally {
    await session?.release();
  }
  return { samples: total, batches };
}

/**
 * The element types of the graph's real inputs (those that are not initializers).
 *
 * @param graph The graph.
 * @returns Element type by input name (0 when undeclared).
 */
function graphInputTypes(graph: GraphProto): Map<string, number> {
  const initializers = new Set(graph.initializer.map((t) => t.name));
  return new Map(
    graph.input.filter((v) => !initializers.has(v.name)).map((v) => {
      const t = v.type?.value.case === "tensorType" ? v.type.value.value : undefined;
      return [v.name, t?.elemType ?? 0];
    }),
  );
}

/**
 * Whether an element type is float32 or float16.
 *
 * @param elemType The ONNX element type.
 * @returns `true` for those two.
 */
function isFloat(elemType: number): boolean {
  return elemType === TensorProto_DataType.FLOAT || elemType === TensorProto_DataType.FLOAT16;
}
