/**
 * The reference N:M structured sparsity mask.
 * @module
 */
import type { NmMaskOptions } from "../kernels.ts";
import { checkShape, resolveAxis } from "../_shape.ts";
import { NAN_KEY } from "./select_magnitude.ts";

/**
 * Reference N:M mask; see `Kernels.nmMask`.
 *
 * @param x The tensor.
 * @param options n, m, shape and axis.
 * @returns 1 for kept elements, 0 for pruned ones.
 * @throws {RangeError} When m does not divide the axis or n is not in 0..m.
 * @example
 * ```ts
 * import { nmMaskJs } from "@modelpress/kernels";
 * nmMaskJs(new Float32Array([1, -4, 3, 2]), { n: 2, m: 4 }); // [0, 1, 1, 0]
 * ```
 */
export function nmMaskJs(x: Float32Array, options: NmMaskOptions): Uint8Array {
  const out = new Uint8Array(x.length);
  const { outer, length, inner, n, m } = nmView(x.length, options);
  if (x.length === 0) return out;
  const u = new Uint32Array(x.buffer, x.byteOffset, x.length);
  const keys = new Uint32Array(m);
  for (let o = 0; o < outer; o++) {
    for (let g = 0; g < length; g += m) {
      for (let i = 0; i < inner; i++) {
        const base = (o * length + g) * inner + i;
        for (let j = 0; j < m; j++) keys[j] = Math.min(u[base + j * inner]! & 0x7fffffff, NAN_KEY);
        // Element j is kept when fewer than n others beat it (larger, or equal at a lower index).
        for (let j = 0; j < m; j++) {
          const kj = keys[j]!;
          let rank = 0;
          for (let l = 0; l < m; l++) {
            const kl = keys[l]!;
            if (kl > kj || (kl === kj && l < j)) rank++;
          }
          if (rank < n) out[base + j * inner] = 1;
        }
      }
    }
  }
  return out;
}

/** The groups of an N:M mask: x viewed as [outer, length, inner], groups of m along length. */
export interface NmView {
  /** Product of the dimensions before the axis. */
  readonly outer: number;
  /** The axis's length, a multiple of m. */
  readonly length: number;
  /** Product of the dimensions after the axis. */
  readonly inner: number;
  /** Elements kept per group. */
  readonly n: number;
  /** Group length. */
  readonly m: number;
}

/**
 * Checks N:M options and views the tensor around the axis.
 *
 * @param size Element count.
 * @param options n, m, shape and axis.
 * @returns The view.
 * @throws {RangeError} When m does not divide the axis or n is not in 0..m.
 * @example
 * ```ts
 * import { nmView } from "./nm_mask.ts";
 * nmView(8, { n: 2, m: 4, shape: [2, 4] }); // { outer: 2, length: 4, inner: 1, n: 2, m: 4 }
 * ```
 */
export function nmView(size: number, options: NmMaskOptions): NmView {
  const what = "Cannot make N:M mask";
  const { n, m } = options;
  if (!Number.isSafeInteger(m) || m < 1 || !Number.isSafeInteger(n) || n < 0 || n > m) {
    throw new RangeError(`${what}: ${n}:${m} is not a pair of integers with 0 <= n <= m, m >= 1`);
  }
  const shape = checkShape(size, { shape: options.shape, what });
  if (size === 0) return { outer: 0, length: 0, inner: 0, n, m };
  const axis = resolveAxis(options.axis ?? -1, { rank: shape.length, what });
  let outer = 1;
  let inner = 1;
  for (let d = 0; d < axis; d++) outer *= shape[d]!;
  for (let d = axis + 1; d < shape.length; d++) inner *= shape[d]!;
  const length = shape[axis]!;
  if (length % m !== 0) {
    throw new RangeError(`${what}: axis ${axis} has length ${length}, not a multiple of ${m}`);
  }
  return { outer, length, inner, n, m };
}
