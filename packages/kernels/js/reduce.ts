/**
 * The reference reductions: min, max, absmax, sum, sum of squares, whole, per axis, per block.
 * @module
 */
import type { AxisOptions, ReduceOp } from "../kernels.ts";
import { axisView, paramRow } from "../_shape.ts";

/** A reduction, including the L1 helper used by norms. */
export type ReduceOpJs = ReduceOp | "sumabs";

const REDUCE_OPS: ReadonlySet<string> = new Set(["min", "max", "absmax", "sum", "sumsq", "sumabs"]);

/**
 * The value of an empty reduction.
 *
 * @param op The reduction.
 * @returns +Infinity for min, -Infinity for max, else 0.
 * @example
 * ```ts
 * import { reduceIdentity } from "./reduce.ts";
 * reduceIdentity("min"); // Infinity
 * ```
 */
export function reduceIdentity(op: ReduceOpJs): number {
  return op === "min" ? Infinity : op === "max" ? -Infinity : 0;
}

/**
 * Checks a reduction name.
 *
 * @param op The name.
 * @returns Nothing.
 * @throws {TypeError} When it is not a reduction.
 * @example
 * ```ts
 * import { checkReduceOp } from "./reduce.ts";
 * checkReduceOp("sum");
 * ```
 */
export function checkReduceOp(op: string): void {
  if (!REDUCE_OPS.has(op)) throw new TypeError(`Cannot reduce tensor: unknown reduction '${op}'`);
}

/**
 * Reference reduction; see `Kernels.reduce`. Sums accumulate in float64 and round once.
 *
 * @param op The reduction.
 * @param x The tensor.
 * @param options Shape, axis and block size.
 * @returns The reduced values.
 * @example
 * ```ts
 * import { reduceJs } from "@modelpress/kernels";
 * reduceJs("sum", new Float32Array([1, 2, 3, 4]), { shape: [2, 2], axis: 1 }); // [4, 6]
 * ```
 */
export function reduceJs(op: ReduceOpJs, x: Float32Array, options: AxisOptions = {}): Float32Array {
  return Float32Array.from(reduceF64Js(op, x, options));
}

/**
 * The reduction before rounding to float32 (sums in float64, min/max exact).
 *
 * @param op The reduction.
 * @param x The tensor.
 * @param options Shape, axis and block size.
 * @returns The reduced values in float64.
 * @example
 * ```ts
 * import { reduceF64Js } from "@modelpress/kernels";
 * reduceF64Js("sumsq", new Float32Array([3, 4])); // Float64Array [25]
 * ```
 */
export function reduceF64Js(
  op: ReduceOpJs,
  x: Float32Array,
  options: AxisOptions = {},
): Float64Array {
  checkReduceOp(op);
  const view = axisView(x.length, { ...options, verb: "reduce" });
  const acc = new Float64Array(view.outputs).fill(reduceIdentity(op));
  let e = 0;
  for (let o = 0; o < view.outer; o++) {
    for (let c = 0; c < view.channels; c++) {
      const row = paramRow(view, { o, c });
      for (let i = 0; i < view.inner; i++, e++) {
        const j = row + i * view.innerStride;
        const v = x[e]!;
        const a = acc[j]!;
        switch (op) {
          case "min":
            acc[j] = Math.min(a, v);
            break;
          case "max":
            acc[j] = Math.max(a, v);
            break;
          case "absmax":
            acc[j] = Math.max(a, Math.abs(v));
            break;
          case "sum":
            acc[j] = a + v;
            break;
          case "sumsq":
            acc[j] = a + v * v;
            break;
          case "sumabs":
            acc[j] = a + Math.abs(v);
            break;
        }
      }
    }
  }
  return acc;
}
