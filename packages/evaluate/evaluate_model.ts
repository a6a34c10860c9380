/**
 * Evaluates an ONNX model: accuracy on a labelled dataset, output fidelity against a reference
 * model, latency and size, in one call ({@link evaluateModel}).
 *
 * Contract:
 * - Phases run in this order: `accuracy` (one pass over the dataset; with a `reference` the same
 *   pass also compares outputs and reports the phase as `fidelity`), `latency`, `size`. A phase
 *   is skipped when it has nothing to do: no dataset means no accuracy or fidelity; a dataset
 *   without labels gives no accuracy; `latency: false` skips latency.
 * - The dataset is read in batches of `batchSize`; accuracy and fidelity are accumulated batch by
 *   batch, so memory does not grow with the dataset. `limit` evaluates the first samples only.
 * - Accuracy scores `output` (default: the model's first output): the prediction is the first
 *   maximum of each sample's scores.
 * - Fidelity compares every output the model and the reference share by name (each output is
 *   one entry of `fidelity`); a reference with none in common is a TypeError.
 * - Latency runs on the first `latency.batchSize` samples of the dataset (after preprocessing),
 *   or on zero-filled inputs of the declared shapes (symbolic dims = the batch size) without one.
 * - Size (always): bytes, gzip bytes, parameters, sparsity, and MACs per sample (every symbolic
 *   dim 1) at the dataset's sample shapes or the declared ones.
 * - `onProgress` is called at the start and end of each phase and after every batch or run;
 *   `done`/`total` count samples (accuracy, fidelity), runs (latency) or steps (size).
 * - `signal` cancels between batches and runs: the promise rejects with the signal's reason (a
 *   `DOMException` named `AbortError` unless the caller gave another). Sessions are released in
 *   every case before the promise settles.
 * - The report is plain data. Every number is finite except `fidelity[*].sqnrDb`, which is
 *   `Infinity` for identical outputs; {@link reportToJson} keeps it (plain `JSON.stringify` turns
 *   it into `null`).
 * - Errors: RangeError or TypeError for bad options (naming the option), SyntaxError / Error from
 *   the ONNX parser or runtime for an invalid model, with messages "Cannot evaluate model: ...".
 * @module
 */
import * as ort from "onnxruntime-web";
import {
  decodeModel,
  type GraphProto,
  tensorTypeOfType,
  type ValueInfoProto,
} from "@modelpress/onnx";
import type { Dataset } from "./dataset.ts";
import { AccuracyMeter, type AccuracyReport } from "./accuracy.ts";
import { FidelityMeter, type FidelityReport } from "./fidelity.ts";
import { type LatencyOptions, type LatencyReport, measureLatency } from "./latency.ts";
import { measureModelSize, type SizeReport } from "./model_size.ts";
import { createSession, runSession, type Session, Tensor, type TensorMap } from "./session.ts";
import { elementTypeName } from "./_type_names.ts";
import { batches, type FeedPlan, planFeeds } from "./_batches.ts";

/** The phases of an evaluation, in the order they run. */
export type EvaluationPhase = "accuracy" | "fidelity" | "latency" | "size";

/** Progress of an evaluation, reported through {@link EvaluateOptions.onProgress}. */
export interface EvaluationProgress {
  /** The phase running. */
  readonly phase: EvaluationPhase;
  /** Units done in this phase: samples (accuracy, fidelity), runs (latency), steps (size). */
  readonly done: number;
  /** Units planned in this phase (for a latency budget, an estimate). */
  readonly total: number;
  /** Samples per second in this phase so far (0 at its start and for `size`). */
  readonly samplesPerSecond: number;
}

/** Options of {@link evaluateModel}. */
export interface EvaluateOptions {
  /** Inputs (and labels) to evaluate on (see `loadDataset`); without one, no accuracy/fidelity. */
  readonly dataset?: Dataset;
  /** A reference model (serialized ONNX) to compare outputs with, on the same inputs. */
  readonly reference?: Uint8Array;
  /** Samples per run in the accuracy/fidelity pass (default 100). */
  readonly batchSize?: number;
  /** The ks of top-k accuracy (default `[5]`; top-1 is always reported). */
  readonly topK?: readonly number[];
  /** The output scored for accuracy (default: the model's first output). */
  readonly output?: string;
  /** Evaluate the first `limit` samples of the dataset only (default all). */
  readonly limit?: number;
  /** Latency settings, or `false` to skip latency (default `{}`: 3 warm-up runs, 20 runs, batch 1). */
  readonly latency?: LatencyOptions | false;
  /** Concrete input shapes for MACs, by input name (default: see the module doc). */
  readonly inputShapes?: Readonly<Record<string, readonly number[]>>;
  /** onnxruntime-web WebAssembly threads (default 1; fixed per process, see `createSession`). */
  readonly threads?: number;
  /** Execution providers (default `["wasm"]`). */
  readonly executionProviders?: readonly string[];
  /** Cancels the evaluation (see the module doc). */
  readonly signal?: AbortSignal;
  /** Receives progress (see the module doc); an exception it throws aborts the evaluation. */
  readonly onProgress?: (progress: EvaluationProgress) => void;
}

