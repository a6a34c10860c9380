/**
 * Log (power-of-two) quantization with sign, as codes into a codebook.
 *
 * The design notes' formula, `round(log2(x / s) * b / log2(t))`, takes the logarithm of
 * negative values and mixes the bit count into the exponent; what it means is this: keep the
 * sign, round |x| / s to the nearest power of two, and store that exponent in the remaining bits.
 * @module
 */
import type { Kernels } from "@modelpress/kernels";
import { paramLayout } from "./_layout.ts";
import { assertFinite, groupedOrder, reconstructionError } from "./_groups.ts";
import { type CodebookTensor, decodeCodebookTensor } from "./codebook_tensor.ts";

/** Options of {@linkcode logCodebook}. */
export interface LogCodebookOptions {
  /** The tensor's dims; their product is the data's length. */
  readonly shape: readonly number[];
  /** Bits per code, 3..8: one sign bit and `bits - 1` exponent bits. Default 4. */
  readonly bits?: number;
  /** One scale per index along this axis (per channel); per tensor when absent. */
  readonly axis?: number;
  /** The tensor's name, for errors. */
  readonly name?: string;
}

/**
 * Quantizes a tensor to signed powers of two and returns the codes with their codebook.
 *
 * Code layout for b bits, with `h = 2^(b-1)`: bit `b-1` is the sign (1 = negative) and the low
 * `b-1` bits hold m. m = 0 is zero (code 0; code h, "minus zero", also decodes to 0 and is never
 * written). m in 1..h-1 stands for `±s · 2^(m - (h - 1))`: m = h-1 is the scale s itself and each
 * step down halves it, so `h - 1` magnitudes from s down to `s · 2^(2-h)`. The scale of a group
 * (the tensor, or one channel) is `s = 2^E`, the power of two nearest to its largest |x|. Each
 * value goes to the power of two nearest to it in value (ties up: `1.5 · 2^e` goes to `2^(e+1)`),
 * clamped to s; below half the smallest magnitude it becomes exactly 0. The rounding is the
 * kernels' `log2Quantize`; the codebook of a group is `[0, s·2^(2-h), ..., s, 0, -s·2^(2-h),
 * ..., -s]`. Magnitudes below float32's smallest subnormal decode to 0.
 *
 * @param kernels The kernels.
 * @param x The values.
 * @param options Shape, bits and axis.
 * @returns The codes, codebooks (`2^bits` values per group) and error.
 * @throws {RangeError} When bits is outside 3..8, the shape does not fit or a value is not finite.
 * @example
 * ```ts
 * import { createKernels } from "@modelpress/kernels";
 * import { logCodebook } from "@modelpress/quantize";
 * const kernels = await createKernels({ backend: "js" });
 * const q = await logCodebook(kernels, new Float32Array([1, -0.25, 0, 0.3]), {
 *   shape: [4],
 *   bits: 4,
 * });
 * q.codes; // [7, 13, 0, 5]: 1 = 2^0, -0.25 = -2^-2, 0, 0.3 -> 0.25
 * ```
 */
export async function logCodebook(
  kernels: Kernels,
  x: Float32Array,
  options: LogCodebookOptions,
): Promise<CodebookTensor> {
  const name = options.name ?? "";
  const bits = options.bits ?? 4;
  if (!(Number.isInteger(bits) && bits >= 3 && bits <= 8)) {
    throw new RangeError(
      `Cannot log-quantize tensor '${name}': bits must be an integer 3..8, got ${bits}`,
    );
  }
  const count = options.shape.reduce((a, b) => a * b, 1);
  if (count !== x.length) {
    throw new RangeError(
      `Cannot log-quantize tensor '${name}': shape [${options.shape}] needs ${count} values, got ${x.length}`,
    );
  }
  assertFinite(x, name);
  const layout = paramLayout(name, { shape: options.shape, axis: options.axis });
  const { groups, group, order, start } = groupedOrder(layout);
  const half = 2 ** (bits - 1);
  const size = 2 * half;
  const exponent = new Int32Array(groups);
  for (let g = 0; g < groups; g++) {
    let max = 0;
    for (let k = start[g]!; k < start[g + 1]!; k++) max = Math.max(max, Math.abs(x[order[k]!]!));
    exponent[g] = max === 0 ? 0 : nearestPowerOfTwo(max);
  }
  // Dividing by a power of two is exact (for normal results), so one kernel call with the
  // largest exponent 0 rounds every group as a call with its own exponent would.
  const normalized = new Float32Array(x.length);
  for (let i = 0; i < x.length; i++) normalized[i] = x[i]! * 2 ** -exponent[group[i]!]!;
  const signed = await kernels.log2Quantize(normalized, { bits, maxExponent: 0 });
  const codes = new Uint8Array(x.length);
  for (let i = 0; i < x.length; i++) {
    const c = signed[i]!;
    codes[i] = c < 0 ? half | -c : c;
  }
  const codebook = new Float32Array(groups * size);
  const scale = new Float32Array(groups);
  for (let g = 0; g < groups; g++) {
    const e = exponent[g]!;
    scale[g] = 2 ** e;
    for (let m = 1; m < half; m++) {
      const v = 2 ** (e + m - (half - 1));
      codebook[g * size + m] = v;
      codebook[g * size + half + m] = -v;
    }
  }
  const q = { codes, codebook, size, shape: options.shape, axis: layout.axis };
  const { mse, sqnrDb } = reconstructionError(x, await decodeCodebookTensor(kernels, q));
  return { method: "log", bits, ...q, groups, scale, iterations: 0, mse, sqnrDb };
}

/** The exponent of the power of two nearest to a positive finite value (ties up). */
function nearestPowerOfTwo(v: number): number {
  let e = Math.floor(Math.log2(v));
  // log2 may be off by one near powers of two; settle on 2^e <= v < 2^(e+1).
  if (2 ** e > v) e--;
  else if (2 ** (e + 1) <= v) e++;
  return v >= 1.5 * 2 ** e ? e + 1 : e;
}
