/**
 * Seeded random scores (mulberry32), so that random pruning reproduces from its seed.
 * @module
 */

/**
 * Seeded scores in (0, 1], float32-exact (multiples of 2^-24), one per element.
 *
 * @param count How many.
 * @param seed The seed (low 32 bits used).
 * @returns The scores.
 */
export function randomScores(count: number, seed: number): Float32Array {
  const out = new Float32Array(count);
  let a = seed >>> 0;
  for (let i = 0; i < count; i++) {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    out[i] = ((((t ^ (t >>> 14)) >>> 0) >>> 8) + 1) / 16777216;
  }
  return out;
}
