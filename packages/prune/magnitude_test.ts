import assert from "node:assert/strict";
import { createKernels } from "@modelpress/kernels";
import { seededFloats } from "../../test/support/prng.ts";
import { pruneMagnitude } from "./magnitude.ts";

const backends = ["js", "wasm"] as const;

function zeros(x: Float32Array): number {
  return x.reduce((a, v) => a + (v === 0 ? 1 : 0), 0);
}

for (const backend of backends) {
  const kernels = await createKernels({ backend });

  Deno.test(`pruneMagnitude() removes exactly round(k*n) smallest per layer (${backend})`, async () => {
    for (const k of [0.1, 0.25, 0.5, 0.77, 0.9]) {
      const a = seededFloats(1001, 1);
      const b = seededFloats(37, 2);
      const originals = [a.slice(), b.slice()];
      const counts = await pruneMagnitude([a, b], { kernels, sparsity: k });
      assert.deepEqual(counts, [Math.round(k * 1001), Math.round(k * 37)]);
      assert.equal(zeros(a), Math.round(k * 1001));
      assert.equal(zeros(b), Math.round(k * 37));
      // Every kept weight is at least as large as every removed one.
      for (const [i, x] of [a, b].entries()) {
        const o = originals[i]!;
        let maxRemoved = 0;
        let minKept = Infinity;
        for (let j = 0; j < x.length; j++) {
          if (x[j] === 0) maxRemoved = Math.max(maxRemoved, Math.abs(o[j]!));
          else {
            minKept = Math.min(minKept, Math.abs(o[j]!));
            assert.equal(x[j], o[j]);
          }
        }
        assert.ok(maxRemoved <= minKept);
      }
    }
  });

  Deno.test(`pruneMagnitude() breaks ties by index, deterministically (${backend})`, async () => {
    const x = new Float32Array(10).fill(0.5);
    x[3] = -0.5;
    await pruneMagnitude([x], { kernels, sparsity: 0.3 });
    assert.deepEqual([...x], [0, 0, 0, -0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5]);
    const y = new Float32Array(10).fill(0.5);
    y[3] = -0.5;
    await pruneMagnitude([y], { kernels, sparsity: 0.3 });
    assert.deepEqual(x, y);
  });

  Deno.test(`pruneMagnitude() with k=0 changes nothing (${backend})`, async () => {
    const x = seededFloats(100, 3);
    const copy = x.slice();
    assert.deepEqual(await pruneMagnitude([x], { kernels, sparsity: 0, global: true }), [0]);
    assert.deepEqual(await pruneMagnitude([x], { kernels, sparsity: 0 }), [0]);
    assert.deepEqual(x, copy);
  });

  Deno.test(`pruneMagnitude() global removes exactly round(k*N) by one threshold (${backend})`, async () => {
    const a = seededFloats(300, 4, { scale: 0.1 });
    const b = seededFloats(200, 5, { scale: 1 });
    const k = 0.6;
    const counts = await pruneMagnitude([a, b], { kernels, sparsity: k, global: true });
    assert.equal(counts[0]! + counts[1]!, Math.round(k * 500));
    assert.deepEqual(counts, [zeros(a), zeros(b)]);
    // The small-scale layer loses (nearly) everything first.
    assert.ok(counts[0]! > 280);
  });

  Deno.test(`pruneMagnitude() global honours per-layer bounds exactly (${backend})`, async () => {
    const a = seededFloats(300, 4, { scale: 0.1 });
    const b = seededFloats(200, 5, { scale: 1 });
    const counts = await pruneMagnitude([a, b], {
      kernels,
      sparsity: 0.6,
      global: true,
      bounds: [{ min: 0, max: 0.8 }, { min: 0.35, max: 1 }],
    });
    // Unbounded, a (small weights) would lose ~290: its max (240) is not reached because b's
    // min (70) takes its share first: 230 + 70 = 300 = round(0.6 * 500).
    assert.deepEqual(counts, [230, 70]);
    assert.deepEqual([zeros(a), zeros(b)], [230, 70]);
    const c = seededFloats(300, 4, { scale: 0.1 });
    const d = seededFloats(200, 5, { scale: 1 });
    const capped = await pruneMagnitude([c, d], {
      kernels,
      sparsity: 0.6,
      global: true,
      bounds: [{ min: 0, max: 0.8 }, { min: 0, max: 1 }],
    });
    assert.deepEqual(capped, [240, 60]);
    await assert.rejects(
      pruneMagnitude([seededFloats(10, 1)], {
        kernels,
        sparsity: 0.5,
        global: true,
        bounds: [{ min: 0, max: 0.2 }],
      }),
      /bounds allow 0..2/,
    );
  });

  Deno.test(`pruneMagnitude() per layer clamps to bounds (${backend})`, async () => {
    const a = seededFloats(100, 6);
    const counts = await pruneMagnitude([a], {
      kernels,
      sparsity: 0.9,
      bounds: [{ min: 0, max: 0.4 }],
    });
    assert.deepEqual(counts, [40]);
    await assert.rejects(pruneMagnitude([a], { kernels, sparsity: 1 }), RangeError);
  });
}
