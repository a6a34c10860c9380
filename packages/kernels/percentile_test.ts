import assert from "node:assert/strict";
import { percentileFromHistogram } from "./percentile.ts";

Deno.test("percentileFromHistogram() interpolates inside the bin that reaches the rank", () => {
  const counts = new Uint32Array([1, 1, 1, 1]);
  assert.equal(percentileFromHistogram(counts, { min: 0, max: 4, percentile: 50 }), 2);
  assert.equal(percentileFromHistogram(counts, { min: 0, max: 4, percentile: 100 }), 4);
  assert.equal(percentileFromHistogram(counts, { min: 0, max: 4, percentile: 0 }), 0);
  assert.equal(
    percentileFromHistogram(new Uint32Array([0, 4, 0]), { min: 0, max: 3, percentile: 25 }),
    1.25,
  );
});

Deno.test("percentileFromHistogram() gives min for an empty histogram and rejects bad percentiles", () => {
  assert.equal(
    percentileFromHistogram(new Uint32Array(3), { min: -1, max: 1, percentile: 99 }),
    -1,
  );
  assert.throws(
    () => percentileFromHistogram(new Uint32Array(1), { min: 0, max: 1, percentile: 101 }),
    RangeError,
  );
});
