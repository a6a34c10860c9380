/**
 * The reference matrix products: float32 and int8 x int8 -> int32.
 * @module
 */
import type { MatmulInt8Options, MatmulOptions } from "../kernels.ts";
import { checkMatmul } from "../_shape.ts";

/**
 * Reference float32 matrix product; see `Kernels.matmul`. Accumulates in float64.
 *
 * @param a [m, k] or, transposed, [k, m].
 * @param b [k, n] or, transposed, [n, k].
 * @param options Sizes and transposition.
 * @returns [m, n].
 * @example
 * ```ts
 * import { matmulJs } from "@modelpress/kernels";
 * matmulJs(new Float32Array([1, 2]), new Float32Array([3, 4]), { m: 1, k: 2, n: 1 }); // [11]
 * ```
 */
export function matmulJs(a: Float32Array, b: Float32Array, options: MatmulOptions): Float32Array {
  checkMatmul({ a: a.length, b: b.length }, options);
  const { m, k, n } = options;
  const [as, ap] = options.transposeA === true ? [1, m] : [k, 1];
  const [bp, bs] = options.transposeB === true ? [1, k] : [n, 1];
  const out = new Float32Array(m * n);
  for (let i = 0; i < m; i++) {
    for (let j = 0; j < n; j++) {
      let acc = 0;
      for (let p = 0; p < k; p++) acc += a[i * as + p * ap]! * b[p * bp + j * bs]!;
      out[i * n + j] = acc;
    }
  }
  return out;
}

/**
 * Reference int8 matrix product; see `Kernels.matmulInt8`. Exact, wrapping modulo 2^32.
 *
 * @param a [m, k] or, transposed, [k, m].
 * @param b [k, n] or, transposed, [n, k].
 * @param options Sizes, transposition and zero points.
 * @returns [m, n].
 * @example
 * ```ts
 * import { matmulInt8Js } from "@modelpress/kernels";
 * matmulInt8Js(new Int8Array([1, 2]), new Int8Array([3, 4]), { m: 1, k: 2, n: 1 }); // [11]
 * ```
 */
export function matmulInt8Js(a: Int8Array, b: Int8Array, options: MatmulInt8Options): Int32Array {
  checkMatmul({ a: a.length, b: b.length }, options);
  const { m, k, n } = options;
  const za = options.aZeroPoint ?? 0;
  const zb = options.bZeroPoint ?? 0;
  checkInt8ZeroPoints(za, zb);
  const [as, ap] = options.transposeA === true ? [1, m] : [k, 1];
  const [bp, bs] = options.transposeB === true ? [1, k] : [n, 1];
  const out = new Int32Array(m * n);
  for (let i = 0; i < m; i++) {
    for (let j = 0; j < n; j++) {
      let acc = 0;
      for (let p = 0; p < k; p++) {
        acc = (acc + (a[i * as + p * ap]! - za) * (b[p * bp + j * bs]! - zb)) | 0;
      }
      out[i * n + j] = acc;
    }
  }
  return out;
}

/**
 * Checks int8 zero points.
 *
 * @param za Zero point of a.
 * @param zb Zero point of b.
 * @returns Nothing.
 * @throws {RangeError} When one is not an integer in -128..127.
 * @example
 * ```ts
 * import { checkInt8ZeroPoints } from "./matmul.ts";
 * checkInt8ZeroPoints(0, -128);
 * ```
 */
export function checkInt8ZeroPoints(za: number, zb: number): void {
  for (const z of [za, zb]) {
    if (!Number.isInteger(z) || z < -128 || z > 127) {
      throw new RangeError(`Cannot multiply matrices: zero point ${z} is not in -128..127`);
    }
  }
}
