import assert from "node:assert/strict";
import { affineParams } from "./quant_params.ts";
import { quantizeJs } from "./js/quantize.ts";

Deno.test("affineParams() maps [min, max] onto 2^bits - 1 steps with an exact zero", () => {
  const { scale, zeroPoint } = affineParams(new Float32Array([-1]), new Float32Array([3]), {
    type: "uint8",
  });
  assert.equal(scale[0], Math.fround(4 / 255));
  assert.equal(zeroPoint[0], 64);
  const q = quantizeJs(new Float32Array([-1, 0, 3]), { type: "uint8", scale, zeroPoint });
  assert.deepEqual(q, new Uint8Array([0, 64, 255]));
});

Deno.test("affineParams() widens ranges to include 0", () => {
  const { scale, zeroPoint } = affineParams(new Float32Array([2]), new Float32Array([5]), {
    type: "int8",
  });
  assert.equal(scale[0], Math.fround(5 / 255));
  assert.equal(zeroPoint[0], -128);
});

Deno.test("affineParams() gives symmetric scales with zero point 0 or the middle code", () => {
  const s = affineParams(new Float32Array([-2, -1]), new Float32Array([1, 4]), {
    type: "int8",
    symmetric: true,
  });
  assert.deepEqual(s.scale, new Float32Array([2 / 127, 4 / 127]));
  assert.deepEqual(s.zeroPoint, new Int32Array([0, 0]));
  const u = affineParams(new Float32Array([-2]), new Float32Array([1]), {
    type: "uint4",
    symmetric: true,
  });
  assert.deepEqual(u.scale, new Float32Array([2 / 7]));
  assert.deepEqual(u.zeroPoint, new Int32Array([8]));
});

Deno.test("affineParams() gives scale 1 for a zero range instead of dividing by zero", () => {
  const p = affineParams(new Float32Array([0, 0]), new Float32Array([0, 0]), { type: "int4" });
  assert.deepEqual(p.scale, new Float32Array([1, 1]));
  const q = affineParams(new Float32Array([0]), new Float32Array([0]), {
    type: "int8",
    symmetric: true,
  });
  assert.deepEqual(q.scale, new Float32Array([1]));
});

Deno.test("affineParams() rejects NaN and infinite bounds", () => {
  assert.throws(
    () => affineParams(new Float32Array([NaN]), new Float32Array([1]), { type: "int8" }),
    RangeError,
  );
  assert.throws(
    () => affineParams(new Float32Array([0]), new Float32Array([Infinity]), { type: "int8" }),
    RangeError,
  );
  assert.throws(
    () => affineParams(new Float32Array(2), new Float32Array(1), { type: "int8" }),
    RangeError,
  );
});
