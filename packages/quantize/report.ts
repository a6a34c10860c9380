/**
 * The JSON report of {@linkcode quantizeModel}: what was quantized, how, at what error and size.
 * @module
 */
import type { BackendName } from "@modelpress/kernels";
import type { Granularity, QuantizeMethod, QuantizeRecipe, WeightFormat } from "./recipe.ts";
import type { CalibrationMethod } from "./calibration_range.ts";
import type { RangeMethod } from "./weight_range.ts";

/** Smallest, largest and mean of a parameter tensor. */
export interface ParamSummary {
  /** How many values. */
  readonly count: number;
  /** Smallest. */
  readonly min: number;
  /** Largest. */
  readonly max: number;
  /** Mean. */
  readonly mean: number;
}

/** One quantized weight tensor. */
export interface TensorReport {
  /** The float tensor's name. */
  readonly name: string;
  /** The graph that defines it (`main`, or a subgraph path). */
  readonly graph: string;
  /** The integer initializer that now holds it. */
  readonly quantizedName: string;
  /** The method. */
  readonly method: QuantizeMethod;
  /** Bits per code. */
  readonly bits: number;
  /** The stored element type (`int8`, `uint8`, `int4`, ...). */
  readonly storedAs: string;
  /** Signed codes. */
  readonly signed: boolean;
  /** Symmetric ranges. */
  readonly symmetric: boolean;
  /** Granularity. */
  readonly granularity: Granularity;
  /** The axis of the scales (as stored), or null per tensor. */
  readonly axis: number | null;
  /** The block size, or null. */
  readonly blockSize: number | null;
  /** How ranges were chosen. */
  readonly range: RangeMethod;
  /** The tensor's dims. */
  readonly shape: readonly number[];
  /** Scales. */
  readonly scale: ParamSummary;
  /** Zero points. */
  readonly zeroPoint: ParamSummary;
  /** Mean squared error of the dequantized weights. */
  readonly mse: number;
  /** Signal-to-quantization-noise ratio in dB (null for no error). */
  readonly sqnrDb: number | null;
  /** The nodes that read it. */
  readonly consumers: readonly string[];
  /**
   * `matmulnbits` when its readers became com.microsoft MatMulNBits (codes packed `[N, blocks,
   * blob]`); absent when it is dequantized by DequantizeLinear or read by integer kernels.
   */
  readonly format?: WeightFormat;
  /** `log` and `kmeans`: the codebook that the codes index. */
  readonly codebook?: CodebookReport;
}

/**
 * The codebooks of a `log` or `kmeans` tensor (its `scale` summarizes one value per group: the
 * power of two for `log`, the largest |centroid| for `kmeans`; it has no zero points).
 */
export interface CodebookReport {
  /** Values per codebook: `2^bits`. */
  readonly size: number;
  /** How many codebooks: 1 per tensor, or one per channel. */
  readonly groups: number;
  /** The codebooks' values. */
  readonly values: ParamSummary;
  /** `kmeans`: the most Lloyd iterations any codebook ran; `log`: 0. */
  readonly iterations: number;
}

/** One activation quantized by `static` quantization (QuantizeLinear -> DequantizeLinear). */
export interface ActivationReport {
  /** The float tensor's name. */
  readonly name: string;
  /** The graph (`main`). */
  readonly graph: string;
  /** The DequantizeLinear output that the quantized nodes now read. */
  readonly quantizedName: string;
  /** The code type. */
  readonly type: "uint8" | "int8";
  /** Smallest and largest values seen in calibration. */
  readonly observed: { readonly min: number; readonly max: number };
  /** The range the calibration method chose. */
  readonly range: { readonly min: number; readonly max: number };
  /** The scale. */
  readonly scale: number;
  /** The zero point. */
  readonly zeroPoint: number;
  /** The nodes that read it. */
  readonly consumers: readonly string[];
}

/** How `static` quantization calibrated. */
export interface CalibrationReport {
  /** The method. */
  readonly method: CalibrationMethod;
  /** The percentile, for `percentile`. */
  readonly percentile?: number;
  /** Histogram bins per tensor. */
  readonly bins: number;
  /** Samples run. */
  readonly samples: number;
  /** Batches run. */
  readonly batches: number;
  /** Milliseconds the calibration run took (0 when statistics were given). */
  readonly timeMs: number;
}

/** What happened to one node with weights. */
export interface NodeReport {
  /** The node's name ("" when unnamed). */
  readonly name: string;
  /** Its operator type. */
  readonly opType: string;
  /** Its graph. */
  readonly graph: string;
  /** Whether its weights were quantized. */
  readonly status: "quantized" | "skipped";
  /** The method used, when quantized. */
  readonly method?: QuantizeMethod;
  /** Why it was skipped, or what was left of it. */
  readonly reason?: string;
  /** The weights quantized for it. */
  readonly weights: readonly string[];
}

/** The report of {@linkcode quantizeModel}; plain data, JSON as it is. */
export interface QuantizationReport {
  /** The recipe, validated. */
  readonly recipe: QuantizeRecipe;
  /** The kernels' backend that did the numeric work. */
  readonly backend: BackendName;
  /** The default-domain opset before and after. */
  readonly opset: { readonly from: number | null; readonly to: number | null };
  /** Quantized tensors. */
  readonly tensors: readonly TensorReport[];
  /** Nodes with weights, quantized or skipped. */
  readonly nodes: readonly NodeReport[];
  /** Activations quantized (`static` only). */
  readonly activations?: readonly ActivationReport[];
  /** The calibration (`static` only). */
  readonly calibration?: CalibrationReport;
  /** Serialized model bytes before and after, and their ratio. */
  readonly size: { readonly before: number; readonly after: number; readonly ratio: number };
  /**
   * Present when the model came with weights in sparse storage (`sparsifyStorage`, a pruned
   * model): they were made dense to be quantized (`densified`) and the result stored sparsely
   * again where that is smaller (`stored`: the tensors now sparse, codes included).
   */
  readonly sparseStorage?: {
    readonly densified: readonly string[];
    readonly stored: readonly string[];
  };
  /** Milliseconds: the whole call, and the numeric part of it. */
  readonly timeMs: { readonly total: number; readonly numeric: number };
}

/**
 * Summarizes a parameter tensor.
 *
 * @param values The values.
 * @returns Count, min, max and mean.
 * @example
 * ```ts
 * import { summarizeParams } from "@modelpress/quantize";
 * summarizeParams([1, 3]); // { count: 2, min: 1, max: 3, mean: 2 }
 * ```
 */
export function summarizeParams(values: ArrayLike<number>): ParamSummary {
  let min = Infinity;
  let max = -Infinity;
  let sum = 0;
  for (let i = 0; i < values.length; i++) {
    const v = values[i]!;
    if (v < min) min = v;
    if (v > max) max = v;
    sum += v;
  }
  const count = values.length;
  return count === 0 ? { count, min: 0, max: 0, mean: 0 } : { count, min, max, mean: sum / count };
}
