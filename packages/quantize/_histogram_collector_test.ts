import assert from "node:assert/strict";
import { seededFloats } from "../../test/support/prng.ts";
import { HistogramCollector } from "./_histogram_collector.ts";

function batchesOf(n: number, size: number, seed: number): Float32Array[] {
  // Later batches are wider, so the range grows several times.
  return Array.from({ length: n }, (_, i) => seededFloats(size, seed + i).map((v) => v * (i + 1)));
}

Deno.test("HistogramCollector streaming equals one pass over all the data", () => {
  const batches = batchesOf(12, 500, 7);
  batches[3]![0] = NaN;
  batches[5]![1] = Infinity;
  const streamed = new HistogramCollector(256);
  for (const b of batches) streamed.add(b);
  const all = new Float32Array(batches.reduce((n, b) => n + b.length, 0));
  let at = 0;
  for (const b of batches) {
    all.set(b, at);
    at += b.length;
  }
  const once = new HistogramCollector(256);
  once.add(all);
  assert.equal(streamed.min, once.min);
  assert.equal(streamed.max, once.max);
  assert.equal(streamed.count, 12 * 500 - 2);
  assert.deepEqual(streamed.histogram(), once.histogram());
  const finite = Array.from(all).filter(Number.isFinite);
  assert.equal(streamed.min, Math.min(...finite));
  assert.equal(streamed.max, Math.max(...finite));
  const h = streamed.histogram();
  assert.equal(h.counts.reduce((a, b) => a + b, 0), finite.length);
  // Every value lies in its bin.
  for (const v of finite.slice(0, 200)) {
    const k = Math.floor(v / h.binWidth) - h.first;
    assert.ok(k >= 0 && k < 256 && h.counts[k]! > 0);
  }
});

Deno.test("HistogramCollector keeps its size whatever the number of batches", () => {
  const few = new HistogramCollector(512);
  const many = new HistogramCollector(512);
  for (const b of batchesOf(2, 100, 1)) few.add(b);
  for (const b of batchesOf(200, 100, 1)) many.add(b);
  assert.equal(few.byteLength, many.byteLength);
  assert.equal(many.histogram().counts.length, 512);
  assert.equal(many.count, 200 * 100);
});

Deno.test("HistogramCollector grows from a constant batch and fills at least half its bins", () => {
  const c = new HistogramCollector(100);
  c.add(new Float32Array(10));
  c.add(Float32Array.from({ length: 1000 }, (_, i) => i / 10));
  const h = c.histogram();
  assert.equal(h.first, 0);
  assert.ok(h.binWidth * 100 > 99.9 && h.binWidth * 50 <= 99.9, `${h.binWidth}`);
  assert.equal(h.counts[0], 10 + Math.ceil(h.binWidth * 10));
  assert.throws(() => new HistogramCollector(1), RangeError);
});
