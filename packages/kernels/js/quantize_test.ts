import assert from "node:assert/strict";
import { dequantizeJs, quantizeJs, quantizeValue, roundHalfEven } from "./quantize.ts";
import { ortQuantizeLinear } from "./_ort.ts";
import { random, randomFloats } from "../_testing.ts";

Deno.test("roundHalfEven() rounds halves to the even neighbour and keeps others nearest", () => {
  const cases: [number, number][] = [
    [0.5, 0],
    [1.5, 2],
    [2.5, 2],
    [3.5, 4],
    [-0.5, -0],
    [-1.5, -2],
    [-2.5, -2],
    [2.4999998, 2],
    [2.5000002, 3],
    [-7.75, -8],
    [8388609, 8388609],
  ];
  for (const [v, r] of cases) {
    assert.ok(Object.is(roundHalfEven(v), r), `${v} -> ${roundHalfEven(v)}`);
  }
  assert.ok(Number.isNaN(roundHalfEven(NaN)));
  assert.equal(roundHalfEven(-Infinity), -Infinity);
});

Deno.test("quantizeValue() saturates, maps NaN to the zero point and infinities to the ends", () => {
  assert.equal(quantizeValue(1000, { scale: 1, zeroPoint: 0, min: -128, max: 127 }), 127);
  assert.equal(quantizeValue(-1000, { scale: 1, zeroPoint: 0, min: -128, max: 127 }), -128);
  assert.equal(quantizeValue(Infinity, { scale: 0.5, zeroPoint: 10, min: 0, max: 255 }), 255);
  assert.equal(quantizeValue(-Infinity, { scale: 0.5, zeroPoint: 10, min: 0, max: 255 }), 0);
  assert.equal(quantizeValue(NaN, { scale: 0.5, zeroPoint: 10, min: 0, max: 255 }), 10);
  // The zero point is added after rounding: 2.5 -> 2, + 1 = 3 (not round(3.5) = 4).
  assert.equal(quantizeValue(2.5, { scale: 1, zeroPoint: 1, min: -128, max: 127 }), 3);
  // x / scale is rounded to float32 before rounding to an integer.
  assert.equal(quantizeValue(0.3, { scale: 0.2, zeroPoint: 0, min: -128, max: 127 }), 2);
});

Deno.test("quantizeJs() uses one scale per index along the axis", () => {
  const x = new Float32Array([1, 2, 3, 4, 5, 6]);
  const q = quantizeJs(x, {
    type: "int8",
    shape: [2, 3],
    axis: 1,
    scale: new Float32Array([1, 2, 4]),
    zeroPoint: new Int32Array([0, 1, -1]),
  });
  // Row 0: 1/1, 2/2 + 1, 3/4 -> 1 - 1; row 1: 4, 5/2 -> 2 + 1, 6/4 -> 2 - 1.
  assert.deepEqual(q, new Int8Array([1, 2, 0, 4, 3, 1]));
});

Deno.test("quantizeJs() uses one scale per block along the axis, the last block short", () => {
  const x = new Float32Array([1, 1, 1, 1, 1]);
  const q = quantizeJs(x, {
    type: "uint8",
    shape: [5],
    axis: 0,
    blockSize: 2,
    scale: new Float32Array([1, 0.5, 0.25]),
  });
  assert.deepEqual(q, new Uint8Array([1, 1, 2, 2, 4]));
});

Deno.test("quantizeJs() packs 4- and 2-bit codes, the first in the low bits", () => {
  const scale = new Float32Array([1]);
  const x = new Float32Array([1, -1, 9]);
  assert.deepEqual(quantizeJs(x, { type: "int4", scale }), new Uint8Array([0xf1, 0x07]));
  assert.deepEqual(quantizeJs(x, { type: "uint2", scale }), new Uint8Array([0b110001]));
  const back = dequantizeJs(quantizeJs(x, { type: "int4", scale }), {
    type: "int4",
    scale,
    shape: [3],
  });
  assert.deepEqual(back, new Float32Array([1, -1, 7]));
});