/** A model input or output as declared. */
export interface ModelValueInfo {
  /** Its name. */
  readonly name: string;
  /** Its element type (`float32`, `int64`, ...; `unknown` when undeclared). */
  readonly type: string;
  /** Its dims: a size, a symbolic name, or `null` when unknown; `null` for unknown rank. */
  readonly shape: readonly (number | string | null)[] | null;
}

/** What was evaluated. */
export interface EvaluatedModel {
  /** Bytes of the serialized model. */
  readonly bytes: number;
  /** SHA-256 of the serialized model, lower-case hex. */
  readonly sha256: string;
  /** Graph inputs (initializers excluded). */
  readonly inputs: readonly ModelValueInfo[];
  /** Graph outputs. */
  readonly outputs: readonly ModelValueInfo[];
}

/** The dataset part of a report. */
export interface EvaluatedDataset {
  /** The dataset's name. */
  readonly name: string;
  /** Samples in the dataset. */
  readonly count: number;
  /** Samples evaluated (`min(count, limit)`). */
  readonly evaluated: number;
  /** Samples per run. */
  readonly batchSize: number;
  /** Whether the dataset has labels. */
  readonly labelled: boolean;
}

/** The reference part of a report. */
export interface EvaluatedReference {
  /** Bytes of the serialized reference model. */
  readonly bytes: number;
  /** SHA-256 of the serialized reference model, lower-case hex. */
  readonly sha256: string;
}

/** Which runtime ran the model. */
export interface EvaluationBackend {
  /** Always `onnxruntime-web`. */
  readonly runtime: "onnxruntime-web";
  /** Its version. */
  readonly version: string;
  /** The execution providers asked for, in order. */
  readonly executionProviders: readonly string[];
  /** WebAssembly threads. */
  readonly threads: number;
}

/** Wall-clock milliseconds of each part of an evaluation. */
export interface EvaluationTimings {
  /** Whole call. */
  readonly totalMs: number;
  /** Parsing the model(s) and creating the sessions. */
  readonly loadMs: number;
  /** The accuracy/fidelity pass, when it ran. */
  readonly datasetMs?: number;
  /** The latency phase, when it ran. */
  readonly latencyMs?: number;
  /** The size phase. */
  readonly sizeMs: number;
}

/** The result of {@link evaluateModel}; plain data (see the module doc about JSON). */
export interface EvaluationReport {
  /** The model evaluated. */
  readonly model: EvaluatedModel;
  /** The dataset, when one was given. */
  readonly dataset?: EvaluatedDataset;
  /** The reference model, when one was given. */
  readonly reference?: EvaluatedReference;
  /** Accuracy, when the dataset has labels. */
  readonly accuracy?: AccuracyReport;
  /** Fidelity per output name, when a reference was given. */
  readonly fidelity?: Readonly<Record<string, FidelityReport>>;
  /** Latency, unless skipped. */
  readonly latency?: LatencyReport;
  /** Size and MACs. */
  readonly size: SizeReport;
  /** Where the time went. */
  readonly timings: EvaluationTimings;
  /** The runtime. */
  readonly backend: EvaluationBackend;
}

/**
 * Evaluates a model: accuracy, fidelity, latency and size (see the module doc for the contract).
 *
 * @param model The serialized ONNX model.
 * @param options Dataset, reference, batch size, top-k, limit, latency, threads, signal and
 * progress callback.
 * @returns The report.
 * @throws {RangeError} When a numeric option is out of range.
 * @throws {TypeError} When the dataset does not fit the model or the reference shares no output.
 * @throws {Error} When a model cannot be parsed or run (the cause attached).
 * @throws {DOMException} The signal's reason when cancelled.
 * @example
 * ```ts
 * import { evaluateModel, loadDataset } from "@modelpress/evaluate";
 * const report = await evaluateModel(await Deno.readFile("test/fixtures/mnist_mlp.onnx"), {
 *   dataset: await loadDataset("mnist"),
 *   latency: { runs: 50 },
 * });
 * console.log(report.accuracy?.top1, report.latency?.p50Ms, report.size.macs?.total);
 * ```
 */
