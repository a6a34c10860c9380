import assert from "node:assert/strict";
import { createKernels } from "@modelpress/kernels";
import { mulberry32 } from "../../test/support/prng.ts";
import { kmeansCodebook } from "./kmeans_codebook.ts";
import { decodeCodebookTensor } from "./codebook_tensor.ts";
import { quantizeTensor } from "./quantize_tensor.ts";

const kernels = await createKernels({ backend: "js" });

/** Gaussian values (Box-Muller over mulberry32), as trained weights roughly are. */
function gaussian(count: number, seed: number, sigma = 0.05): Float32Array {
  const next = mulberry32(seed);
  return Float32Array.from({ length: count }, () => {
    const u = 1 - next();
    return sigma * Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * next());
  });
}

Deno.test("kmeansCodebook() codes decode exactly to their group's ascending centroids", async () => {
  const shape = [24, 40];
  const x = gaussian(960, 1);
  for (const bits of [2, 3, 8]) {
    for (const axis of [undefined, 0, 1]) {
      const q = await kmeansCodebook(kernels, x, {
        shape,
        bits,
        ...(axis === undefined ? {} : { axis }),
      });
      assert.equal(q.groups, axis === undefined ? 1 : shape[axis]);
      assert.equal(q.codebook.length, q.groups * 2 ** bits);
      const back = await decodeCodebookTensor(kernels, q);
      const inner = axis === undefined ? 0 : shape.slice(axis + 1).reduce((a, b) => a * b, 1);
      for (let i = 0; i < x.length; i++) {
        const g = axis === undefined ? 0 : Math.floor(i / inner) % shape[axis]!;
        const book = q.codebook.subarray(g * q.size, (g + 1) * q.size);
        assert.equal(back[i], book[q.codes[i]!]);
        // The code is the nearest centroid.
        const d = Math.abs(back[i]! - x[i]!);
        for (const c of book) assert.ok(d <= Math.abs(c - x[i]!));
      }
      for (let g = 0; g < q.groups; g++) {
        const book = q.codebook.subarray(g * q.size, (g + 1) * q.size);
        for (let j = 1; j < book.length; j++) assert.ok(book[j - 1]! <= book[j]!);
      }
    }
  }
});

Deno.test("kmeansCodebook() MSE is never worse than the uniform linear grid of the same bits on Gaussian weights", async () => {
  const shape = [16, 2048];
  const rows: string[] = [];
  for (const bits of [2, 3, 4, 5, 6, 8]) {
    for (const axis of [undefined, 0]) {
      const x = gaussian(16 * 2048, 100 + bits);
      const layout = axis === undefined ? {} : { axis };
      const q = await kmeansCodebook(kernels, x, { shape, bits, ...layout });
      let bestLinear = Infinity;
      for (const symmetric of [true, false]) {
        const l = await quantizeTensor(kernels, x, { shape, bits, symmetric, ...layout });
        bestLinear = Math.min(bestLinear, l.mse);
      }
      rows.push(
        `${bits}b ${axis === undefined ? "tensor " : "channel"}: k-means ${
          q.mse.toExponential(3)
        } ` +
          `(${q.sqnrDb?.toFixed(2)} dB, ${q.iterations} iterations), linear ${
            bestLinear.toExponential(3)
          }, ratio ${(q.mse / bestLinear).toFixed(3)}`,
      );
      assert.ok(q.mse <= bestLinear, rows[rows.length - 1]);
    }
  }
  console.log(rows.join("\n"));
});

Deno.test("kmeansCodebook() is deterministic: same seed, same bytes", async () => {
  const x = gaussian(5000, 7);
  const bytes = async (seed: number) => {
    const q = await kmeansCodebook(kernels, x, { shape: [50, 100], bits: 4, axis: 0, seed });
    return [new Uint8Array(q.codebook.buffer.slice(0)), q.codes] as const;
  };
  const [a, b] = [await bytes(42), await bytes(42)];
  assert.deepEqual(a[0], b[0]);
  assert.deepEqual(a[1], b[1]);
  const other = await kmeansCodebook(kernels, x, { shape: [5000], bits: 3, seed: 1 });
  const again = await kmeansCodebook(kernels, x, { shape: [5000], bits: 3, seed: 1 });
  assert.deepEqual(other, again);
});

Deno.test("kmeansCodebook() keeps few distinct values exactly and stops at the iteration cap", async () => {
  const x = Float32Array.from({ length: 100 }, (_, i) => [0, 0.5, -2][i % 3]!);
  const q = await kmeansCodebook(kernels, x, { shape: [100], bits: 3 });
  assert.equal(q.mse, 0);
  assert.equal(q.sqnrDb, null);
  assert.deepEqual(Array.from(q.codebook), [-2, 0, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5]);
  const capped = await kmeansCodebook(kernels, gaussian(4000, 3), {
    shape: [4000],
    bits: 5,
    maxIterations: 2,
  });
  assert.ok(capped.iterations <= 2 && capped.iterations >= 1);
});

Deno.test("kmeansCodebook() refuses bits outside 2..8 and bad options", async () => {
  const x = new Float32Array([1, 2]);
  await assert.rejects(
    () => kmeansCodebook(kernels, x, { shape: [2], bits: 9 }),
    /bits must be an integer 2\.\.8, got 9/,
  );
  await assert.rejects(
    () => kmeansCodebook(kernels, x, { shape: [2], maxIterations: 0 }),
    /maxIterations must be/,
  );
  await assert.rejects(
    () => kmeansCodebook(kernels, x, { shape: [2], seed: 0.5 }),
    /seed must be an integer/,
  );
  await assert.rejects(
    () => kmeansCodebook(kernels, new Float32Array([Infinity, 0]), { shape: [2], name: "w" }),
    /Cannot quantize tensor 'w': element 0 is Infinity/,
  );
});
