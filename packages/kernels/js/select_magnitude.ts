/**
 * The reference magnitude selection (radix select on float bits, O(n)) and in-place masking.
 * @module
 */
import type { MagnitudeSelection } from "../kernels.ts";

/** The key of a NaN magnitude: one above +Infinity, so every NaN ties with every other. */
export const NAN_KEY = 0x7f800001;

/**
 * Normalizes one or many tensors to a list.
 *
 * @param tensors One tensor or several.
 * @returns The list.
 * @example
 * ```ts
 * import { tensorList } from "./select_magnitude.ts";
 * tensorList(new Float32Array(2)).length; // 1
 * ```
 */
export function tensorList(
  tensors: Float32Array | readonly Float32Array[],
): readonly Float32Array[] {
  return tensors instanceof Float32Array ? [tensors] : tensors;
}

/**
 * Checks k against the total length.
 *
 * @param total Elements over all tensors.
 * @param k The requested count.
 * @returns Nothing.
 * @throws {RangeError} When k is not an integer in 0..total.
 * @example
 * ```ts
 * import { checkSelectCount } from "./select_magnitude.ts";
 * checkSelectCount(10, 3);
 * ```
 */
export function checkSelectCount(total: number, k: number): void {
  if (!Number.isSafeInteger(k) || k < 0 || k > total) {
    throw new RangeError(`Cannot select magnitudes: k ${k} is not an integer in 0..${total}`);
  }
}

/**
 * Finds the bin where a cumulative count first reaches `rank` (1-based).
 *
 * @param hist The counts.
 * @param rank 1..sum(hist).
 * @returns The bin and the count before it.
 * @example
 * ```ts
 * import { findRank } from "./select_magnitude.ts";
 * findRank(new Uint32Array([2, 0, 3]), 3); // { bin: 2, before: 2 }
 * ```
 */
export function findRank(hist: Uint32Array, rank: number): { bin: number; before: number } {
  let before = 0;
  for (let b = 0; b < hist.length; b++) {
    const c = hist[b]!;
    if (before + c >= rank) return { bin: b, before };
    before += c;
  }
  throw new RangeError(`Cannot select magnitudes: rank ${rank} exceeds ${before} elements`);
}

/**
 * Builds the selection result from the key of the k-th smallest magnitude.
 *
 * @param key The magnitude key (float bits of |x|, NaN as {@linkcode NAN_KEY}).
 * @param counts k and the count strictly below.
 * @returns The selection.
 * @example
 * ```ts
 * import { selectionFromKey } from "./select_magnitude.ts";
 * selectionFromKey(0x3f800000, { k: 2, below: 1 }).threshold; // 1
 * ```
 */
export function selectionFromKey(
  key: number,
  counts: { readonly k: number; readonly below: number },
): MagnitudeSelection {
  const f = new Float32Array(new Uint32Array([key]).buffer)[0]!;
  return {
    k: counts.k,
    threshold: key >= NAN_KEY ? NaN : f,
    below: counts.below,
    ties: counts.k - counts.below,
  };
}

/**
 * The key a selection compares against.
 *
 * @param selection The selection.
 * @returns Its threshold's magnitude key.
 * @example
 * ```ts
 * import { thresholdKey } from "./select_magnitude.ts";
 * thresholdKey({ k: 1, threshold: 1, below: 0, ties: 1 }); // 0x3f800000
 * ```
 */
export function thresholdKey(selection: MagnitudeSelection): number {
  const t = selection.threshold;
  if (t !== t) return NAN_KEY;
  return new Uint32Array(new Float32Array([Math.abs(t)]).buffer)[0]!;
}

/**
 * Reference magnitude selection; see `Kernels.selectMagnitude`. Two passes of 2^15 and 2^16
 * bins over the bit patterns of |x| (which order like the magnitudes).
 *
 * @param tensors One tensor or several.
 * @param k How many to select.
 * @returns The selection.
 * @example
 * ```ts
 * import { selectMagnitudeJs } from "@modelpress/kernels";
 * selectMagnitudeJs(new Float32Array([3, -1, 2, 1]), 3); // { k: 3, threshold: 2, below: 2, ties: 1 }
 * ```
 */
export function selectMagnitudeJs(
  tensors: Float32Array | readonly Float32Array[],
  k: number,
): MagnitudeSelection {
  const list = tensorList(tensors);
  let total = 0;
  for (const t of list) total += t.length;
  checkSelectCount(total, k);
  if (k === 0) return { k: 0, threshold: 0, below: 0, ties: 0 };
  const high = new Uint32Array(1 << 15);
  for (const t of list) {
    const u = new Uint32Array(t.buffer, t.byteOffset, t.length);
    for (let e = 0; e < u.length; e++) {
      const key = Math.min(u[e]! & 0x7fffffff, NAN_KEY);
      high[key >>> 16]!++;
    }
  }
  const top = findRank(high, k);
  const low = new Uint32Array(1 << 16);
  for (const t of list) {
    const u = new Uint32Array(t.buffer, t.byteOffset, t.length);
    for (let e = 0; e < u.length; e++) {
      const key = Math.min(u[e]! & 0x7fffffff, NAN_KEY);
      if (key >>> 16 === top.bin) low[key & 0xffff]!++;
    }
  }
  const bottom = findRank(low, k - top.before);
  return selectionFromKey((top.bin << 16) | bottom.bin, { k, below: top.before + bottom.before });
}

/**
 * Reference in-place masking; see `Kernels.maskSmallest`.
 *
 * @param tensors The tensors, as given to the selection.
 * @param selection The selection.
 * @returns How many elements were zeroed.
 * @example
 * ```ts
 * import { maskSmallestJs, selectMagnitudeJs } from "@modelpress/kernels";
 * const w = new Float32Array([3, -1, 2, 1]);
 * maskSmallestJs(w, selectMagnitudeJs(w, 1)); // 1; w is [3, 0, 2, 1]
 * ```
 */
export function maskSmallestJs(
  tensors: Float32Array | readonly Float32Array[],
  selection: MagnitudeSelection,
): number {
  if (selection.k === 0) return 0;
  const tkey = thresholdKey(selection);
  let ties = selection.ties;
  let zeroed = 0;
  for (const t of tensorList(tensors)) {
    const u = new Uint32Array(t.buffer, t.byteOffset, t.length);
    for (let e = 0; e < u.length; e++) {
      const key = Math.min(u[e]! & 0x7fffffff, NAN_KEY);
      if (key < tkey || (key === tkey && ties-- > 0)) {
        u[e] = 0;
        zeroed++;
      }
    }
  }
  return zeroed;
}
