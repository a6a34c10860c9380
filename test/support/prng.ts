/**
 * Seeded pseudo-random numbers, so that every test input and every failure reproduces from its
 * seed.
 * @module
 */

/** Options of {@link seededFloats}. */
export interface SeededFloatsOptions {
  /** The values lie in [-scale, scale) (default 1). */
  readonly scale?: number;
}

/** Options of {@link seededInts}: the inclusive range of the values. */
export interface SeededIntsOptions {
  /** The smallest value. */
  readonly min: number;
  /** The largest value. */
  readonly max: number;
}

/**
 * mulberry32: a small, fast generator of floats in [0, 1) with a 32-bit state.
 *
 * @param seed The seed (its low 32 bits are used).
 * @returns The generator; each call gives the next float.
 * @example
 * ```ts
 * import { mulberry32 } from "./prng.ts";
 * const rand = mulberry32(42);
 * const coin = rand() < 0.5;
 * ```
 */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * Seeded floats spread evenly over [-scale, scale).
 *
 * @param count How many.
 * @param seed The seed of {@link mulberry32}.
 * @param options The scale.
 * @returns The values.
 * @example
 * ```ts
 * import { seededFloats } from "./prng.ts";
 * const weights = seededFloats(16, 1, { scale: 0.1 });
 * ```
 */
export function seededFloats(
  count: number,
  seed: number,
  options: SeededFloatsOptions = {},
): Float32Array {
  const scale = options.scale ?? 1;
  const rand = mulberry32(seed);
  return Float32Array.from({ length: count }, () => (rand() * 2 - 1) * scale);
}

/**
 * Seeded integers spread evenly over [min, max].
 *
 * @param count How many.
 * @param seed The seed of {@link mulberry32}.
 * @param options The range.
 * @returns The values.
 * @example
 * ```ts
 * import { seededInts } from "./prng.ts";
 * const nibbles = Int8Array.from(seededInts(9, 1, { min: -8, max: 7 }));
 * ```
 */
export function seededInts(count: number, seed: number, options: SeededIntsOptions): number[] {
  const { min, max } = options;
  const rand = mulberry32(seed);
  return Array.from({ length: count }, () => min + Math.floor(rand() * (max - min + 1)));
}
