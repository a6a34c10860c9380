import assert from "node:assert/strict";
import { nmMaskJs } from "./nm_mask.ts";

Deno.test("nmMaskJs() keeps the n largest magnitudes of every m along the last axis", () => {
  const x = new Float32Array([1, -4, 3, 2, 0, 0, 0, 5]);
  assert.deepEqual(nmMaskJs(x, { n: 2, m: 4 }), new Uint8Array([0, 1, 1, 0, 1, 0, 0, 1]));
});

Deno.test("nmMaskJs() groups along another axis and ranks NaN highest, ties to the lower index", () => {
  // Shape [4, 2], groups of 4 along axis 0: columns [1, 2, 2, NaN] and [7, 7, 7, 7].
  const x = new Float32Array([1, 7, 2, 7, 2, 7, NaN, 7]);
  assert.deepEqual(
    nmMaskJs(x, { n: 2, m: 4, shape: [4, 2], axis: 0 }),
    new Uint8Array([0, 1, 1, 1, 0, 0, 1, 0]),
  );
});

Deno.test("nmMaskJs() rejects an axis not divisible by m and n above m", () => {
  assert.throws(() => nmMaskJs(new Float32Array(6), { n: 2, m: 4 }), RangeError);
  assert.throws(() => nmMaskJs(new Float32Array(8), { n: 5, m: 4 }), RangeError);
});
