import assert from "node:assert/strict";
import { maskSmallestJs, selectMagnitudeJs } from "./select_magnitude.ts";
import { random, randomFloats, SPECIALS, withSpecials } from "../_testing.ts";

/** The oracle: sort magnitudes (NaN largest) and take the k-th. */
function kthBySort(values: Float32Array, k: number): number {
  const mags = Array.from(values, (v) => (Number.isNaN(v) ? Infinity * 2 : Math.abs(v)));
  mags.sort((a, b) => (Number.isNaN(a) ? 1 : Number.isNaN(b) ? -1 : a - b));
  return mags[k - 1]!;
}

Deno.test("selectMagnitudeJs() finds the k-th smallest magnitude as a sort does", () => {
  const x = withSpecials(randomFloats(5000, { seed: 1 }), {
    seed: 1,
    specials: SPECIALS.filter((v) => !Number.isNaN(v)),
  });
  for (const k of [1, 2, 100, 2500, 4999, 5000]) {
    const s = selectMagnitudeJs(x, k);
    assert.equal(s.threshold, kthBySort(x, k), `k ${k}`);
    let below = 0;
    for (const v of x) if (Math.abs(v) < s.threshold) below++;
    assert.equal(s.below, below);
    assert.equal(s.ties, k - below);
  }
});

Deno.test("selectMagnitudeJs() over many tensors equals selection over their concatenation", () => {
  const parts = [
    randomFloats(10, { seed: 2 }),
    new Float32Array(0),
    randomFloats(777, { seed: 3 }),
  ];
  const all = new Float32Array(787);
  all.set(parts[0]!);
  all.set(parts[2]!, 10);
  for (const k of [0, 1, 400, 787]) {
    assert.deepEqual(selectMagnitudeJs(parts, k), selectMagnitudeJs(all, k));
  }
});

Deno.test("maskSmallestJs() zeroes exactly k elements, ties in tensor then index order", () => {
  const a = new Float32Array([2, -1, 1, 3]);
  const b = new Float32Array([1, -0, 1]);
  const s = selectMagnitudeJs([a, b], 3);
  assert.deepEqual(s, { k: 3, threshold: 1, below: 1, ties: 2 });
  assert.equal(maskSmallestJs([a, b], s), 3);
  assert.deepEqual(a, new Float32Array([2, 0, 0, 3]));
  assert.deepEqual(b, new Float32Array([1, 0, 1]));
});

Deno.test("selectMagnitudeJs() ranks NaN above Infinity and handles k = 0 and all-equal values", () => {
  const x = new Float32Array([NaN, Infinity, 1]);
  assert.ok(Number.isNaN(selectMagnitudeJs(x, 3).threshold));
  assert.equal(selectMagnitudeJs(x, 2).threshold, Infinity);
  assert.deepEqual(selectMagnitudeJs(x, 0), { k: 0, threshold: 0, below: 0, ties: 0 });
  const same = new Float32Array(10).fill(-4);
  assert.deepEqual(selectMagnitudeJs(same, 4), { k: 4, threshold: 4, below: 0, ties: 4 });
  assert.equal(maskSmallestJs(same, selectMagnitudeJs(same, 4)), 4);
  assert.deepEqual(same.subarray(0, 5), new Float32Array([0, 0, 0, 0, -4]));
  assert.throws(() => selectMagnitudeJs(x, 4), RangeError);
  assert.throws(() => selectMagnitudeJs(x, 1.5), RangeError);
});

Deno.test("selectMagnitudeJs() distinguishes magnitudes one ulp apart", () => {
  const next = random(4);
  const base = Math.fround(1.2345);
  const up = new Float32Array(
    new Uint32Array([new Uint32Array(new Float32Array([base]).buffer)[0]! + 1]).buffer,
  )[0]!;
  const x = Float32Array.from({ length: 100 }, () => (next() < 0.5 ? base : -up));
  const lows = x.filter((v) => v === base).length;
  assert.equal(selectMagnitudeJs(x, lows).threshold, base);
  assert.equal(selectMagnitudeJs(x, lows + 1).threshold, up);
});
