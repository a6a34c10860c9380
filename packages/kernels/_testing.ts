/**
 * Test helpers for this package: seeded random data, edge-case values and float comparisons.
 * @module
 */
import assert from "node:assert/strict";
import { mulberry32 } from "../../test/support/prng.ts";

/** A seeded generator of floats in [0, 1) (the shared mulberry32), so failures reproduce. */
export const random: (seed: number) => () => number = mulberry32;

/** Values that break naive kernels: NaN, ±Infinity, ±0, subnormals, huge and tiny normals. */
export const SPECIALS: readonly number[] = [
  NaN,
  Infinity,
  -Infinity,
  0,
  -0,
  1.4e-45,
  -1.4e-45,
  1e-40,
  -3e-39,
  1.1754942e-38,
  3.4028235e38,
  -3.4028235e38,
  1e30,
  -1e-30,
  0.5,
  -0.5,
  1,
  -1,
];

/** Random normal-ish values times `scale`, as float32. */
export function randomFloats(
  length: number,
  options: { seed: number; scale?: number },
): Float32Array {
  const next = random(options.seed);
  const scale = options.scale ?? 1;
  const out = new Float32Array(length);
  for (let i = 0; i < length; i++) out[i] = (next() + next() + next() - 1.5) * 2 * scale;
  return out;
}

/** `base` with specials sprinkled at seeded positions. */
export function withSpecials(
  base: Float32Array,
  options: { seed: number; specials?: readonly number[] },
): Float32Array {
  const out = base.slice();
  const next = random(options.seed);
  const specials = options.specials ?? SPECIALS;
  for (let i = 0; i < out.length; i++) {
    if (next() < 0.05) out[i] = specials[Math.floor(next() * specials.length)]!;
  }
  return out;
}

/** The lengths every elementwise kernel is tried at: around SIMD widths and chunk edges. */
export const LENGTHS: readonly number[] = [
  0,
  1,
  2,
  3,
  4,
  5,
  7,
  8,
  15,
  16,
  17,
  31,
  33,
  63,
  65,
  1000,
];

/** Asserts the same float32 values, element by element, with -0 distinct from +0 and NaN equal. */
export function assertSameFloats(
  actual: ArrayLike<number>,
  expected: ArrayLike<number>,
  label = "",
): void {
  assert.equal(actual.length, expected.length, `${label}: length`);
  for (let i = 0; i < expected.length; i++) {
    if (!Object.is(actual[i], expected[i])) {
      assert.fail(`${label}: at ${i}: ${actual[i]} !== ${expected[i]}`);
    }
  }
}

/**
 * Asserts float sums within the documented tolerance: `2^-23 * |ref| + count * 2^-50 * bound`,
 * where `bound` is the sum of |terms|; NaN and infinities must match exactly.
 */
export function assertCloseSums(
  actual: ArrayLike<number>,
  expected: ArrayLike<number>,
  options: { bound: ArrayLike<number>; count: number; label?: string },
): void {
  const label = options.label ?? "";
  assert.equal(actual.length, expected.length, `${label}: length`);
  for (let i = 0; i < expected.length; i++) {
    const a = actual[i]!;
    const e = expected[i]!;
    if (!Number.isFinite(e)) {
      if (!Object.is(a, e)) assert.fail(`${label}: at ${i}: ${a} !== ${e}`);
      continue;
    }
    const tol = 2 ** -23 * Math.abs(e) + options.count * 2 ** -50 * options.bound[i]!;
    if (!(Math.abs(a - e) <= tol)) {
      assert.fail(`${label}: at ${i}: ${a} vs ${e} (tolerance ${tol})`);
    }
  }
}
