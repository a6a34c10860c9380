/**
 * `log` and `kmeans` quantization of a model's weights: grouping the nodes that read each weight,
 * quantizing it once onto codebooks, rewiring the readers to the rebuilt weight, and reporting.
 * Imported only from this folder.
 * @module
 */
import type { Kernels } from "@modelpress/kernels";
import type { NodeProto, UniqueNames } from "@modelpress/onnx";
import { float16ToFloat32, tensorData, TensorProto_DataType } from "@modelpress/onnx";
import type { NodeSettings } from "./recipe.ts";
import type { WeightSlot } from "./weight_slots.ts";
import type { WeightSource } from "./_scopes.ts";
import { summarizeParams, type TensorReport } from "./report.ts";
import type { CodebookMethod, CodebookTensor } from "./codebook_tensor.ts";
import { logCodebook } from "./log_codebook.ts";
import { kmeansCodebook } from "./kmeans_codebook.ts";
import { addCodebookWeight } from "./_emit_codebook.ts";

/** A node planned for quantization, as `quantizeModel` plans it. */
export interface CodebookReader {
  /** The node. */
  readonly node: NodeProto;
  /** Its settings (undefined when skipped). */
  readonly settings: NodeSettings | undefined;
  /** Its constant weights. */
  readonly weights: readonly { readonly slot: WeightSlot; readonly source: WeightSource }[];
}

/** One weight to quantize onto codebooks, with every node that reads it. */
export interface CodebookGroup<R extends CodebookReader> {
  /** The weight. */
  readonly source: WeightSource;
  /** The slot of its first reader (which gives the channel axis). */
  readonly slot: WeightSlot;
  /** The settings of its first reader. */
  readonly settings: NodeSettings & { readonly method: CodebookMethod };
  /** The readers. */
  readonly readers: R[];
}

/** The seed of k-means++ in `quantizeModel`, so that a recipe always writes the same bytes. */
export const KMEANS_SEED = 0;

/**
 * Groups the weights of `log` and `kmeans` nodes by their source (a tied weight is quantized
 * once, with its first reader's settings).
 *
 * @param items The planned nodes.
 * @returns The groups, in order of first use.
 */
export function codebookGroups<R extends CodebookReader>(
  items: readonly R[],
): CodebookGroup<R>[] {
  const groups = new Map<string, CodebookGroup<R>>();
  for (const item of items) {
    const settings = item.settings;
    if (settings?.method !== "log" && settings?.method !== "kmeans") continue;
    for (const { slot, source } of item.weights) {
      const key = `${source.scope.path}\u0000${source.name}`;
      const group = groups.get(key);
      if (group === undefined) {
        groups.set(key, {
          source,
          slot,
          settings: settings as NodeSettings & { method: CodebookMethod },
          readers: [item],
        });
      } else if (!group.readers.includes(item)) group.readers.push(item);
    }
  }
  return [...groups.values()];
}

/**
 * Quantizes one weight onto codebooks, adds its codes, codebook and Cast/Gather (Add or Mul) nodes to the
 * defining graph, and points every reader at the rebuilt weight.
 *
 * @param group The weight and its readers.
 * @param ctx Kernels, names and the opset.
 * @returns The tensor's report.
 */
export async function quantizeCodebookWeight<R extends CodebookReader>(
  group: CodebookGroup<R>,
  ctx: { kernels: Kernels; names: UniqueNames; opset: number },
): Promise<TensorReport> {
  const { source, slot, settings } = group;
  const shape = source.tensor.dims.map(Number);
  const axis = settings.granularity === "tensor" ? undefined : normalize(slot.channelAxis, shape);
  // An fp16 weight is quantized in float32 and rebuilt as fp16.
  const half = source.tensor.dataType === TensorProto_DataType.FLOAT16;
  const data = tensorData(source.tensor);
  const x = half ? float16ToFloat32(data as Uint16Array) : data as Float32Array;
  const options = {
    shape,
    bits: settings.bits,
    ...(axis === undefined ? {} : { axis }),
    name: source.name,
  };
  const q = settings.method === "log"
    ? await logCodebook(ctx.kernels, x, options)
    : await kmeansCodebook(ctx.kernels, x, { ...options, seed: KMEANS_SEED });
  const stored = addCodebookWeight(source.scope, source.name, {
    q,
    opset: ctx.opset,
    names: ctx.names,
    float16: half,
  });
  for (const reader of group.readers) {
    for (const w of reader.weights) {
      if (w.source.scope === source.scope && w.source.name === source.name) {
        reader.node.input[w.slot.slot] = stored.output;
      }
    }
  }
  return codebookReport(source, q, {
    settings,
    quantizedName: stored.codes,
    storedAs: stored.storedAs,
    consumers: group.readers.map((r) => r.node.name),
  });
}

function codebookReport(
  source: WeightSource,
  q: CodebookTensor,
  options: {
    settings: NodeSettings;
    quantizedName: string;
    storedAs: string;
    consumers: string[];
  },
): TensorReport {
  return {
    name: source.name,
    graph: source.scope.path,
    quantizedName: options.quantizedName,
    method: q.method,
    bits: q.bits,
    storedAs: options.storedAs,
    // Log codes carry a sign bit; k-means codes are plain indices.
    signed: q.method === "log",
    symmetric: q.method === "log",
    granularity: q.axis === undefined ? "tensor" : "channel",
    axis: q.axis ?? null,
    blockSize: null,
    range: options.settings.range,
    shape: q.shape,
    scale: summarizeParams(q.scale),
    zeroPoint: summarizeParams([]),
    mse: q.mse,
    sqnrDb: q.sqnrDb,
    consumers: options.consumers,
    codebook: {
      size: q.size,
      groups: q.groups,
      values: summarizeParams(q.codebook),
      iterations: q.iterations,
    },
  };
}

function normalize(axis: number, shape: readonly number[]): number | undefined {
  const a = axis < 0 ? axis + shape.length : axis;
  return a >= 0 && a < shape.length ? a : undefined;
}
