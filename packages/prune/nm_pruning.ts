/**
 * N:M semi-structured pruning: in every m consecutive inputs of an output unit, n are kept.
 * @module
 */
import type { Kernels } from "@modelpress/kernels";

/** Options of {@linkcode pruneNm}. */
export interface PruneNmOptions {
  /** The kernels that make the mask. */
  readonly kernels: Kernels;
  /** Weights kept per group. */
  readonly n: number;
  /** Group length; must divide `shape[axis]`. */
  readonly m: number;
  /** The weight's dims (the groups run along `axis`). */
  readonly shape: readonly number[];
  /** The input axis (Gemm transB=1: 1; MatMul [in, out]: 0). */
  readonly axis: number;
}

/**
 * Keeps, in place, the n largest magnitudes in every m consecutive weights along the input axis
 * (ties to the lower index, as the kernels' `nmMask`) and zeroes the rest: exactly
 * (m - n) / m of the weights are removed.
 *
 * @param layer The weights, changed in place.
 * @param options Kernels, n, m, shape and axis.
 * @returns How many weights were set to zero by the mask (zeros already there included).
 * @throws {RangeError} When m does not divide the axis.
 * @example
 * ```ts
 * import { createKernels } from "@modelpress/kernels";
 * import { pruneNm } from "@modelpress/prune";
 * const kernels = await createKernels({ backend: "js" });
 * const w = new Float32Array([1, -4, 3, 2]);
 * await pruneNm(w, { kernels, n: 2, m: 4, shape: [1, 4], axis: 1 }); // 2; w is [0, -4, 3, 0]
 * ```
 */
export async function pruneNm(layer: Float32Array, options: PruneNmOptions): Promise<number> {
  const { n, m, shape, axis } = options;
  const length = shape[axis];
  if (length === undefined || length % m !== 0) {
    throw new RangeError(
      `Cannot prune ${n}:${m}: the input axis ${axis} of [${
        shape.join(", ")
      }] is not a multiple of ${m}`,
    );
  }
  const mask = await options.kernels.nmMask(layer, { n, m, shape, axis });
  let removed = 0;
  for (let i = 0; i < layer.length; i++) {
    if (mask[i] === 0) {
      layer[i] = 0;
      removed++;
    }
  }
  return removed;
}
