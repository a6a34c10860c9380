import assert from "node:assert/strict";
import { createKernels } from "@modelpress/kernels";
import { mulberry32 } from "../../test/support/prng.ts";
import { logCodebook } from "./log_codebook.ts";
import { decodeCodebookTensor } from "./codebook_tensor.ts";

const kernels = await createKernels({ backend: "js" });

/** Values whose magnitudes span many powers of two, with exact zeros and both signs. */
function spread(count: number, seed: number): Float32Array {
  const next = mulberry32(seed);
  return Float32Array.from({ length: count }, (_, i) => {
    if (i % 11 === 0) return 0;
    const v = (next() < 0.5 ? -1 : 1) * 2 ** (-12 * next()) * (1 + next());
    return i % 29 === 0 ? v * 64 : v;
  });
}

/** The group of every element of a row-major tensor, per tensor or along an axis. */
function groupOf(shape: readonly number[], axis: number | undefined): number[] {
  const n = shape.reduce((a, b) => a * b, 1);
  if (axis === undefined) return new Array(n).fill(0);
  const inner = shape.slice(axis + 1).reduce((a, b) => a * b, 1);
  return Array.from({ length: n }, (_, i) => Math.floor(i / inner) % shape[axis]!);
}

Deno.test("logCodebook() codes decode exactly to signed powers of two of each group's scale, zero exact", async () => {
  const shape = [6, 20];
  for (const bits of [3, 4, 5, 6, 8]) {
    for (const axis of [undefined, 0, 1]) {
      const x = spread(120, bits * 10 + (axis ?? 9));
      const q = await logCodebook(kernels, x, {
        shape,
        bits,
        ...(axis === undefined ? {} : { axis }),
      });
      const half = 2 ** (bits - 1);
      assert.equal(q.size, 2 ** bits);
      assert.equal(q.groups, axis === undefined ? 1 : shape[axis]);
      assert.equal(q.codebook.length, q.groups * q.size);
      const back = await decodeCodebookTensor(kernels, q);
      const groups = groupOf(shape, axis);
      for (let i = 0; i < x.length; i++) {
        const g = groups[i]!;
        const c = q.codes[i]!;
        assert.ok(c < q.size, `code ${c}`);
        // Decoding is the codebook lookup, exactly.
        assert.equal(back[i], q.codebook[g * q.size + c]);
        const m = c & (half - 1);
        const sign = (c & half) !== 0 ? -1 : 1;
        if (x[i] === 0) assert.equal(c, 0, "zero is code 0");
        if (m === 0) {
          assert.equal(back[i], 0);
          continue;
        }
        // Sign bit, then magnitude: ±scale · 2^(m - (h - 1)).
        assert.equal(back[i], sign * q.scale[g]! * 2 ** (m - (half - 1)));
        assert.equal(Math.sign(back[i]!), Math.sign(x[i]!), "the sign is kept");
        assert.ok(Number.isInteger(Math.log2(Math.abs(back[i]!))), "a power of two");
      }
      // Each group's scale is the power of two nearest to its largest magnitude.
      for (let g = 0; g < q.groups; g++) {
        let max = 0;
        for (let i = 0; i < x.length; i++) {
          if (groups[i] === g) max = Math.max(max, Math.abs(x[i]!));
        }
        const e = Math.log2(q.scale[g]!);
        assert.ok(Number.isInteger(e));
        assert.ok(
          max >= 0.75 * 2 ** e && max < 1.5 * 2 ** e,
          `group ${g}: max ${max}, scale 2^${e}`,
        );
      }
    }
  }
});

Deno.test("logCodebook() agrees with the kernels' log2Dequantize and rounds to the nearest power of two", async () => {
  const x = spread(400, 3);
  for (const bits of [3, 4, 6]) {
    const q = await logCodebook(kernels, x, { shape: [400], bits });
    const e = Math.log2(q.scale[0]!);
    const half = 2 ** (bits - 1);
    const signed = Int8Array.from(q.codes, (c) => (c & half) !== 0 ? -(c & (half - 1)) : c);
    const reference = await kernels.log2Dequantize(signed, { bits, maxExponent: e });
    const back = await decodeCodebookTensor(kernels, q);
    assert.deepEqual(back, reference);
    // No other value of the codebook is nearer (ties go up, as the kernel rounds).
    for (let i = 0; i < x.length; i++) {
      const d = Math.abs(back[i]! - x[i]!);
      for (const v of q.codebook) assert.ok(d <= Math.abs(v - x[i]!) + 1e-12, `x ${x[i]}`);
    }
  }
});

Deno.test("logCodebook() documents its layout: 4 bits, sign bit 8, magnitudes 1..7", async () => {
  const q = await logCodebook(kernels, new Float32Array([1, -0.25, 0, 0.3, 0.004]), {
    shape: [5],
    bits: 4,
  });
  assert.deepEqual(Array.from(q.codes), [7, 13, 0, 5, 0]);
  assert.deepEqual(Array.from(q.codebook), [
    0,
    2 ** -6,
    2 ** -5,
    2 ** -4,
    2 ** -3,
    2 ** -2,
    2 ** -1,
    1,
    0,
    -(2 ** -6),
    -(2 ** -5),
    -(2 ** -4),
    -(2 ** -3),
    -(2 ** -2),
    -(2 ** -1),
    -1,
  ]);
  assert.ok(q.mse > 0 && q.sqnrDb! > 10);
});

Deno.test("logCodebook() refuses bits outside 3..8, a wrong shape and values that are not finite", async () => {
  const x = new Float32Array([1, 2]);
  await assert.rejects(
    () => logCodebook(kernels, x, { shape: [2], bits: 2 }),
    /bits must be an integer 3\.\.8, got 2/,
  );
  await assert.rejects(() => logCodebook(kernels, x, { shape: [3] }), /needs 3 values, got 2/);
  await assert.rejects(
    () => logCodebook(kernels, new Float32Array([1, NaN]), { shape: [2], name: "w" }),
    /Cannot quantize tensor 'w': element 1 is NaN/,
  );
});
