import assert from "node:assert/strict";
import { log2DequantizeJs, log2Params, log2QuantizeJs, nearestExponent } from "./log2_quantize.ts";

function bits(v: number): number {
  return new Uint32Array(new Float32Array([v]).buffer)[0]!;
}

Deno.test("nearestExponent() rounds to the nearest power of two, 1.5 * 2^e up", () => {
  assert.equal(nearestExponent(bits(1)), 0);
  assert.equal(nearestExponent(bits(1.4999999)), 0);
  assert.equal(nearestExponent(bits(1.5)), 1);
  assert.equal(nearestExponent(bits(0.3)), -2);
  assert.equal(nearestExponent(bits(2 ** -149)), -149);
  assert.equal(nearestExponent(bits(3 * 2 ** -149)), -147);
  assert.equal(nearestExponent(bits(2 ** -130)), -130);
});

Deno.test("log2QuantizeJs() codes sign and exponent, clamps, and sends small values and NaN to 0", () => {
  const options = { bits: 4, maxExponent: 0 };
  assert.deepEqual(log2Params(options), { eMin: -6, maxCode: 7 });
  const x = new Float32Array([
    1,
    -0.25,
    0,
    -0,
    100,
    -Infinity,
    2 ** -6,
    2 ** -7,
    2 ** -7 * 0.99,
    NaN,
  ]);
  assert.deepEqual(log2QuantizeJs(x, options), new Int8Array([7, -5, 0, 0, 7, -7, 1, 1, 0, 0]));
  assert.deepEqual(
    log2DequantizeJs(new Int8Array([7, -5, 0, 1]), options),
    new Float32Array([1, -0.25, 0, 2 ** -6]),
  );
});

Deno.test("log2QuantizeJs() rejects bits outside 2..8 and codes beyond the range", () => {
  assert.throws(() => log2QuantizeJs(new Float32Array(1), { bits: 9, maxExponent: 0 }), RangeError);
  assert.throws(
    () => log2DequantizeJs(new Int8Array([8]), { bits: 4, maxExponent: 0 }),
    RangeError,
  );
});
