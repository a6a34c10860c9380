/**
 * Per-channel moments of intermediate tensors over calibration data, measured in
 * onnxruntime-web with `@modelpress/evaluate`'s `streamActivations` (as `@modelpress/quantize`'s
 * `calibrate` does): a copy of the model with the tensors added as graph outputs, fed batch by
 * batch. (`calibrate` keeps per-tensor histograms; structured pruning needs moments per channel,
 * hence this small collector.)
 * @module
 */
import { float16ToFloat32, type ModelProto } from "@modelpress/onnx";
import {
  type Dataset,
  DatasetFeedError,
  ExposeTensorError,
  streamActivations,
  type Tensor,
} from "@modelpress/evaluate";

/** A tensor to measure and the axis its channels run along. */
export interface MomentRequest {
  /** The tensor's name (a node output or a graph input). */
  readonly tensor: string;
  /** The channel axis: from the start when >= 0, from the end when negative. */
  readonly axis: number;
}

/** Per-channel moments of one tensor. */
export interface ChannelMoments {
  /** Values averaged per channel (samples times the other dimensions). */
  readonly count: number;
  /** Mean per channel. */
  readonly mean: Float64Array;
  /** Mean |x| per channel. */
  readonly meanAbs: Float64Array;
  /** Mean x^2 per channel. */
  readonly meanSquare: Float64Array;
}

/** Options of {@linkcode collectMoments}. */
export interface CollectMomentsOptions {
  /** Samples used, spread evenly over the dataset (default 512). */
  readonly maxSamples?: number;
  /** Samples per run (default 64). */
  readonly batchSize?: number;
  /** Cancels between batches. */
  readonly signal?: AbortSignal | undefined;
  /** Called after each batch. */
  readonly onProgress?: ((done: number, total: number) => void) | undefined;
}

/** What {@linkcode collectMoments} measured. */
export interface CollectedMoments {
  /** Samples run. */
  readonly samples: number;
  /** Per requested tensor. */
  readonly moments: ReadonlyMap<string, ChannelMoments>;
}

/**
 * Default calibration samples of structured pruning.
 *
 * @example
 * ```ts
 * import { DEFAULT_MAX_SAMPLES } from "./_structural_stats.ts";
 * const samples = Math.min(2000, DEFAULT_MAX_SAMPLES);
 * ```
 */
export const DEFAULT_MAX_SAMPLES = 512;
/**
 * Default samples per run.
 *
 * @example
 * ```ts
 * import { DEFAULT_BATCH_SIZE } from "./_structural_stats.ts";
 * const batches = Math.ceil(512 / DEFAULT_BATCH_SIZE);
 * ```
 */
export const DEFAULT_BATCH_SIZE = 64;

/**
 * Runs the model on (a sample of) the dataset and averages each requested tensor per channel.
 *
 * @param model The model (not changed).
 * @param dataset The data.
 * @param requests The tensors and their channel axes.
 * @param options Samples, batch size, cancellation and progress.
 * @returns The moments per tensor.
 * @throws {TypeError} When a tensor is not in the model, not float, or the dataset does not fit.
 * @example
 * ```ts
 * import { decodeModel } from "@modelpress/onnx";
 * import { loadDataset } from "@modelpress/evaluate";
 * import { collectMoments } from "./_structural_stats.ts";
 * const model = decodeModel(await Deno.readFile("test/fixtures/mnist_mlp.onnx"));
 * const { moments } = await collectMoments(model, await loadDataset("mnist"), [
 *   { tensor: "relu1_out", axis: -1 },
 * ]);
 * ```
 */
export async function collectMoments(
  model: ModelProto,
  dataset: Dataset,
  requests: readonly MomentRequest[],
  options: CollectMomentsOptions = {},
): Promise<CollectedMoments> {
  const maxSamples = options.maxSamples ?? DEFAULT_MAX_SAMPLES;
  const batchSize = options.batchSize ?? DEFAULT_BATCH_SIZE;
  if (!Number.isInteger(maxSamples) || maxSamples < 1) {
    throw new RangeError(
      `Cannot prune model: maxSamples must be a positive integer, got ${maxSamples}`,
    );
  }
  if (!Number.isInteger(batchSize) || batchSize < 1) {
    throw new RangeError(
      `Cannot prune model: batchSize must be a positive integer, got ${batchSize}`,
    );
  }
  const sums = new Map<
    string,
    { count: number; s: Float64Array; a: Float64Array; q: Float64Array }
  >();
  let samples: number;
  try {
    ({ samples } = await streamActivations(model, dataset, {
      tensors: requests.map((r) => r.tensor),
      samples: maxSamples,
      batchSize,
      ...(options.signal === undefined ? {} : { signal: options.signal }),
      onBatch: ({ tensors, done, total }) => {
        for (const { tensor, axis } of requests) accumulate(sums, tensor, tensors[tensor]!, axis);
        options.onProgress?.(done, total);
      },
    }));
  } catch (e) {
    if (e instanceof ExposeTensorError) {
      throw new TypeError(`Cannot measure tensor '${e.tensor}': ${e.reason}`, { cause: e });
    }
    if (e instanceof DatasetFeedError) {
      throw new TypeError(`Cannot prune model: calibration data: ${e.reason}`, { cause: e });
    }
    throw e;
  }
  const moments = new Map<string, ChannelMoments>();
  for (const [name, { count, s, a, q }] of sums) {
    const per = count / s.length;
    moments.set(name, {
      count: per,
      mean: s.map((v) => v / per),
      meanAbs: a.map((v) => v / per),
      meanSquare: q.map((v) => v / per),
    });
  }
  return { samples, moments };
}

function accumulate(
  sums: Map<string, { count: number; s: Float64Array; a: Float64Array; q: Float64Array }>,
  name: string,
  t: Tensor,
  axis: number,
): void {
  let data: ArrayLike<number>;
  if (t.type === "float32") data = t.data as Float32Array;
  else if (t.type === "float16") {
    const raw = t.data as unknown;
    data = raw instanceof Uint16Array ? float16ToFloat32(raw) : raw as ArrayLike<number>;
  } else throw new TypeError(`Cannot measure tensor '${name}': it is ${t.type}, not float`);
  const dims = t.dims;
  const at = axis >= 0 ? axis : dims.length + axis;
  if (at < 0 || at >= dims.length) {
    throw new TypeError(
      `Cannot measure tensor '${name}': it has no axis ${axis} (dims [${dims.join(", ")}])`,
    );
  }
  const channels = dims[at]!;
  const inner = dims.slice(at + 1).reduce((p, d) => p * d, 1);
  const outer = dims.slice(0, at).reduce((p, d) => p * d, 1);
  let entry = sums.get(name);
  if (entry === undefined) {
    entry = {
      count: 0,
      s: new Float64Array(channels),
      a: new Float64Array(channels),
      q: new Float64Array(channels),
    };
    sums.set(name, entry);
  }
  if (entry.s.length !== channels) {
    throw new TypeError(
      `Cannot measure tensor '${name}': its channel count changed between batches`,
    );
  }
  const { s, a, q } = entry;
  for (let o = 0; o < outer; o++) {
    for (let c = 0; c < channels; c++) {
      let sum = 0;
      let abs = 0;
      let sq = 0;
      const base = (o * channels + c) * inner;
      for (let i = 0; i < inner; i++) {
        const v = data[base + i]!;
        sum += v;
        abs += Math.abs(v);
        sq += v * v;
      }
      s[c] = s[c]! + sum;
      a[c] = a[c]! + abs;
      q[c] = q[c]! + sq;
    }
  }
  entry.count += outer * channels * inner;
}
