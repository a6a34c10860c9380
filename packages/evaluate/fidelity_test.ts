import assert from "node:assert/strict";
import { FidelityMeter } from "./fidelity.ts";
import { mulberry32 } from "../../test/support/prng.ts";

Deno.test("FidelityMeter gives agreement 1, cosine 1, MSE 0, SQNR Infinity, KL 0 for identical outputs", () => {
  const meter = new FidelityMeter({ output: "y" });
  const x = new Float32Array([1, -2, 3, 0.5, 7, -1]);
  meter.add(x, x, { samples: 2 });
  assert.deepEqual(meter.report(), {
    output: "y",
    samples: 2,
    elements: 6,
    top1Agreement: 1,
    cosineSimilarity: 1,
    mse: 0,
    maxAbsError: 0,
    sqnrDb: Infinity,
    klDivergence: 0,
  });
});

Deno.test("FidelityMeter computes each metric as defined, over batches", () => {
  const meter = new FidelityMeter();
  const actual = [1, 2, 3.5, 4, 0, 0];
  const expected = [1, 2, 3, 0, 4, 0];
  meter.add(actual.slice(0, 3), expected.slice(0, 3));
  meter.add(actual.slice(3), expected.slice(3));
  const r = meter.report();
  assert.equal(r.samples, 2);
  assert.equal(r.top1Agreement, 0.5);
  const cos0 = (1 + 4 + 10.5) / (Math.sqrt(1 + 4 + 12.25) * Math.sqrt(14));
  assert.ok(Math.abs(r.cosineSimilarity - (cos0 + 0) / 2) < 1e-12);
  assert.ok(Math.abs(r.mse - (0.25 + 16 + 16) / 6) < 1e-12);
  assert.equal(r.maxAbsError, 4);
  assert.ok(Math.abs(r.sqnrDb - 10 * Math.log10(30 / 32.25)) < 1e-12);
  const naiveKl = (p: number[], q: number[]): number => {
    const sp = p.map(Math.exp), sq = q.map(Math.exp);
    const zp = sp.reduce((a, b) => a + b), zq = sq.reduce((a, b) => a + b);
    return sp.reduce((s, v, i) => s + (v / zp) * Math.log((v / zp) / (sq[i]! / zq)), 0);
  };
  const kl = (naiveKl(expected.slice(0, 3), actual.slice(0, 3)) +
    naiveKl(expected.slice(3), actual.slice(3))) / 2;
  assert.ok(Math.abs(r.klDivergence - kl) < 1e-12, `${r.klDivergence} vs ${kl}`);
});

Deno.test("FidelityMeter computes KL divergence stably for huge logits, per row of the last axis", () => {
  const meter = new FidelityMeter();
  meter.add([1000, 999, 0, -1], [1000, 1000, 0, 0], { samples: 1, rowLength: 2 });
  const r = meter.report();
  // Both rows compare softmax([a, a]) with softmax([a, a-1]): the same divergence twice.
  const q = [1 / (1 + Math.exp(-1)), Math.exp(-1) / (1 + Math.exp(-1))];
  const expected = 0.5 * Math.log(0.5 / q[0]!) + 0.5 * Math.log(0.5 / q[1]!);
  assert.ok(Number.isFinite(r.klDivergence));
  assert.ok(Math.abs(r.klDivergence - expected) < 1e-12);
});

Deno.test("FidelityMeter gives finite SQNR and cosine below 1 for noisy outputs", () => {
  const rand = mulberry32(7);
  const expected = Float32Array.from({ length: 1000 }, () => rand() * 2 - 1);
  const actual = expected.map((v) => v + (rand() - 0.5) * 0.01);
  const meter = new FidelityMeter();
  meter.add(actual, expected, { samples: 10 });
  const r = meter.report();
  assert.ok(r.cosineSimilarity < 1 && r.cosineSimilarity > 0.999);
  assert.ok(r.sqnrDb > 30 && r.sqnrDb < 60, String(r.sqnrDb));
});

Deno.test("FidelityMeter rejects mismatched lengths with RangeError", () => {
  const meter = new FidelityMeter({ output: "y" });
  assert.throws(
    () => meter.add([1, 2], [1]),
    /Cannot evaluate fidelity of 'y': the model gives 2 values, the reference 1/,
  );
  assert.throws(() => meter.add([1, 2, 3], [1, 2, 3], { samples: 2 }), RangeError);
  assert.throws(() => meter.add([1, 2, 3, 4], [1, 2, 3, 4], { rowLength: 3 }), RangeError);
});
