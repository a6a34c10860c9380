/**
 * The pruning report: what each layer lost and what the model costs before and after, as plain
 * JSON-serialisable data (schema `modelpress.prune/1`).
 * @module
 */
import { elementCount, type GraphProto, tensorData, TensorProto_DataType } from "@modelpress/onnx";
import type { PruneRecipe } from "./recipe.ts";
import type { SkippedWeight } from "./prunable_weights.ts";
import type { SparseTensorReport } from "@modelpress/onnx";

/** The report's schema tag. */
export const PRUNE_REPORT_SCHEMA = "modelpress.prune/1";

/** Min, mean and max of the importance scores a layer was ranked by. */
export interface LayerImportance {
  /** Smallest score. */
  readonly min: number;
  /** Mean score. */
  readonly mean: number;
  /** Largest score. */
  readonly max: number;
}

/** One pruned (or considered) layer. */
export interface PruneLayerReport {
  /** The node's name. */
  readonly node: string;
  /** Its operator. */
  readonly opType: string;
  /** The weight's name. */
  readonly tensor: string;
  /** The weight's dims (after pruning; smaller for structured pruning). */
  readonly shape: readonly number[];
  /** Weight elements before. */
  readonly params: number;
  /** Weight elements after (fewer only for structured pruning). */
  readonly paramsAfter: number;
  /** Zero weights before. */
  readonly zerosBefore: number;
  /** Zero weights after. */
  readonly zerosAfter: number;
  /** The fraction of the original weights that are gone or zero: 1 - nonzero after / params. */
  readonly sparsity: number;
  /** Output units (neurons, filters) removed, for structured pruning. */
  readonly unitsRemoved?: number;
  /** The scores the layer was ranked by (|w| for magnitude and N:M, |w|*||x|| for Wanda). */
  readonly importance?: LayerImportance;
  /** `pruned`, or `skipped` with a reason (such as an input axis that m does not divide). */
  readonly status: "pruned" | "skipped";
  /** Why it was skipped. */
  readonly reason?: string;
}

/** A before/after pair. */
export interface BeforeAfter {
  /** Before pruning. */
  readonly before: number;
  /** After pruning. */
  readonly after: number;
}

/** MACs of the Gemm, MatMul and Conv nodes at batch 1 (see `countMacs` of `@modelpress/evaluate`). */
export interface MacTotals extends BeforeAfter {
  /**
   * MACs that multiply a nonzero weight: each node's MACs times its weight's nonzero fraction
   * (what a sparse kernel would do; dense kernels still do `after`).
   */
  readonly effective: number;
}

/** One step of an iterative schedule. */
export interface PruneStepReport {
  /** 1-based. */
  readonly step: number;
  /** The fraction removed after this step. */
  readonly sparsity: number;
  /** Zero (or removed) weights of the pruned layers after this step. */
  readonly zeros: number;
  /** What the `evaluate` callback returned, when one was given. */
  readonly metrics?: Readonly<Record<string, number>>;
}

/** The report of `pruneModel`. */
export interface PruneReport {
  /** Always {@linkcode PRUNE_REPORT_SCHEMA}. */
  readonly schema: typeof PRUNE_REPORT_SCHEMA;
  /** The validated recipe. */
  readonly recipe: PruneRecipe;
  /** The kernels' backend. */
  readonly backend: string;
  /** The layers, in node order. */
  readonly layers: readonly PruneLayerReport[];
  /** Gemm/MatMul/Conv nodes not considered, with the reason. */
  readonly skipped: readonly SkippedWeight[];
  /** Model totals. */
  readonly totals: {
    /** Float parameters (initializer elements). */
    readonly params: BeforeAfter;
    /** Nonzero float parameters. */
    readonly nonzero: BeforeAfter;
    /** MACs; absent when shapes could not be inferred. */
    readonly macs?: MacTotals;
    /** Encoded model bytes. */
    readonly bytes: BeforeAfter;
  };
  /** Per candidate tensor: how it is stored (empty with storage `dense`). */
  readonly storage: readonly SparseTensorReport[];
  /** One entry per schedule step. */
  readonly steps: readonly PruneStepReport[];
  /** Extra details of structured pruning (groups, recovery), as its engine reports them. */
  readonly structured?: unknown;
  /** Milliseconds the pruning took. */
  readonly timeMs: number;
}

const FLOATS: readonly number[] = [
  TensorProto_DataType.FLOAT,
  TensorProto_DataType.FLOAT16,
  TensorProto_DataType.BFLOAT16,
  TensorProto_DataType.DOUBLE,
];

/**
 * Elements and nonzero elements of a graph's float initializers.
 *
 * @param graph The graph.
 * @returns The counts.
 * @example
 * ```ts
 * import { decodeModel } from "@modelpress/onnx";
 * import { countParameters } from "@modelpress/prune";
 * const model = decodeModel(await Deno.readFile("test/fixtures/mnist_mlp.onnx"));
 * countParameters(model.graph!); // { params: 235146, nonzero: 235146 }
 * ```
 */
export function countParameters(graph: GraphProto): { params: number; nonzero: number } {
  let params = 0;
  let nonzero = 0;
  for (const t of graph.initializer) {
    if (!FLOATS.includes(t.dataType) || t.externalData.length > 0) continue;
    params += elementCount(t);
    nonzero += countNonzero(tensorData(t) as ArrayLike<number>, t.dataType);
  }
  return { params, nonzero };
}

/**
 * Nonzero elements of a numeric array (float16 given as bits: ±0 are zero).
 *
 * @param data The elements.
 * @param dataType The ONNX type (FLOAT16/BFLOAT16 data are bit patterns).
 * @returns The count.
 * @example
 * ```ts
 * import { countNonzero } from "@modelpress/prune";
 * countNonzero(new Float32Array([0, -0, 1]), 1); // 1
 * ```
 */
export function countNonzero(data: ArrayLike<number>, dataType: number): number {
  const bits = dataType === TensorProto_DataType.FLOAT16 ||
    dataType === TensorProto_DataType.BFLOAT16;
  let c = 0;
  for (let i = 0; i < data.length; i++) {
    const v = data[i]!;
    if (bits ? (v & 0x7fff) !== 0 : v !== 0) c++;
  }
  return c;
}
