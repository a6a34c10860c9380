import assert from "node:assert/strict";
import { createKernels } from "@modelpress/kernels";
import { mulberry32 } from "../../test/support/prng.ts";
import { quantizeTensor } from "./quantize_tensor.ts";
import { linearParams } from "./linear_params.ts";
import { quantGrid } from "./quant_grid.ts";

const kernels = await createKernels({ backend: "js" });

function randomTensor(count: number, seed: number, spread = 1): Float32Array {
  const next = mulberry32(seed);
  return Float32Array.from({ length: count }, () => spread * (2 * next() - 1) + 0.1 * next());
}

Deno.test("quantizeTensor() keeps dequantize(quantize(x)) within scale/2 and codes in [qmin, qmax]", async () => {
  const shape = [6, 10];
  let cases = 0;
  for (const bits of [2, 3, 4, 5, 8, 16]) {
    for (const signed of [true, false]) {
      for (const symmetric of [true, false]) {
        for (const layout of [{}, { axis: 0 }, { axis: 1 }, { axis: 1, blockSize: 4 }]) {
          const x = randomTensor(60, bits * 100 + cases);
          const q = await quantizeTensor(kernels, x, { shape, bits, signed, symmetric, ...layout });
          const grid = quantGrid(bits, { signed });
          assert.equal(q.grid.qmax - q.grid.qmin, 2 ** bits - 1);
          for (const c of q.codes) assert.ok(c >= grid.qmin && c <= grid.qmax, `code ${c}`);
          // Recompute each element's parameters to check the error bound element by element.
          const groups = groupOf(shape, layout);
          for (let i = 0; i < x.length; i++) {
            const g = groups[i]!;
            const s = q.scale[g]!;
            const back = (q.codes[i]! - q.zeroPoint[g]!) * s;
            assert.ok(
              Math.abs(back - x[i]!) <= s / 2 * (1 + 1e-5) + 1e-7,
              `${bits}b signed=${signed} sym=${symmetric} ${JSON.stringify(layout)} i=${i}`,
            );
          }
          cases++;
        }
      }
    }
  }
  assert.equal(cases, 96);
});

Deno.test("quantizeTensor() represents zero exactly when asymmetric", async () => {
  const x = new Float32Array([0.3, 0, 1.7, 0, 2.2, 0.9]);
  for (const bits of [2, 4, 8]) {
    const q = await quantizeTensor(kernels, x, { shape: [6], bits, symmetric: false });
    assert.equal((q.codes[1]! - q.zeroPoint[0]!) * q.scale[0]!, 0);
  }
});

Deno.test("quantizeTensor() reports error: more bits, less MSE and higher SQNR", async () => {
  const x = randomTensor(4096, 7);
  const q4 = await quantizeTensor(kernels, x, { shape: [4096], bits: 4 });
  const q8 = await quantizeTensor(kernels, x, { shape: [4096], bits: 8 });
  assert.ok(q8.mse < q4.mse / 100);
  assert.ok(q8.sqnrDb! > q4.sqnrDb! + 20);
  const exact = await quantizeTensor(kernels, new Float32Array([0, 0]), { shape: [2] });
  assert.equal(exact.mse, 0);
  assert.equal(exact.sqnrDb, null);
});

Deno.test("quantizeTensor() refuses a shape that does not fit the data", async () => {
  await assert.rejects(
    () => quantizeTensor(kernels, new Float32Array(5), { shape: [2, 2], name: "w" }),
    /Cannot quantize tensor 'w': shape \[2,2\] needs 4 values, got 5/,
  );
});

Deno.test("quantizeTensor() params agree with linearParams() over the observed range", async () => {
  const x = new Float32Array([-1, 0.5, 3, 2]);
  const q = await quantizeTensor(kernels, x, { shape: [4], bits: 8, symmetric: false });
  const p = linearParams(new Float32Array([-1]), new Float32Array([3]), { grid: quantGrid(8) });
  assert.deepEqual(q.scale, p.scale);
  assert.deepEqual(q.zeroPoint, p.zeroPoint);
});

function groupOf(shape: number[], layout: { axis?: number; blockSize?: number }): number[] {
  const [rows, cols] = shape as [number, number];
  const out: number[] = [];
  for (let r = 0; r < rows; r++) {
    for (let c = 0; c < cols; c++) {
      if (layout.axis === undefined) out.push(0);
      else if (layout.axis === 0) out.push(r);
      else if (layout.blockSize === undefined) out.push(c);
      else out.push(r * Math.ceil(cols / layout.blockSize) + Math.floor(c / layout.blockSize));
    }
  }
  return out;
}