export async function evaluateModel(
  model: Uint8Array,
  options: EvaluateOptions = {},
): Promise<EvaluationReport> {
  const started = performance.now();
  const { dataset, reference, signal, onProgress } = options;
  const batchSize = positiveInteger("batchSize", options.batchSize ?? DEFAULT_BATCH_SIZE);
  const limit = options.limit ?? Infinity;
  if (!(limit === Infinity || (Number.isInteger(limit) && limit >= 0))) {
    throw new RangeError(
      `Cannot evaluate model: limit must be a non-negative integer, got ${limit}`,
    );
  }
  const latencyOptions = options.latency === false ? undefined : options.latency ?? {};
  const threads = options.threads ?? 1;
  const executionProviders = [...(options.executionProviders ?? ["wasm"])];
  signal?.throwIfAborted();

  const decoded = decodeModel(model);
  const graph = decoded.graph;
  if (graph === undefined) throw new TypeError("Cannot evaluate model: the model has no graph");
  const inputs = graphInputs(graph);
  const evaluated: EvaluatedModel = {
    bytes: model.length,
    sha256: await sha256(model),
    inputs,
    outputs: graph.output.map(valueInfo),
  };
  let session: Session | undefined;
  let referenceSession: Session | undefined;
  try {
    session = await createSession(model, { threads, executionProviders });
    if (reference !== undefined) {
      referenceSession = await createSession(reference, { threads, executionProviders });
    }
    const loadMs = performance.now() - started;
    signal?.throwIfAborted();

    let datasetPart: Pick<EvaluationReport, "dataset" | "accuracy" | "fidelity"> = {};
    let plans: FeedPlan[] | undefined;
    let datasetMs: number | undefined;
    if (dataset !== undefined) {
      const t0 = performance.now();
      plans = planFeeds(dataset, inputs);
      datasetPart = await datasetPass(session, referenceSession, {
        dataset,
        plans,
        batchSize,
        limit,
        topK: options.topK,
        output: options.output,
        signal,
        onProgress,
      });
      datasetMs = performance.now() - t0;
    } else if (reference !== undefined) {
      throw new TypeError("Cannot evaluate model: comparing with a reference needs a dataset");
    }

    let latency: LatencyReport | undefined;
    let latencyMs: number | undefined;
    if (latencyOptions !== undefined) {
      const t0 = performance.now();
      const runBatch = positiveInteger("latency.batchSize", latencyOptions.batchSize ?? 1);
      const feeds = dataset !== undefined && plans !== undefined
        ? firstBatch(dataset, plans, runBatch)
        : zeroFeeds(inputs, runBatch);
      const actualBatch = Object.values(feeds)[0]?.dims[0] ?? runBatch;
      onProgress?.({
        phase: "latency",
        done: 0,
        total: latencyOptions.runs ?? 0,
        samplesPerSecond: 0,
      });
      latency = await measureLatency(session, feeds, {
        ...latencyOptions,
        batchSize: actualBatch,
        ...(signal === undefined ? {} : { signal }),
        onRun: (done, total) => {
          const elapsed = performance.now() - t0;
          onProgress?.({
            phase: "latency",
            done,
            total,
            samplesPerSecond: elapsed > 0 ? (done * actualBatch * 1000) / elapsed : 0,
          });
        },
      });
      latencyMs = performance.now() - t0;
    }

    const t0 = performance.now();
    onProgress?.({ phase: "size", done: 0, total: 1, samplesPerSecond: 0 });
    const inputShapes = options.inputShapes ??
      (plans === undefined
        ? undefined
        : Object.fromEntries(plans.map((p) => [p.input, [1, ...p.sampleShape]])));
    const size = await measureModelSize(model, {
      model: decoded,
      macs: inputShapes === undefined ? { batchSize: 1 } : { inputShapes, batchSize: 1 },
    });
    signal?.throwIfAborted();
    onProgress?.({ phase: "size", done: 1, total: 1, samplesPerSecond: 0 });
    const sizeMs = performance.now() - t0;

    return {
      model: evaluated,
      ...datasetPart,
      ...(reference === undefined
        ? {}
        : { reference: { bytes: reference.length, sha256: await sha256(reference) } }),
      ...(latency === undefined ? {} : { latency }),
      size,
      timings: {
        totalMs: performance.now() - started,
        loadMs,
        ...(datasetMs === undefined ? {} : { datasetMs }),
        ...(latencyMs === undefined ? {} : { latencyMs }),
        sizeMs,
      },
      backend: {
        runtime: "onnxruntime-web",
        version: ort.env.versions?.web ?? "unknown",
        executionProviders,
        threads: ort.env.wasm.numThreads ?? threads,
      },
    };
  } finally {
    await Promise.allSettled([session?.release(), referenceSession?.release()]);
  }
}

