/**
 * Quantizing onto a grid, narrowed ranges included, through the kernels. Imported only from
 * this folder.
 * @module
 */
import type { AffineParams, Kernels, QuantizedArray } from "@modelpress/kernels";
import type { QuantGrid } from "./quant_grid.ts";
import { axisOptions, type ParamLayout } from "./_layout.ts";

/** Codes in the grid's container, unpacked, one per element. */
export type Codes = Int8Array | Uint8Array | Int16Array | Uint16Array;

/**
 * Quantizes with the kernels into the grid's container, then clamps to the grid (the container
 * saturates at its own, wider range; clamping the rounded code is the same as saturating to the
 * narrow one).
 *
 * @param kernels The kernels.
 * @param x The values.
 * @param options Grid, parameters and layout.
 * @returns The codes.
 */
export async function quantizeCodes(
  kernels: Kernels,
  x: Float32Array,
  options: { grid: QuantGrid; params: AffineParams; layout: ParamLayout; name: string },
): Promise<Codes> {
  const { grid, params, layout } = options;
  const codes = await kernels.quantize(x, {
    ...axisOptions(layout),
    type: grid.container,
    scale: params.scale,
    zeroPoint: params.zeroPoint,
    name: options.name,
  }) as Codes;
  if (grid.narrowed) {
    for (let i = 0; i < codes.length; i++) {
      const c = codes[i]!;
      if (c < grid.qmin) codes[i] = grid.qmin;
      else if (c > grid.qmax) codes[i] = grid.qmax;
    }
  }
  return codes;
}

/**
 * Dequantizes codes from {@linkcode quantizeCodes} with the kernels.
 *
 * @param kernels The kernels.
 * @param codes The codes.
 * @param options Grid, parameters and layout.
 * @returns The values.
 */
export async function dequantizeCodes(
  kernels: Kernels,
  codes: Codes,
  options: { grid: QuantGrid; params: AffineParams; layout: ParamLayout; name: string },
): Promise<Float32Array> {
  const { grid, params, layout } = options;
  return await kernels.dequantize(codes as QuantizedArray, {
    ...axisOptions(layout),
    type: grid.container,
    scale: params.scale,
    zeroPoint: params.zeroPoint,
    name: options.name,
  });
}
