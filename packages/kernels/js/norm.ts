/**
 * The reference L1/L2 norms.
 * @module
 */
import type { NormOptions } from "../kernels.ts";
import { reduceF64Js, reduceJs } from "./reduce.ts";

/**
 * Checks the norm order.
 *
 * @param ord The order.
 * @returns Nothing.
 * @throws {RangeError} When it is neither 1 nor 2.
 * @example
 * ```ts
 * import { checkNormOrder } from "./norm.ts";
 * checkNormOrder(2);
 * ```
 */
export function checkNormOrder(ord: number): void {
  if (ord !== 1 && ord !== 2) throw new RangeError(`Cannot take norm: order ${ord} is not 1 or 2`);
}

/**
 * Reference norms; see `Kernels.norm`. L2 is `fround(sqrt(sum of squares in float64))`.
 *
 * @param x The tensor.
 * @param options Order, shape and axis.
 * @returns The norms.
 * @example
 * ```ts
 * import { normJs } from "@modelpress/kernels";
 * normJs(new Float32Array([3, 4, 0, 1]), { ord: 1, shape: [2, 2], axis: 1 }); // [3, 5]
 * ```
 */
export function normJs(x: Float32Array, options: NormOptions): Float32Array {
  checkNormOrder(options.ord);
  const { ord: _, ...axis } = options;
  if (options.ord === 1) return reduceJs("sumabs", x, axis);
  return Float32Array.from(reduceF64Js("sumsq", x, axis), Math.sqrt);
}
