/**
 * A tensor stored as codes into a codebook (`log` and `kmeans` quantization), and its decoding.
 * @module
 */
import type { Kernels } from "@modelpress/kernels";
import { paramLayout } from "./_layout.ts";
import { groupedOrder } from "./_groups.ts";

/** The codebook methods. */
export type CodebookMethod = "log" | "kmeans";

/**
 * A tensor quantized onto codebooks: each element is a `bits`-bit code indexing its group's
 * codebook of `2^bits` values; there is one group per tensor, or one per index along `axis`.
 */
export interface CodebookTensor {
  /** How the codebook was made. */
  readonly method: CodebookMethod;
  /** Bits per code. */
  readonly bits: number;
  /** One code per element, each in `0 .. 2^bits - 1`, in the tensor's row-major order. */
  readonly codes: Uint8Array;
  /** Values per group's codebook: `2^bits`. */
  readonly size: number;
  /** How many groups: 1 per tensor, else `shape[axis]`. */
  readonly groups: number;
  /** The codebooks, group after group: group g's code c stands for `codebook[g * size + c]`. */
  readonly codebook: Float32Array;
  /** The tensor's dims. */
  readonly shape: readonly number[];
  /** The normalized axis of the groups, or undefined per tensor. */
  readonly axis: number | undefined;
  /** One scale per group: `log`, the power of two 2^E; `kmeans`, the largest |centroid|. */
  readonly scale: Float32Array;
  /** `kmeans`: the most Lloyd iterations any group ran; `log`: 0. */
  readonly iterations: number;
  /** Mean squared error of the decoded tensor against the original. */
  readonly mse: number;
  /** Signal-to-quantization-noise ratio in dB; null when the error is 0. */
  readonly sqnrDb: number | null;
}

/** The most codebook entries one `codebookDecode` call takes with 16-bit indices. */
const MAX_DECODE_CODES = 65536;

/**
 * Decodes a codebook tensor with the kernels' `codebookDecode` (every code looked up in its
 * group's codebook): the same values the emitted Gather computes.
 *
 * @param kernels The kernels.
 * @param q The tensor's codes and codebooks (only `codes`, `codebook`, `size`, `shape` and
 *   `axis` are read).
 * @returns The values, in row-major order.
 * @throws {RangeError} When a code or the codebook does not fit the layout.
 * @example
 * ```ts
 * import { createKernels } from "@modelpress/kernels";
 * import { decodeCodebookTensor } from "@modelpress/quantize";
 * const kernels = await createKernels({ backend: "js" });
 * await decodeCodebookTensor(kernels, {
 *   codes: new Uint8Array([1, 0, 0, 1]),
 *   codebook: new Float32Array([0, 1, 0, 2]),
 *   size: 2,
 *   shape: [2, 2],
 *   axis: 1,
 * }); // [1, 0, 0, 2]: column 1 reads the second codebook
 * ```
 */
export async function decodeCodebookTensor(
  kernels: Kernels,
  q: Pick<CodebookTensor, "codes" | "codebook" | "size" | "shape" | "axis">,
): Promise<Float32Array> {
  const layout = paramLayout("", { shape: q.shape, axis: q.axis });
  const { size } = q;
  if (q.codebook.length !== layout.count * size) {
    throw new RangeError(
      `Cannot decode codebook tensor: ${layout.count} groups of ${size} need ${
        layout.count * size
      } codebook values, got ${q.codebook.length}`,
    );
  }
  if (layout.count * size <= 256) {
    // Every flat index fits a byte: one lookup in the concatenated codebooks.
    const flat = new Uint8Array(q.codes.length);
    const { group } = groupedOrder(layout);
    for (let i = 0; i < flat.length; i++) flat[i] = check(q.codes[i]!, size) + group[i]! * size;
    return await kernels.codebookDecode(flat, q.codebook);
  }
  // Batches of whole groups whose codebooks together stay within 16-bit indices.
  const { groups, order, start } = groupedOrder(layout);
  const out = new Float32Array(q.codes.length);
  const perBatch = Math.max(1, Math.floor(MAX_DECODE_CODES / size));
  for (let g0 = 0; g0 < groups; g0 += perBatch) {
    const g1 = Math.min(groups, g0 + perBatch);
    const from = start[g0]!;
    const to = start[g1]!;
    const indices = new Uint16Array(to - from);
    for (let g = g0; g < g1; g++) {
      for (let k = start[g]!; k < start[g + 1]!; k++) {
        indices[k - from] = check(q.codes[order[k]!]!, size) + (g - g0) * size;
      }
    }
    const values = await kernels.codebookDecode(
      indices,
      q.codebook.subarray(g0 * size, g1 * size),
    );
    for (let k = from; k < to; k++) out[order[k]!] = values[k - from]!;
  }
  return out;
}

function check(code: number, size: number): number {
  if (code >= size) {
    throw new RangeError(`Cannot decode codebook tensor: code ${code} is not below ${size}`);
  }
  return code;
}
