/**
 * The reference codebook encoder (nearest code) and decoder.
 * @module
 */

/** A codebook's distinct values in ascending order, each with its lowest index. */
export interface SortedCodebook {
  /** Distinct values, ascending. */
  readonly values: Float64Array;
  /** The lowest index of each value in the codebook. */
  readonly indices: Uint16Array;
}

/**
 * Checks a codebook and sorts its distinct values.
 *
 * @param codebook 1..65536 finite codes.
 * @returns The distinct values in ascending order with their lowest indices.
 * @throws {RangeError} When the codebook is empty, too long or not finite.
 * @example
 * ```ts
 * import { sortCodebook } from "./codebook.ts";
 * sortCodebook(new Float32Array([1, -1, 1])); // { values: [-1, 1], indices: [1, 0] }
 * ```
 */
export function sortCodebook(codebook: Float32Array): SortedCodebook {
  if (codebook.length < 1 || codebook.length > 65536) {
    throw new RangeError(
      `Cannot encode with codebook: ${codebook.length} codes, expected 1..65536`,
    );
  }
  const order = Array.from(codebook.keys());
  for (const j of order) {
    if (!Number.isFinite(codebook[j]!)) {
      throw new RangeError(`Cannot encode with codebook: code ${j} is ${codebook[j]}`);
    }
  }
  // Stable sort: equal values keep the lowest index first.
  order.sort((a, b) => codebook[a]! - codebook[b]!);
  const values: number[] = [];
  const indices: number[] = [];
  for (const j of order) {
    const v = codebook[j]!;
    if (values.length > 0 && values[values.length - 1] === v) continue;
    values.push(v);
    indices.push(j);
  }
  return { values: Float64Array.from(values), indices: Uint16Array.from(indices) };
}

/**
 * Reference codebook encoding; see `Kernels.codebookEncode`. O(n log K).
 *
 * @param x The values.
 * @param codebook 1..65536 finite codes.
 * @returns The index of the nearest code per value.
 * @example
 * ```ts
 * import { codebookEncodeJs } from "@modelpress/kernels";
 * codebookEncodeJs(new Float32Array([0.5, -3]), new Float32Array([-1, 0, 1])); // [1, 0]
 * ```
 */
export function codebookEncodeJs(
  x: Float32Array,
  codebook: Float32Array,
): Uint8Array | Uint16Array {
  const { values, indices } = sortCodebook(codebook);
  const out = codebook.length <= 256 ? new Uint8Array(x.length) : new Uint16Array(x.length);
  const last = values.length - 1;
  for (let e = 0; e < x.length; e++) {
    const v = x[e]!;
    if (v !== v) continue;
    // First position whose value is >= v.
    let lo = 0;
    let hi = values.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (values[mid]! < v) lo = mid + 1;
      else hi = mid;
    }
    let best: number;
    if (lo === 0) best = 0;
    else if (lo > last) best = last;
    else {
      const below = v - values[lo - 1]!;
      const above = values[lo]! - v;
      best = below < above ? lo - 1 : above < below ? lo : (
        indices[lo - 1]! < indices[lo]! ? lo - 1 : lo
      );
    }
    out[e] = indices[best]!;
  }
  return out;
}

/**
 * Reference codebook decoding; see `Kernels.codebookDecode`.
 *
 * @param indices Indices into the codebook.
 * @param codebook The codes.
 * @returns The values.
 * @throws {RangeError} When an index is out of range.
 * @example
 * ```ts
 * import { codebookDecodeJs } from "@modelpress/kernels";
 * codebookDecodeJs(new Uint8Array([2, 0]), new Float32Array([-1, 0, 1])); // [1, -1]
 * ```
 */
export function codebookDecodeJs(
  indices: Uint8Array | Uint16Array,
  codebook: Float32Array,
): Float32Array {
  const out = new Float32Array(indices.length);
  for (let e = 0; e < indices.length; e++) {
    const j = indices[e]!;
    if (j >= codebook.length) {
      throw new RangeError(
        `Cannot decode with codebook: index ${j} at ${e} is not below ${codebook.length}`,
      );
    }
    out[e] = codebook[j]!;
  }
  return out;
}
