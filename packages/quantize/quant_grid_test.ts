import assert from "node:assert/strict";
import { quantGrid } from "./quant_grid.ts";

Deno.test("quantGrid() has 2^b codes and 2^b - 1 steps for every width", () => {
  for (const bits of [2, 3, 4, 5, 6, 7, 8, 16]) {
    for (const signed of [true, false]) {
      const g = quantGrid(bits, { signed });
      assert.equal(g.qmax - g.qmin, 2 ** bits - 1, `${bits} bits`);
      assert.equal(g.qmin, signed ? -(2 ** (bits - 1)) : 0);
      assert.equal(g.narrowed, bits < 8);
    }
  }
  assert.equal(quantGrid(4).container, "int8");
  assert.equal(quantGrid(4, { signed: false }).container, "uint8");
  assert.equal(quantGrid(16).container, "int16");
});

Deno.test("quantGrid() refuses widths other than 2..8 and 16", () => {
  for (const bits of [1, 9, 12, 32, 4.5, NaN]) {
    assert.throws(() => quantGrid(bits), RangeError);
  }
});
