/**
 * Input-activation feature norms over calibration data, for Wanda and activation importance:
 * the model runs in onnxruntime-web with the wanted tensors exposed as extra outputs.
 * @module
 */
import type { ModelProto } from "@modelpress/onnx";
import {
  type Dataset,
  ExposeTensorError,
  streamActivations,
  type Tensor,
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
  const sums = new Map<string, Float64Array>();
  try {
    await streamActivations(model, dataset, {
      tensors: tensors.map((t) => t.name),
      samples,
      batchSize,
      ...(signal === undefined ? {} : { signal }),
      onBatch: async ({ tensors: values, done, total }) => {
        for (const { name, axis } of tensors) {
          await addSquares(sums, { name, axis, tensor: values[name], kernels });
        }
        options.onProgress?.(done, total);
      },
    });
  } catch (e) {
    if (e instanceof ExposeTensorError) {
      throw new TypeError(`Cannot compute activation norms of '${e.tensor}': ${e.reason}`, {
        cause: e,
      });
    }
    throw e;
  }
  const norms = new Map<string, Float32Array>();
  for (const [name, acc] of sums) norms.set(name, Float32Array.from(acc, Math.sqrt));
  return norms;
}

/**
 * Adds one batch's sums of squares per feature of a tensor to its running sums.
 *
 * @param sums The running sums, by tensor name.
 * @param part The tensor's name, feature axis and batch values, and the kernels that reduce.
 */
async function addSquares(
  sums: Map<string, Float64Array>,
  part: {
    readonly name: string;
    readonly axis: number;
    readonly tensor: Tensor | undefined;
    readonly kernels: Kernels;
  },
): Promise<void> {
  const { name, axis, tensor: t } = part;
  if (t === undefined || t.type !== "float32") {
    throw new TypeError(`Cannot compute activation norms of '${name}': it is not float32`);
  }
  const dims = t.dims.map(Number);
  const a = axis < 0 ? dims.length + axis : axis;
  const sq = await part.kernels.reduce("sumsq", t.data as Float32Array, { shape: dims, axis: a });
  let acc = sums.get(name);
  if (acc === undefined) sums.set(name, acc = new Float64Array(sq.length));
  if (acc.length !== sq.length) {
    throw new TypeError(
      `Cannot compute activation norms of '${name}': its feature count changed between batches`,
    );
  }
  for (let j = 0; j < sq.length; j++) acc[j]! += sq[j]!;
}
