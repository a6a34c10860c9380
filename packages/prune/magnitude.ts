/**
 * Unstructured magnitude pruning: the smallest |w| go, per layer or over all layers at once.
 * @module
 */
import type { Kernels } from "@modelpress/kernels";
import { checkSparsity, type FractionBounds, layerCounts, selectedCounts } from "./_select.ts";

export type { FractionBounds };

/** Options of {@linkcode pruneMagnitude}. */
export interface PruneMagnitudeOptions {
  /** The kernels that select and mask. */
  readonly kernels: Kernels;
  /** The fraction REMOVED, in [0, 1). */
  readonly sparsity: number;
  /** One threshold over all layers (round(k * N) removed in all) instead of round(k * n) each. */
  readonly global?: boolean;
  /** Per-layer bounds on the fraction removed, honoured exactly (round(min * n)..round(max * n)). */
  readonly bounds?: readonly FractionBounds[];
}

/**
 * Sets to zero, in place, exactly round(k * n) weights of smallest magnitude in each layer, or
 * with `global` exactly round(k * N) over all layers (N their total), within per-layer bounds.
 * Ties are broken as the kernels' `selectMagnitude` does: layer order, then index order; weights
 * already zero are the smallest and count as removed.
 *
 * @param layers The weights, changed in place.
 * @param options Kernels, sparsity, global and bounds.
 * @returns How many weights each layer lost (zeros included).
 * @throws {RangeError} When the bounds cannot meet a global budget.
 * @example
 * ```ts
 * import { createKernels } from "@modelpress/kernels";
 * import { pruneMagnitude } from "@modelpress/prune";
 * const kernels = await createKernels({ backend: "js" });
 * const w = new Float32Array([0.5, -0.1, 0.3, 0.2]);
 * await pruneMagnitude([w], { kernels, sparsity: 0.5 }); // [2]; w is [0.5, 0, 0.3, 0]
 * ```
 */
export async function pruneMagnitude(
  layers: readonly Float32Array[],
  options: PruneMagnitudeOptions,
): Promise<number[]> {
  const { kernels } = options;
  checkSparsity(options.sparsity);
  if (options.global && options.bounds === undefined) {
    const n = layers.reduce((a, l) => a + l.length, 0);
    const selection = await kernels.selectMagnitude(layers, Math.round(options.sparsity * n));
    const counts = selectedCounts(layers, selection);
    await kernels.maskSmallest(layers, selection);
    return counts;
  }
  const counts = await layerCounts(kernels, layers, options);
  for (const [i, layer] of layers.entries()) {
    await kernels.maskSmallest(layer, await kernels.selectMagnitude(layer, counts[i]!));
  }
  return counts;
}
