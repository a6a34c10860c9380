/**
 * Input-activation feature norms over calibration data, for Wanda and activation importance:
 * the model runs in onnxruntime-web with the wanted tensors exposed as extra outputs.
 * @module
 */
import {
  decodeModel,
  encodeModel,
  GraphIndex,
  makeValueInfo,
  type ModelProto,
  TensorProto_DataType,
} from "@modelpress/onnx";
import {
  createSession,
  type Dataset,
  datasetFeeds,
  planDatasetFeeds,
  runSession,
} from "@modelpress/evaluate";
import type { Kernels } from "@modelpress/kernels";

/** One tensor whose feature norms are wanted. */
export interface NormRequest {
  /** The value's name (a graph input or a node output). */
  readonly name: string;
  /** The feature axis (negative counts from the end): Gemm/MatMul inputs -1, Conv inputs 1. */
  readonly axis: number;
}

/** Options of {@linkcode activationNorms}. */
export interface ActivationNormsOptions {
  /** The kernels that reduce. */
  readonly kernels: Kernels;
  /** Samples run, spread evenly over the dataset. Default 256. */
  readonly samples?: number;
  /** Samples per run. Default 64. */
  readonly batchSize?: number;
  /** Called after each batch with samples done and total. */
  readonly onProgress?: (done: number, total: number) => void;
  /** Cancels between batches. */
  readonly signal?: AbortSignal;
}

/**
 * The L2 norm of every feature of the given tensors over (a sample of) a dataset:
 * ||X_j||_2 = sqrt(sum over samples and other axes of x_j^2).
 *
 * @param model The model (not changed).
 * @param dataset The data (its preprocessing applied).
 * @param tensors The tensors and their feature axes.
 * @param options Kernels, samples, batch size, progress and cancellation.
 * @returns The norms by tensor name.
 * @throws {TypeError} When a tensor is not in the main graph or not float32.
 * @example
 * ```ts
 * import { decodeModel } from "@modelpress/onnx";
 * import { loadDataset } from "@modelpress/evaluate";
 * import { createKernels } from "@modelpress/kernels";
 * import { activationNorms } from "@modelpress/prune";
 * const model = decodeModel(await Deno.readFile("test/fixtures/mnist_mlp.onnx"));
 * const norms = await activationNorms(model, await loadDataset("mnist", { split: "train" }), [
 *   { name: "input", axis: -1 },
 * ], { kernels: await createKernels() });
 * norms.get("input")?.length; // 784
 * ```
 */
export async function activationNorms(
  model: ModelProto,
  dataset: Dataset,
  tensors: readonly NormRequest[],
  options: ActivationNormsOptions,
): Promise<Map<string, Float32Array>> {
  const { kernels, signal } = options;
  const samples = Math.min(dataset.count, options.samples ?? 256);
  const batchSize = options.batchSize ?? 64;
  if (
    !(Number.isInteger(samples) && samples >= 1 && Number.isInteger(batchSize) && batchSize >= 1)
  ) {
    throw new RangeError(
      `Cannot compute activation norms: samples and batchSize must be positive integers, got ${samples} and ${batchSize}`,
    );
  }
  signal?.throwIfAborted();
  if (model.graph === undefined) {
    throw new TypeError("Cannot compute activation norms: model has no graph");
  }
  const copy = decodeModel(encodeModel(model));
  const graph = copy.graph!;
  const index = new GraphIndex(graph);
  const fetched: string[] = [];
  for (const { name } of tensors) {
    if (index.isGraphInput(name) && index.constantOf(name) === undefined) continue;
    if (index.producerOf(name) === undefined) {
      throw new TypeError(
        `Cannot compute activation norms of '${name}': no node of the main graph makes it`,
      );
    }
    if (!fetched.includes(name)) fetched.push(name);
  }
  // Checked on the index first: it refuses use once the graph changes.
  const added = fetched.filter((name) => !index.isGraphOutput(name));
  for (const name of added) graph.output.push(makeValueInfo(name, TensorProto_DataType.FLOAT));
  const plans = planDatasetFeeds(dataset, graph);
  const sums = new Map<string, Float64Array>();
  const session = await createSession(encodeModel(copy));
  try {
    for (let start = 0; start < samples; start += batchSize) {
      signal?.throwIfAborted();
      const picks: number[] = [];
      for (let i = start; i < Math.min(samples, start + batchSize); i++) {
        picks.push(Math.floor((i * dataset.count) / samples));
      }
      const feeds = datasetFeeds(dataset, plans, picks);
      const outputs = fetched.length === 0
        ? {}
        : await runSession(session, feeds, { outputs: fetched });
      for (const { name, axis } of tensors) {
        const t = outputs[name] ?? feeds[name];
        if (t === undefined || t.type !== "float32") {
          throw new TypeError(`Cannot compute activation norms of '${name}': it is not float32`);
        }
        const dims = t.dims.map(Number);
        const a = axis < 0 ? dims.length + axis : axis;
        const sq = await kernels.reduce("sumsq", t.data as Float32Array, { shape: dims, axis: a });
        let acc = sums.get(name);
        if (acc === undefined) sums.set(name, acc = new Float64Array(sq.length));
        if (acc.length !== sq.length) {
          throw new TypeError(
            `Cannot compute activation norms of '${name}': its feature count changed between batches`,
          );
        }
        for (let j = 0; j < sq.length; j++) acc[j]! += sq[j]!;
      }
      options.onProgress?.(start + picks.length, samples);
    }
  } finally {
    await session.release();
  }
  const norms = new Map<string, Float32Array>();
  for (const [name, acc] of sums) norms.set(name, Float32Array.from(acc, Math.sqrt));
  return norms;
}
