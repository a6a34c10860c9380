import assert from "node:assert/strict";
import { histogramJs } from "./histogram.ts";

Deno.test("histogramJs() bins by floor((x - min) * bins / (max - min)) and clamps the outside", () => {
  const x = new Float32Array([-5, 0, 0.24, 0.25, 0.5, 0.99, 1, 7, NaN, -Infinity, Infinity]);
  assert.deepEqual(histogramJs(x, { bins: 4, min: 0, max: 1 }), new Uint32Array([4, 1, 1, 4]));
});

Deno.test("histogramJs() puts everything in the first bin up to a zero range, above it in the last", () => {
  const x = new Float32Array([2, 2, 1, 3]);
  assert.deepEqual(histogramJs(x, { bins: 3, min: 2, max: 2 }), new Uint32Array([3, 0, 1]));
});

Deno.test("histogramJs() rejects zero bins and reversed or infinite ranges", () => {
  const x = new Float32Array(1);
  assert.throws(() => histogramJs(x, { bins: 0, min: 0, max: 1 }), RangeError);
  assert.throws(() => histogramJs(x, { bins: 2, min: 1, max: 0 }), RangeError);
  assert.throws(() => histogramJs(x, { bins: 2, min: 0, max: Infinity }), RangeError);
});