Deno.test("quantizeJs() rejects scales that are zero, negative, NaN or of the wrong count", () => {
  const x = new Float32Array(4);
  for (const s of [0, -1, NaN, Infinity]) {
    assert.throws(
      () => quantizeJs(x, { type: "int8", scale: new Float32Array([s]), name: "w" }),
      (e: Error) =>
        e instanceof RangeError && e.message.startsWith("Cannot quantize tensor 'w': scale 0"),
    );
  }
  assert.throws(
    () => quantizeJs(x, { type: "int8", shape: [2, 2], axis: 0, scale: new Float32Array(3) }),
    RangeError,
  );
  assert.throws(
    () =>
      quantizeJs(x, {
        type: "uint8",
        scale: new Float32Array([1]),
        zeroPoint: new Int32Array([-1]),
      }),
    RangeError,
  );
});

Deno.test("dequantizeJs() computes (q - zeroPoint) * scale in float32", () => {
  const q = new Uint8Array([0, 128, 255]);
  const y = dequantizeJs(q, {
    type: "uint8",
    scale: new Float32Array([0.1]),
    zeroPoint: new Int32Array([128]),
  });
  assert.deepEqual(
    y,
    new Float32Array([
      Math.fround(-128 * Math.fround(0.1)),
      0,
      Math.fround(127 * Math.fround(0.1)),
    ]),
  );
});

// Agreement with onnxruntime-web. NaN is left out on purpose: ONNX leaves it undefined; the
// reference maps it to the zero point, onnxruntime-web's WASM build to the integer 0.
function agreementInputs(): Float32Array {
  const next = random(21);
  const values: number[] = [];
  // Exact ties at .5 for scale 2^-2: (j + 0.5) * 0.25 / 0.25.
  for (let j = -300; j < 300; j++) values.push((j + 0.5) * 0.25);
  // Saturation, infinities, signed zeros, subnormals.
  values.push(1e9, -1e9, Infinity, -Infinity, 0, -0, 1e-45, -1e-45, 3.4e38, -3.4e38);
  // Random values, some just beside ties.
  for (let j = 0; j < 2000; j++) values.push((next() - 0.5) * 100);
  for (let j = 0; j < 200; j++) {
    values.push(Math.fround(Math.fround((j - 100 + 0.5) * 0.3) * (1 + (next() - 0.5) * 1e-6)));
  }
  while (values.length % 12 !== 0) values.push(0.125);
  return Float32Array.from(values);
}

for (const type of ["int8", "uint8"] as const) {
  Deno.test(`quantizeJs() agrees bit for bit with onnxruntime-web QuantizeLinear for ${type} per tensor`, async () => {
    const x = agreementInputs();
    for (
      const [s, z] of [[0.25, type === "int8" ? 0 : 128], [0.3, type === "int8" ? -7 : 3], [
        1e-3,
        100,
      ]] as const
    ) {
      const options = {
        type,
        shape: [x.length],
        scale: new Float32Array([s]),
        zeroPoint: new Int32Array([z]),
      };
      const expected = await ortQuantizeLinear(x, options);
      assert.deepEqual(quantizeJs(x, options), expected, `scale ${s} zero point ${z}`);
    }
  });

  Deno.test(`quantizeJs() agrees bit for bit with onnxruntime-web QuantizeLinear for ${type} per axis and block`, async () => {
    const x = agreementInputs();
    const shape = [12, x.length / 12];
    for (const axis of [0, 1]) {
      const channels = shape[axis]!;
      const next = random(axis + 5);
      // Powers of two give exact ties at .5; other scales give ordinary rounding.
      const scale = Float32Array.from(
        { length: channels },
        (_, c) => c % 2 === 0 ? 2 ** -(c % 3) / 4 : 0.05 + next(),
      );
      const zeroPoint = Int32Array.from(
        { length: channels },
        () => Math.floor(next() * 100) - (type === "int8" ? 50 : 0),
      );
      const options = { type, shape, axis, scale, zeroPoint };
      assert.deepEqual(quantizeJs(x, options), await ortQuantizeLinear(x, options), `axis ${axis}`);
    }
    const blocked = { type, shape, axis: 1, blockSize: 32 };
    const count = 12 * Math.ceil(shape[1]! / 32);
    const scale = randomFloats(count, { seed: 3 }).map((v) => Math.abs(v) + 0.01);
    const zeroPoint = new Int32Array(count).fill(type === "int8" ? -3 : 7);
    const options = { ...blocked, scale, zeroPoint };
    assert.deepEqual(quantizeJs(x, options), await ortQuantizeLinear(x, options), "blocked");
  });
}
