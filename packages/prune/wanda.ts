/**
 * Wanda (Sun et al., 2023, "A Simple and Effective Pruning Approach for Large Language
 * Models"): weights scored by |W_ij| * ||X_j||_2, with X_j the j-th input feature over
 * calibration data, and the lowest scores removed per output unit.
 * @module
 */
import type { Kernels } from "@modelpress/kernels";
import { checkSparsity, magnitudeStats, selectedMask } from "./_select.ts";

/** Options of {@linkcode pruneWanda}. */
export interface PruneWandaOptions {
  /** The kernels that select. */
  readonly kernels: Kernels;
  /** The fraction REMOVED of each output unit's inputs, in [0, 1). */
  readonly sparsity: number;
  /** The weight's dims. */
  readonly shape: readonly number[];
  /**
   * The input axis: the norms run along it. The axes after it, for Conv the kernel window
   * ([O, I, kh, kw], axis 1), belong to the same output unit and share their channel's norm.
   * For Gemm/MatMul weights stored [in, out] (axis 0 of 2), each output column is a unit.
   */
  readonly axis: number;
  /** The weight's operator: `Conv` groups a filter's I * kh * kw weights. Default: not Conv. */
  readonly conv?: boolean;
}

/** What {@linkcode pruneWanda} did. */
export interface WandaResult {
  /** Weights removed (zeros already there that the selection took included). */
  readonly removed: number;
  /** Min, mean and max of the scores |W| * ||X||. */
  readonly importance: { readonly min: number; readonly mean: number; readonly max: number };
}

/**
 * Prunes a weight in place by Wanda: for each output unit, the round(k * L) weights of lowest
 * |W_ij| * norms[j] are set to zero, L being the unit's input count (for Conv I * kh * kw, as in
 * the paper's im2col view; the kernel window shares its channel's norm). Ties go to the lower
 * index.
 *
 * @param layer The weights, changed in place.
 * @param norms The L2 norm of each input feature (length `shape[axis]`).
 * @param options Kernels, sparsity, shape, axis, conv.
 * @returns Removed count and score statistics.
 * @throws {RangeError} When the norms do not match the input axis.
 * @example
 * ```ts
 * import { createKernels } from "@modelpress/kernels";
 * import { pruneWanda } from "@modelpress/prune";
 * const kernels = await createKernels({ backend: "js" });
 * const w = new Float32Array([1, 2, 3, 4]); // [out 1, in 4]
 * await pruneWanda(w, new Float32Array([10, 1, 1, 1]), { kernels, sparsity: 0.5, shape: [1, 4], axis: 1 });
 * // w is [1, 0, 3, 4]: 1 * 10 outranks 2 * 1
 * ```
 */
export async function pruneWanda(
  layer: Float32Array,
  norms: Float32Array,
  options: PruneWandaOptions,
): Promise<WandaResult> {
  const { shape, axis, kernels } = options;
  checkSparsity(options.sparsity);
  const channels = shape[axis] ?? 0;
  if (norms.length !== channels) {
    throw new RangeError(
      `Cannot prune by Wanda: ${norms.length} norms for input axis ${axis} of [${
        shape.join(", ")
      }]`,
    );
  }
  let outer = 1;
  for (let d = 0; d < axis; d++) outer *= shape[d]!;
  let after = 1;
  for (let d = axis + 1; d < shape.length; d++) after *= shape[d]!;
  // A unit's inputs: conv filters are [channels * window] contiguous; otherwise the inputs of
  // output (o, i) run along the axis with stride `after`, one unit per trailing index.
  const window = options.conv ? after : 1;
  const inner = options.conv ? 1 : after;
  const length = channels * window;
  const scores = new Float32Array(layer.length);
  const row = new Float32Array(length);
  const kRow = Math.round(options.sparsity * length);
  let removed = 0;
  for (let o = 0; o < outer; o++) {
    for (let i = 0; i < inner; i++) {
      const base = o * length * inner + i;
      for (let j = 0; j < length; j++) {
        row[j] = Math.abs(layer[base + j * inner]!) * norms[Math.floor(j / window)]!;
      }
      const mask = selectedMask(row, await kernels.selectMagnitude(row, kRow));
      for (let j = 0; j < length; j++) {
        const at = base + j * inner;
        scores[at] = row[j]!;
        if (mask[j]) {
          layer[at] = 0;
          removed++;
        }
      }
    }
  }
  return { removed, importance: magnitudeStats(scores) };
}
