import assert from "node:assert/strict";
import { float16ToFloat32Portable, float32ToFloat16Portable } from "./_float16_portable.ts";
import {
  bfloat16ToFloat32,
  float16ToFloat32,
  float32ToBfloat16,
  float32ToFloat16,
} from "./float16.ts";
import { mulberry32 } from "../../test/support/prng.ts";

const ALL_HALVES = Uint16Array.from({ length: 65536 }, (_, i) => i);

function f32(u32: number): number {
  return new Float32Array(Uint32Array.of(u32).buffer)[0]!;
}

// Each row: input, expected FLOAT16 bits. Ties sit exactly between two halves.
const HALF_CASES: [number, number][] = [
  [0, 0x0000],
  [-0, 0x8000],
  [1, 0x3c00],
  [-2, 0xc000],
  [65504, 0x7bff], // largest finite
  [65519.99, 0x7bff], // just below the tie with 65536
  [65520, 0x7c00], // tie: rounds to even, which overflows to Infinity
  [1e10, 0x7c00],
  [-Infinity, 0xfc00],
  [1 + 2 ** -11, 0x3c00], // tie between 1 and 1 + 2^-10: even is 1
  [1 + 3 * 2 ** -11, 0x3c02], // tie between 1 + 2^-10 and 1 + 2^-9: even is the upper
  [1 + 2 ** -11 + 2 ** -20, 0x3c01], // just above the tie
  [2 ** -24, 0x0001], // smallest subnormal
  [2 ** -25, 0x0000], // tie between 0 and 2^-24: even is 0
  [2 ** -25 + 2 ** -40, 0x0001],
  [3 * 2 ** -25, 0x0002], // tie between 2^-24 and 2^-23: even is 2^-23
  [2 ** -14, 0x0400], // smallest normal
  [2 ** -14 - 2 ** -25, 0x0400], // tie between largest subnormal and smallest normal
  [1e-10, 0x0000],
  [f32(0x00000001), 0x0000], // float32 subnormal
];

Deno.test("float32ToFloat16() rounds to nearest even, overflows to Infinity, keeps subnormals", () => {
  for (const convert of [float32ToFloat16, float32ToFloat16Portable]) {
    const got = convert(Float32Array.from(HALF_CASES, ([v]) => v));
    HALF_CASES.forEach(([value, expected], i) => {
      assert.equal(got[i], expected, `${convert.name}(${value}) = 0x${got[i]!.toString(16)}`);
    });
    const nan = convert([NaN])[0]!;
    assert.ok((nan & 0x7c00) === 0x7c00 && (nan & 0x3ff) !== 0, `${convert.name}(NaN) is NaN`);
  }
});

Deno.test("float16ToFloat32() and float32ToFloat16() round-trip all 65536 half values", () => {
  for (
    const [toF32, toF16] of [
      [float16ToFloat32, float32ToFloat16],
      [float16ToFloat32Portable, float32ToFloat16Portable],
    ] as const
  ) {
    const floats = toF32(ALL_HALVES);
    const back = toF16(floats);
    for (let h = 0; h < 65536; h++) {
      const isNaN = (h & 0x7c00) === 0x7c00 && (h & 0x3ff) !== 0;
      if (isNaN) assert.ok(Number.isNaN(floats[h]), `${h.toString(16)} is NaN`);
      else assert.equal(back[h], h, `${toF32.name} 0x${h.toString(16)} -> ${floats[h]}`);
    }
  }
  assert.deepEqual(
    float16ToFloat32(Uint16Array.of(0x0001, 0x7bff, 0xfc00, 0x8000)),
    Float32Array.of(2 ** -24, 65504, -Infinity, -0),
  );
});

Deno.test("float32ToFloat16Portable() matches the native conversion on random floats", () => {
  // Random 32-bit patterns: mulberry32's floats are multiples of 2^-32.
  const rand = mulberry32(12345);
  const u32 = Uint32Array.from({ length: 1 << 20 }, () => rand() * 2 ** 32);
  // Concentrate half of them around the float16 range (exponents 100..145).
  for (let i = 0; i < u32.length; i += 2) {
    u32[i] = (u32[i]! & 0x807fffff) | ((100 + (i % 46)) << 23);
  }
  const values = new Float32Array(u32.buffer);
  const native = float32ToFloat16(values);
  const portable = float32ToFloat16Portable(values);
  for (let i = 0; i < values.length; i++) {
    if (Number.isNaN(values[i])) continue;
    if (native[i] !== portable[i]) {
      assert.fail(
        `${values[i]}: native 0x${native[i]!.toString(16)}, portable 0x${
          portable[i]!.toString(16)
        }`,
      );
    }
  }
  assert.deepEqual(
    float16ToFloat32Portable(ALL_HALVES).filter((v) => !Number.isNaN(v)),
    float16ToFloat32(ALL_HALVES).filter((v) => !Number.isNaN(v)),
  );
});

Deno.test("float32ToBfloat16() rounds to nearest even and keeps NaN and Infinity", () => {
  const cases: [number, number][] = [
    [1, 0x3f80],
    [-2, 0xc000],
    [3.14159, 0x4049],
    [Infinity, 0x7f80],
    [-Infinity, 0xff80],
    [f32(0x3f808000), 0x3f80], // tie: even is 0x3f80
    [f32(0x3f818000), 0x3f82], // tie: even is 0x3f82
    [f32(0x3f808001), 0x3f81], // above the tie
    [f32(0x7f7fffff), 0x7f80], // float32 max rounds up to Infinity
    [f32(0x00010000), 0x0001], // subnormal kept exactly
  ];
  const got = float32ToBfloat16(cases.map(([v]) => v));
  cases.forEach(([value, expected], i) => assert.equal(got[i], expected, `${value}`));
  const nan = float32ToBfloat16(Float32Array.of(NaN, f32(0x7f800001)));
  for (const b of nan) {
    assert.ok((b & 0x7f80) === 0x7f80 && (b & 0x7f) !== 0, `0x${b.toString(16)} is NaN`);
  }
});

Deno.test("bfloat16ToFloat32() is exact for all 65536 patterns", () => {
  const floats = bfloat16ToFloat32(ALL_HALVES);
  const u32 = new Uint32Array(floats.buffer);
  for (let h = 0; h < 65536; h++) assert.equal(u32[h], h << 16 >>> 0);
  assert.deepEqual(
    float32ToBfloat16(floats.filter((v) => !Number.isNaN(v))),
    ALL_HALVES.filter((h) => !((h & 0x7f80) === 0x7f80 && (h & 0x7f) !== 0)),
  );
});
