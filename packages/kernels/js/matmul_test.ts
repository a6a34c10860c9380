import assert from "node:assert/strict";
import { matmulInt8Js, matmulJs } from "./matmul.ts";

Deno.test("matmulJs() multiplies [m, k] by [k, n] and honours transposition", () => {
  const a = new Float32Array([1, 2, 3, 4, 5, 6]); // [2, 3]
  const b = new Float32Array([1, 0, 0, 1, 1, 1]); // [3, 2]
  assert.deepEqual(matmulJs(a, b, { m: 2, k: 3, n: 2 }), new Float32Array([4, 5, 10, 11]));
  // X^T X of a [3, 2] matrix.
  const x = new Float32Array([1, 2, 3, 4, 5, 6]);
  assert.deepEqual(
    matmulJs(x, x, { m: 2, k: 3, n: 2, transposeA: true }),
    new Float32Array([35, 44, 44, 56]),
  );
  assert.deepEqual(
    matmulJs(a, a, { m: 2, k: 3, n: 2, transposeB: true }),
    new Float32Array([14, 32, 32, 77]),
  );
  assert.throws(() => matmulJs(a, b, { m: 3, k: 3, n: 2 }), RangeError);
});

Deno.test("matmulInt8Js() subtracts zero points and wraps modulo 2^32 as MatMulInteger", () => {
  const a = new Int8Array([1, 2]);
  const b = new Int8Array([3, 4]);
  assert.deepEqual(
    matmulInt8Js(a, b, { m: 1, k: 2, n: 1, aZeroPoint: 1, bZeroPoint: -1 }),
    new Int32Array([5]),
  );
  const k = 140000;
  const big = new Int8Array(k).fill(-128);
  // 140000 * 16384 = 2293760000 wraps to 2293760000 - 2^32.
  assert.deepEqual(
    matmulInt8Js(big, big, { m: 1, k, n: 1 }),
    new Int32Array([2293760000 - 2 ** 32]),
  );
  assert.throws(() => matmulInt8Js(a, b, { m: 1, k: 2, n: 1, aZeroPoint: 200 }), RangeError);
});
