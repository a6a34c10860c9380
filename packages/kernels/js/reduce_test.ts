import assert from "node:assert/strict";
import { reduceJs } from "./reduce.ts";
import { assertSameFloats } from "../_testing.ts";

Deno.test("reduceJs() reduces the whole tensor, empty tensors to the identity", () => {
  const x = new Float32Array([1, -5, 3]);
  assert.deepEqual(reduceJs("min", x), new Float32Array([-5]));
  assert.deepEqual(reduceJs("max", x), new Float32Array([3]));
  assert.deepEqual(reduceJs("absmax", x), new Float32Array([5]));
  assert.deepEqual(reduceJs("sum", x), new Float32Array([-1]));
  assert.deepEqual(reduceJs("sumsq", x), new Float32Array([35]));
  const empty = new Float32Array(0);
  assertSameFloats(
    ["min", "max", "absmax", "sum", "sumsq"].map((op) => reduceJs(op as "min", empty)[0]!),
    [Infinity, -Infinity, 0, 0, 0],
  );
});

Deno.test("reduceJs() propagates NaN, orders -0 below +0 and sums infinities as IEEE", () => {
  assert.ok(Number.isNaN(reduceJs("max", new Float32Array([1, NaN, 2]))[0]));
  assert.ok(Number.isNaN(reduceJs("absmax", new Float32Array([NaN]))[0]));
  assert.ok(Object.is(reduceJs("min", new Float32Array([0, -0]))[0], -0));
  assert.ok(Object.is(reduceJs("max", new Float32Array([-0, 0]))[0], 0));
  assert.ok(Number.isNaN(reduceJs("sum", new Float32Array([Infinity, -Infinity]))[0]));
  assert.equal(reduceJs("sumsq", new Float32Array([1e20]))[0], Infinity);
});

Deno.test("reduceJs() accumulates sums in float64 and rounds once", () => {
  // In float32 steps, 2^24 + 1 + 1 stays 2^24; in float64 it is 2^24 + 2.
  assert.equal(reduceJs("sum", new Float32Array([2 ** 24, 1, 1]))[0], 2 ** 24 + 2);
  // Overflowing partial sums in float32 would give Infinity here.
  assert.equal(reduceJs("sum", new Float32Array([3e38, 3e38, -3e38]))[0], Math.fround(3e38));
});

Deno.test("reduceJs() keeps the axis: one value per index along it", () => {
  const x = Float32Array.from({ length: 24 }, (_, i) => i);
  // Shape [2, 3, 4]: axis 1 reduces over dims 0 and 2.
  assert.deepEqual(
    reduceJs("sum", x, { shape: [2, 3, 4], axis: 1 }),
    new Float32Array([
      0 + 1 + 2 + 3 + 12 + 13 + 14 + 15,
      4 + 5 + 6 + 7 + 16 + 17 + 18 + 19,
      8 + 9 + 10 + 11 + 20 + 21 + 22 + 23,
    ]),
  );
  assert.deepEqual(
    reduceJs("max", x, { shape: [2, 3, 4], axis: -1 }),
    new Float32Array([20, 21, 22, 23]),
  );
});

Deno.test("reduceJs() reduces blocks along the axis, the last block short", () => {
  const x = Float32Array.from({ length: 10 }, (_, i) => i);
  // Shape [2, 5], blocks of 2 along axis 1: [2, 3] results.
  assert.deepEqual(
    reduceJs("max", x, { shape: [2, 5], axis: 1, blockSize: 2 }),
    new Float32Array([1, 3, 4, 6, 8, 9]),
  );
});

Deno.test("reduceJs() rejects a shape that does not match and an axis out of range", () => {
  assert.throws(() => reduceJs("sum", new Float32Array(5), { shape: [2, 3], name: "w" }), {
    name: "RangeError",
    message: "Cannot reduce tensor 'w': shape [2, 3] has 6 elements but the data has 5",
  });
  assert.throws(() => reduceJs("sum", new Float32Array(6), { shape: [2, 3], axis: 2 }), RangeError);
  assert.throws(() => reduceJs("sum", new Float32Array(6), { blockSize: 2 }), RangeError);
  assert.throws(() => reduceJs("mean" as "sum", new Float32Array(6)), TypeError);
});