const DEFAULT_BATCH_SIZE = 100;

/**
 * Checks a positive integer option.
 *
 * @param name The option.
 * @param value Its value.
 * @returns The value.
 */
function positiveInteger(name: string, value: number): number {
  if (!Number.isInteger(value) || value < 1) {
    throw new RangeError(`Cannot evaluate model: ${name} must be a positive integer, got ${value}`);
  }
  return value;
}

/**
 * SHA-256 of bytes in lower-case hex.
 *
 * @param bytes The bytes.
 * @returns The digest.
 */
async function sha256(bytes: Uint8Array): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-256", bytes as Uint8Array<ArrayBuffer>);
  return Array.from(new Uint8Array(digest), (b) => b.toString(16).padStart(2, "0")).join("");
}

/**
 * A value info as the report shows it.
 *
 * @param info The ONNX value info.
 * @returns Its name, type and shape.
 */
function valueInfo(info: ValueInfoProto): ModelValueInfo {
  const type = info.type === undefined ? undefined : tensorTypeOfType(info.type);
  return {
    name: info.name,
    type: elementTypeName(type?.elemType ?? 0),
    shape: type?.shape === undefined ? null : [...type.shape],
  };
}

/**
 * The graph's real inputs: its inputs that are not initializers.
 *
 * @param graph The graph.
 * @returns Their value infos.
 */
function graphInputs(graph: GraphProto): ModelValueInfo[] {
  const initializers = new Set(graph.initializer.map((t) => t.name));
  return graph.input.filter((v) => !initializers.has(v.name)).map(valueInfo);
}

/**
 * The first batch of a dataset, for timing.
 *
 * @param dataset The dataset.
 * @param plans The feed plans.
 * @param batchSize Samples wanted.
 * @returns The feeds (fewer samples when the dataset is smaller).
 */
function firstBatch(dataset: Dataset, plans: readonly FeedPlan[], batchSize: number): TensorMap {
  for (const batch of batches(dataset, { plans, batchSize, limit: batchSize })) return batch.feeds;
  throw new RangeError(`Cannot evaluate latency: dataset '${dataset.name}' has no samples`);
}

/**
 * Zero-filled inputs of the declared shapes, symbolic first dims set to the batch size and
 * other symbolic dims to 1.
 *
 * @param inputs The model's inputs.
 * @param batchSize The batch size.
 * @returns The feeds.
 */
function zeroFeeds(inputs: readonly ModelValueInfo[], batchSize: number): TensorMap {
  const feeds: TensorMap = {};
  for (const input of inputs) {
    if (input.shape === null) {
      throw new TypeError(
        `Cannot evaluate latency: input '${input.name}' has no declared shape; give a dataset`,
      );
    }
    const dims = input.shape.map((d, i) => (typeof d === "number" ? d : i === 0 ? batchSize : 1));
    const n = dims.reduce((p, d) => p * d, 1);
    const Ctor = ZERO_ARRAYS[input.type];
    if (Ctor === undefined) {
      throw new TypeError(
        `Cannot evaluate latency: input '${input.name}' has element type ${input.type}; give a dataset`,
      );
    }
    feeds[input.name] = new Tensor(input.type as "float32", new Ctor(n) as Float32Array, dims);
  }
  return feeds;
}

const ZERO_ARRAYS: Readonly<Record<string, new (n: number) => ArrayBufferView>> = {
  float32: Float32Array,
  float64: Float64Array,
  float16: Uint16Array,
  int8: Int8Array,
  uint8: Uint8Array,
  int16: Int16Array,
  uint16: Uint16Array,
  int32: Int32Array,
  uint32: Uint32Array,
  int64: BigInt64Array,
  uint64: BigUint64Array,
  bool: Uint8Array,
};

