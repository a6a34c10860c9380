/**
 * Linear (affine) quantization of one tensor: range, parameters, codes and the error they make.
 * @module
 */
import type { Kernels } from "@modelpress/kernels";
import { type QuantGrid, quantGrid } from "./quant_grid.ts";
import { linearParams } from "./linear_params.ts";
import { type RangeMethod, weightRange } from "./weight_range.ts";
import { paramLayout } from "./_layout.ts";
import { type Codes, dequantizeCodes, quantizeCodes } from "./_codes.ts";

/** Options of {@linkcode quantizeTensor}. */
export interface QuantizeTensorOptions {
  /** The tensor's dims; their product is the data's length. */
  readonly shape: readonly number[];
  /** Bits per code, 2..8 or 16. Default 8. */
  readonly bits?: number;
  /** Signed codes. Default true. */
  readonly signed?: boolean;
  /** Symmetric quantization (see {@linkcode linearParams}). Default false. */
  readonly symmetric?: boolean;
  /** The axis kept: one range per index along it (per channel), or per block with `blockSize`. */
  readonly axis?: number;
  /** Block length along `axis`. */
  readonly blockSize?: number;
  /** How ranges are chosen. Default min/max. */
  readonly range?: RangeMethod;
  /** The tensor's name, for errors. */
  readonly name?: string;
}

/** A quantized tensor and what quantizing it cost. */
export interface QuantizedTensor {
  /** The grid. */
  readonly grid: QuantGrid;
  /** One code per element, unpacked, in the grid's container type. */
  readonly codes: Codes;
  /** Scales, laid out as `paramShape`. */
  readonly scale: Float32Array;
  /** Zero points, laid out as `paramShape`. */
  readonly zeroPoint: Int32Array;
  /** Dims of the scale and zero point: `[]`, `[shape[axis]]` or the blocked shape. */
  readonly paramShape: readonly number[];
  /** The normalized axis kept, if any. */
  readonly axis: number | undefined;
  /** The block size, if blocked. */
  readonly blockSize: number | undefined;
  /** Mean squared error of dequantize(quantize(x)) against x. */
  readonly mse: number;
  /** Signal-to-quantization-noise ratio in dB; null when the error is 0. */
  readonly sqnrDb: number | null;
}

/**
 * Quantizes a tensor: computes its ranges ({@linkcode weightRange}), affine parameters
 * ({@linkcode linearParams}) and codes with the kernels, and measures the error of
 * dequantizing them.
 *
 * @param kernels The kernels.
 * @param x The values.
 * @param options Shape, bits, signedness, symmetry, layout and range method.
 * @returns The codes, parameters and error.
 * @throws {RangeError} When an option is out of range or the values are not finite.
 * @example
 * ```ts
 * import { createKernels } from "@modelpress/kernels";
 * import { quantizeTensor } from "@modelpress/quantize";
 * const kernels = await createKernels({ backend: "js" });
 * const q = await quantizeTensor(kernels, new Float32Array([-1, 0, 0.5, 2]), {
 *   shape: [2, 2],
 *   axis: 0,
 *   symmetric: true,
 * });
 * q.scale; // [1 / 127, 2 / 127]
 * ```
 */
export async function quantizeTensor(
  kernels: Kernels,
  x: Float32Array,
  options: QuantizeTensorOptions,
): Promise<QuantizedTensor> {
  const name = options.name ?? "";
  const grid = quantGrid(options.bits ?? 8, { signed: options.signed ?? true });
  const count = options.shape.reduce((a, b) => a * b, 1);
  if (count !== x.length) {
    throw new RangeError(
      `Cannot quantize tensor '${name}': shape [${options.shape}] needs ${count} values, got ${x.length}`,
    );
  }
  const layout = paramLayout(name, options);
  const symmetric = options.symmetric ?? false;
  const { min, max } = await weightRange(kernels, x, {
    ...options,
    grid,
    symmetric,
    name,
  });
  const params = linearParams(min, max, { grid, symmetric });
  const codeOptions = { grid, params, layout, name };
  const codes = await quantizeCodes(kernels, x, codeOptions);
  const back = await dequantizeCodes(kernels, codes, codeOptions);
  let signal = 0;
  let noise = 0;
  for (let i = 0; i < x.length; i++) {
    const v = x[i]!;
    const e = back[i]! - v;
    signal += v * v;
    noise += e * e;
  }
  return {
    grid,
    codes,
    scale: params.scale,
    zeroPoint: params.zeroPoint,
    paramShape: layout.paramShape,
    axis: layout.axis,
    blockSize: layout.blockSize,
    mse: x.length === 0 ? 0 : noise / x.length,
    sqnrDb: noise === 0 ? null : 10 * Math.log10(signal / noise),
  };
}
