import assert from "node:assert/strict";
import { linearParams } from "./linear_params.ts";
import { quantGrid } from "./quant_grid.ts";

Deno.test("linearParams() maps [min, max] onto 2^b - 1 steps, not b - 1 or 2^(b-1)", () => {
  for (const bits of [2, 3, 4, 8]) {
    const grid = quantGrid(bits, { signed: false });
    const { scale, zeroPoint } = linearParams(new Float32Array([0]), new Float32Array([1]), {
      grid,
    });
    assert.equal(scale[0], Math.fround(1 / (2 ** bits - 1)));
    assert.notEqual(scale[0], Math.fround(1 / (bits - 1)));
    assert.notEqual(scale[0], Math.fround(1 / 2 ** (bits - 1)));
    assert.equal(zeroPoint[0], 0);
  }
  // [0, 15] at 4 bits: every integer is a code.
  const four = linearParams(new Float32Array([0]), new Float32Array([15]), {
    grid: quantGrid(4, { signed: false }),
  });
  assert.equal(four.scale[0], 1);
});

Deno.test("linearParams() makes zero exactly representable when asymmetric", () => {
  for (const [lo, hi] of [[-1, 3], [0.5, 2], [-7, -0.25], [-0.3, 0.31]]) {
    for (const bits of [2, 4, 8, 16]) {
      for (const signed of [true, false]) {
        const grid = quantGrid(bits, { signed });
        const { scale, zeroPoint } = linearParams(
          new Float32Array([lo!]),
          new Float32Array([hi!]),
          { grid },
        );
        const z = zeroPoint[0]!;
        assert.ok(Number.isInteger(z) && z >= grid.qmin && z <= grid.qmax);
        // q(0) = round(0 / s) + z = z, and dequantizing z gives (z - z) * s = 0 exactly.
        assert.equal((z - z) * scale[0]!, 0);
        assert.ok(scale[0]! > 0);
      }
    }
  }
});

Deno.test("linearParams() symmetric: zero point 0 or 2^(b-1), absmax is a code", () => {
  const signed = linearParams(new Float32Array([-2]), new Float32Array([1]), {
    grid: quantGrid(8),
    symmetric: true,
  });
  assert.equal(signed.zeroPoint[0], 0);
  assert.equal(signed.scale[0], Math.fround(2 / 127));
  const unsigned = linearParams(new Float32Array([-2]), new Float32Array([1]), {
    grid: quantGrid(4, { signed: false }),
    symmetric: true,
  });
  assert.equal(unsigned.zeroPoint[0], 8);
  assert.equal(unsigned.scale[0], Math.fround(2 / 7));
});

Deno.test("linearParams() gives scale 1 to a zero range and refuses infinite ones", () => {
  const { scale } = linearParams(new Float32Array([0]), new Float32Array([0]), {
    grid: quantGrid(8),
  });
  assert.equal(scale[0], 1);
  assert.throws(
    () => linearParams(new Float32Array([0]), new Float32Array([Infinity]), { grid: quantGrid(8) }),
    RangeError,
  );
  assert.throws(
    () => linearParams(new Float32Array([0]), new Float32Array([1, 2]), { grid: quantGrid(8) }),
    /1 minima but 2 maxima/,
  );
});