/** What {@link datasetPass} needs. */
interface DatasetPassOptions {
  readonly dataset: Dataset;
  readonly plans: readonly FeedPlan[];
  readonly batchSize: number;
  readonly limit: number;
  readonly topK: readonly number[] | undefined;
  readonly output: string | undefined;
  readonly signal: AbortSignal | undefined;
  readonly onProgress: ((progress: EvaluationProgress) => void) | undefined;
}

/**
 * Values of an output tensor as numbers.
 *
 * @param tensor The tensor.
 * @returns Its data, as numbers.
 */
function numbers(tensor: Tensor): ArrayLike<number> {
  const data = tensor.data;
  if (data instanceof BigInt64Array || data instanceof BigUint64Array) {
    return Array.from(data, Number);
  }
  if (ArrayBuffer.isView(data)) return data as unknown as ArrayLike<number>;
  throw new TypeError(`Cannot evaluate model: an output holds ${tensor.type} values, not numbers`);
}

/**
 * The pass over the dataset: accuracy, and fidelity when there is a reference.
 *
 * @param session The model's session.
 * @param referenceSession The reference's session, if any.
 * @param options Dataset, plans, batching, metrics options, signal and progress.
 * @returns The dataset, accuracy and fidelity parts of the report.
 */
async function datasetPass(
  session: Session,
  referenceSession: Session | undefined,
  options: DatasetPassOptions,
): Promise<Pick<EvaluationReport, "dataset" | "accuracy" | "fidelity">> {
  const { dataset, signal, onProgress } = options;
  const output = options.output ?? session.outputNames[0];
  if (output === undefined || !session.outputNames.includes(output)) {
    throw new TypeError(
      `Cannot evaluate model: output '${output}' is not an output of the model (outputs: ${
        session.outputNames.join(", ")
      })`,
    );
  }
  const accuracy = dataset.labels === undefined
    ? undefined
    : new AccuracyMeter({ output, ...(options.topK === undefined ? {} : { topK: options.topK }) });
  const shared = referenceSession === undefined
    ? []
    : session.outputNames.filter((n) => referenceSession.outputNames.includes(n));
  if (referenceSession !== undefined && shared.length === 0) {
    throw new TypeError(
      `Cannot evaluate model: the reference shares no output with the model (model: ${
        session.outputNames.join(", ")
      }; reference: ${referenceSession.outputNames.join(", ")})`,
    );
  }
  const fidelity = new Map(shared.map((name) => [name, new FidelityMeter({ output: name })]));
  const total = Math.min(dataset.count, options.limit);
  const phase: EvaluationPhase = referenceSession === undefined ? "accuracy" : "fidelity";
  const t0 = performance.now();
  let done = 0;
  onProgress?.({ phase, done, total, samplesPerSecond: 0 });
  for (
    const batch of batches(dataset, {
      plans: options.plans,
      batchSize: options.batchSize,
      limit: options.limit,
    })
  ) {
    const outputs = await runSession(session, batch.feeds);
    if (accuracy !== undefined && batch.labels !== undefined) {
      accuracy.add(numbers(outputs[output]!), batch.labels);
    }
    if (referenceSession !== undefined) {
      const expected = await runSession(referenceSession, batch.feeds, { outputs: shared });
      for (const [name, meter] of fidelity) {
        const actual = outputs[name]!;
        const dims = actual.dims;
        meter.add(numbers(actual), numbers(expected[name]!), {
          samples: batch.count,
          rowLength: dims.length > 1 ? dims[dims.length - 1]! : actual.size / batch.count,
        });
      }
    }
    done += batch.count;
    signal?.throwIfAborted();
    const elapsed = performance.now() - t0;
    onProgress?.({
      phase,
      done,
      total,
      samplesPerSecond: elapsed > 0 ? (done * 1000) / elapsed : 0,
    });
  }
  return {
    dataset: {
      name: dataset.name,
      count: dataset.count,
      evaluated: total,
      batchSize: options.batchSize,
      labelled: dataset.labels !== undefined,
    },
    ...(accuracy === undefined ? {} : { accuracy: accuracy.report() }),
    ...(referenceSession === undefined
      ? {}
      : { fidelity: Object.fromEntries([...fidelity].map(([name, m]) => [name, m.report()])) }),
  };
}
