/**
 * Random unstructured pruning: a BASELINE only (what "structure pruning" at random costs), to
 * measure other methods against; it ignores the weights' values.
 * @module
 */
import type { Kernels } from "@modelpress/kernels";
import { randomScores } from "./_random.ts";
import { checkSparsity, type FractionBounds, layerCounts, selectedMask } from "./_select.ts";

/** Options of {@linkcode pruneRandom}. */
export interface PruneRandomOptions {
  /** The kernels that select. */
  readonly kernels: Kernels;
  /** The fraction REMOVED, in [0, 1). */
  readonly sparsity: number;
  /** The seed. Default 0. */
  readonly seed?: number;
  /** One budget over all layers (round(k * N)) instead of round(k * n) each. */
  readonly global?: boolean;
  /** Per-layer bounds on the fraction removed. */
  readonly bounds?: readonly FractionBounds[];
}

/**
 * Sets to zero, in place, exactly round(k * n) seeded random weights per layer (or round(k * N)
 * over all layers with `global`). A baseline, not a method to use: same seed, same weights.
 *
 * @param layers The weights, changed in place.
 * @param options Kernels, sparsity, seed, global and bounds.
 * @returns How many weights each layer lost.
 * @example
 * ```ts
 * import { createKernels } from "@modelpress/kernels";
 * import { pruneRandom } from "@modelpress/prune";
 * const kernels = await createKernels({ backend: "js" });
 * const w = new Float32Array([1, 2, 3, 4]);
 * await pruneRandom([w], { kernels, sparsity: 0.5, seed: 7 }); // [2]: two of w are now 0
 * ```
 */
export async function pruneRandom(
  layers: readonly Float32Array[],
  options: PruneRandomOptions,
): Promise<number[]> {
  const { kernels } = options;
  checkSparsity(options.sparsity);
  const seed = options.seed ?? 0;
  const scores = layers.map((l, i) =>
    randomScores(l.length, (seed + Math.imul(i, 0x9e3779b1)) | 0)
  );
  const counts = await layerCounts(kernels, scores, options);
  for (const [i, layer] of layers.entries()) {
    const mask = selectedMask(scores[i]!, await kernels.selectMagnitude(scores[i]!, counts[i]!));
    for (let j = 0; j < layer.length; j++) if (mask[j]) layer[j] = 0;
  }
  return counts;
}
