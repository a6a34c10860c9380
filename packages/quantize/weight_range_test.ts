import assert from "node:assert/strict";
import { createKernels } from "@modelpress/kernels";
import { mulberry32 } from "../../test/support/prng.ts";
import { weightRange } from "./weight_range.ts";
import { quantGrid } from "./quant_grid.ts";
import { quantizeTensor } from "./quantize_tensor.ts";

const kernels = await createKernels({ backend: "js" });

/** Gaussian-ish weights with a few large outliers, as trained layers have. */
function withOutliers(count: number, seed: number): Float32Array {
  const next = mulberry32(seed);
  const x = Float32Array.from({ length: count }, () => (next() + next() + next() - 1.5) * 0.2);
  x[3] = 4;
  x[count - 5] = -3.5;
  return x;
}

Deno.test("weightRange() minmax gives the observed bounds per channel and per block", async () => {
  const x = new Float32Array([1, -2, 3, 4, -5, 6]);
  const grid = quantGrid(8);
  assert.deepEqual(await weightRange(kernels, x, { shape: [2, 3], axis: 0, grid }), {
    min: new Float32Array([-2, -5]),
    max: new Float32Array([3, 6]),
  });
  const blocks = await weightRange(kernels, x, { shape: [2, 3], axis: 1, blockSize: 2, grid });
  assert.deepEqual(blocks.min, new Float32Array([-2, 3, -5, 6]));
  assert.deepEqual(blocks.max, new Float32Array([1, 3, 4, 6]));
});

Deno.test("weightRange() percentile, std and mse clip outliers inside min/max", async () => {
  const x = withOutliers(4096, 3);
  const grid = quantGrid(4);
  const shape = [4096];
  for (
    const range of [
      { method: "percentile" as const, percentile: 99.9 },
      { method: "std" as const, k: 3 },
      { method: "mse" as const },
    ]
  ) {
    const r = await weightRange(kernels, x, { shape, grid, range });
    assert.ok(r.max[0]! < 4 && r.max[0]! > 0, `${range.method} max ${r.max[0]}`);
    assert.ok(r.min[0]! > -3.5 && r.min[0]! < 0, `${range.method} min ${r.min[0]}`);
  }
});

Deno.test("weightRange() mse minimizes weight MSE: never worse than min/max", async () => {
  const x = withOutliers(2048, 9);
  for (const bits of [3, 4, 8]) {
    const minmax = await quantizeTensor(kernels, x, { shape: [2048], bits });
    const mse = await quantizeTensor(kernels, x, {
      shape: [2048],
      bits,
      range: { method: "mse" },
    });
    assert.ok(mse.mse <= minmax.mse, `${bits} bits: ${mse.mse} > ${minmax.mse}`);
    if (bits <= 4) assert.ok(mse.mse < minmax.mse, `${bits} bits: clipping should help`);
  }
});

Deno.test("weightRange() refuses out-of-range method parameters", async () => {
  const grid = quantGrid(8);
  const x = new Float32Array([1, 2]);
  await assert.rejects(
    () =>
      weightRange(kernels, x, {
        shape: [2],
        grid,
        range: { method: "percentile", percentile: 10 },
      }),
    RangeError,
  );
  await assert.rejects(
    () => weightRange(kernels, x, { shape: [2], grid, range: { method: "std", k: 0 } }),
    RangeError,
  );
});
