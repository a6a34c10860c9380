/**
 * K-means (weight-sharing) quantization: each group of a tensor gets `2^bits` centroids fitted
 * to its values, and each value is stored as the index of its nearest centroid.
 * @module
 */
import type { Kernels } from "@modelpress/kernels";
import { paramLayout } from "./_layout.ts";
import { assertFinite, groupedOrder, reconstructionError } from "./_groups.ts";
import { type CodebookTensor, decodeCodebookTensor } from "./codebook_tensor.ts";

/** Options of {@linkcode kmeansCodebook}. */
export interface KmeansCodebookOptions {
  /** The tensor's dims; their product is the data's length. */
  readonly shape: readonly number[];
  /** Bits per code, 2..8: `2^bits` centroids per group. Default 4. */
  readonly bits?: number;
  /** One codebook per index along this axis (per channel); per tensor when absent. */
  readonly axis?: number;
  /** Seed of the k-means++ initialization (an integer; its low 32 bits are used). Default 0. */
  readonly seed?: number;
  /** The most Lloyd iterations per start, 1..10000. Default 100. */
  readonly maxIterations?: number;
  /** The tensor's name, for errors. */
  readonly name?: string;
}

/** The most values k-means++ samples from per group (a stride over the sorted values). */
const MAX_SEED_SAMPLES = 65536;

/**
 * Fits `2^bits` centroids per group (the tensor, or one channel) by k-means on the values and
 * encodes every value as the index of its nearest centroid (the kernels' `codebookEncode`).
 *
 * Two starts per group, and the one with the lower squared error wins: k-means++ (centroids drawn
 * with probability proportional to the squared distance to the nearest one chosen, from a
 * mulberry32 generator seeded with `seed` and the group's index) and the uniform grid from the
 * group's min to its max (the linear initialization of Deep Compression). From each, Lloyd
 * iterations run until no value changes cluster or `maxIterations`. In one dimension a cluster is
 * a run of the sorted values, so an iteration costs O(2^bits · log n) with prefix sums. Centroids
 * are ascending; a group with fewer distinct values than centroids repeats its largest. The
 * result depends only on the values, the options and the seed.
 *
 * @param kernels The kernels.
 * @param x The values.
 * @param options Shape, bits, axis, seed and iteration cap.
 * @returns The codes, codebooks and error.
 * @throws {RangeError} When an option is out of range, the shape does not fit or a value is not
 *   finite.
 * @example
 * ```ts
 * import { createKernels } from "@modelpress/kernels";
 * import { kmeansCodebook } from "@modelpress/quantize";
 * const kernels = await createKernels({ backend: "js" });
 * const q = await kmeansCodebook(kernels, new Float32Array([0, 0.1, 5, 5.2]), {
 *   shape: [4],
 *   bits: 2,
 * });
 * q.codebook; // [0, 0.1, 5, 5.2]: four values, four centroids
 * ```
 */
export async function kmeansCodebook(
  kernels: Kernels,
  x: Float32Array,
  options: KmeansCodebookOptions,
): Promise<CodebookTensor> {
  const name = options.name ?? "";
  const bits = options.bits ?? 4;
  if (!(Number.isInteger(bits) && bits >= 2 && bits <= 8)) {
    throw new RangeError(
      `Cannot k-means-quantize tensor '${name}': bits must be an integer 2..8, got ${bits}`,
    );
  }
  const maxIterations = options.maxIterations ?? 100;
  if (!(Number.isInteger(maxIterations) && maxIterations >= 1 && maxIterations <= 10000)) {
    throw new RangeError(
      `Cannot k-means-quantize tensor '${name}': maxIterations must be an integer 1..10000, got ${maxIterations}`,
    );
  }
  const seed = options.seed ?? 0;
  if (!Number.isInteger(seed)) {
    throw new RangeError(
      `Cannot k-means-quantize tensor '${name}': seed must be an integer, got ${seed}`,
    );
  }
  const count = options.shape.reduce((a, b) => a * b, 1);
  if (count !== x.length) {
    throw new RangeError(
      `Cannot k-means-quantize tensor '${name}': shape [${options.shape}] needs ${count} values, got ${x.length}`,
    );
  }
  assertFinite(x, name);
  const layout = paramLayout(name, { shape: options.shape, axis: options.axis });
  const { groups, order, start } = groupedOrder(layout);
  const size = 2 ** bits;
  const codebook = new Float32Array(groups * size);
  const scale = new Float32Array(groups);
  const codes = new Uint8Array(x.length);
  let iterations = 0;
  for (let g = 0; g < groups; g++) {
    const values = new Float32Array(start[g + 1]! - start[g]!);
    for (let k = 0; k < values.length; k++) values[k] = x[order[start[g]! + k]!]!;
    const sorted = Float64Array.from(values).sort();
    const fit = fitGroup(sorted, size, {
      seed: (seed + Math.imul(g, 0x9e3779b9)) >>> 0,
      maxIterations,
    });
    iterations = Math.max(iterations, fit.iterations);
    const book = codebook.subarray(g * size, (g + 1) * size);
    book.set(fit.centroids);
    let max = 0;
    for (const c of book) max = Math.max(max, Math.abs(c));
    scale[g] = max;
    if (values.length === 0) continue;
    const indices = await kernels.codebookEncode(values, book);
    for (let k = 0; k < values.length; k++) codes[order[start[g]! + k]!] = indices[k]!;
  }
  const q = { codes, codebook, size, shape: options.shape, axis: layout.axis };
  const { mse, sqnrDb } = reconstructionError(x, await decodeCodebookTensor(kernels, q));
  return { method: "kmeans", bits, ...q, groups, scale, iterations, mse, sqnrDb };
}

interface Fit {
  /** `k` float32 centroids, ascending. */
  readonly centroids: Float32Array;
  /** Lloyd iterations run by the winning start. */
  readonly iterations: number;
}

/** Fits k centroids to sorted values: the better of a k-means++ and a uniform-grid start. */
function fitGroup(
  sorted: Float64Array,
  k: number,
  options: { seed: number; maxIterations: number },
): Fit {
  const n = sorted.length;
  if (n === 0) return { centroids: new Float32Array(k), iterations: 0 };
  const prefix = new Float64Array(n + 1);
  for (let i = 0; i < n; i++) prefix[i + 1] = prefix[i]! + sorted[i]!;
  const distinct = distinctValues(sorted, k + 1);
  if (distinct.length <= k) {
    // Every value is its own centroid: exact.
    return { centroids: pad(distinct, k), iterations: 0 };
  }
  let best: (Fit & { error: number }) | undefined;
  for (const init of [seedPlusPlus(sorted, k, options.seed), uniformGrid(sorted, k)]) {
    const { centroids, iterations } = lloyd(sorted, prefix, init, options.maxIterations);
    const error = squaredError(sorted, centroids);
    if (best === undefined || error < best.error) best = { centroids, iterations, error };
  }
  return best!;
}

/** Up to `limit` distinct values of a sorted array, ascending. */
function distinctValues(sorted: Float64Array, limit: number): number[] {
  const out: number[] = [];
  for (let i = 0; i < sorted.length && out.length < limit; i++) {
    if (i === 0 || sorted[i] !== sorted[i - 1]) out.push(sorted[i]!);
  }
  return out;
}

/** Ascending float32 centroids, the last repeated up to k. */
function pad(values: readonly number[], k: number): Float32Array {
  const sorted = Float32Array.from(values).sort();
  const out = new Float32Array(k);
  for (let j = 0; j < k; j++) out[j] = sorted[Math.min(j, sorted.length - 1)]!;
  return out;
}

/** k-means++ over (a stride of) the sorted values; fewer than k when the values run out. */
function seedPlusPlus(sorted: Float64Array, k: number, seed: number): number[] {
  const stride = Math.ceil(sorted.length / MAX_SEED_SAMPLES);
  const m = Math.ceil(sorted.length / stride);
  const sample = new Float64Array(m);
  for (let i = 0; i < m; i++) sample[i] = sorted[i * stride]!;
  const random = mulberry32(seed);
  const chosen = [sample[Math.min(m - 1, Math.floor(random() * m))]!];
  const nearest = new Float64Array(m).fill(Infinity);
  while (chosen.length < k) {
    const c = chosen[chosen.length - 1]!;
    let total = 0;
    for (let i = 0; i < m; i++) {
      const d = sample[i]! - c;
      const d2 = d * d;
      if (d2 < nearest[i]!) nearest[i] = d2;
      total += nearest[i]!;
    }
    if (!(total > 0)) break;
    let r = random() * total;
    let pick = m - 1;
    for (let i = 0; i < m; i++) {
      r -= nearest[i]!;
      if (r < 0 && nearest[i]! > 0) {
        pick = i;
        break;
      }
    }
    chosen.push(sample[pick]!);
  }
  return chosen;
}

/** k evenly spaced values from the smallest to the largest. */
function uniformGrid(sorted: Float64Array, k: number): number[] {
  const lo = sorted[0]!;
  const hi = sorted[sorted.length - 1]!;
  return Array.from({ length: k }, (_, j) => lo + (hi - lo) * j / (k - 1));
}

/**
 * Lloyd iterations in one dimension: the clusters of ascending centroids are runs of the sorted
 * values split at the midpoints, and each centroid moves to its run's mean (from prefix sums).
 * An empty cluster keeps its centroid.
 */
function lloyd(
  sorted: Float64Array,
  prefix: Float64Array,
  init: readonly number[],
  maxIterations: number,
): Fit {
  const k = init.length;
  const c = Float64Array.from(init).sort();
  let cuts = new Int32Array(k - 1).fill(-1);
  let iterations = 0;
  while (iterations < maxIterations) {
    const next = new Int32Array(k - 1);
    for (let j = 0; j < k - 1; j++) next[j] = upperBound(sorted, (c[j]! + c[j + 1]!) / 2);
    if (next.every((v, j) => v === cuts[j])) break;
    cuts = next;
    iterations++;
    for (let j = 0; j < k; j++) {
      const from = j === 0 ? 0 : cuts[j - 1]!;
      const to = j === k - 1 ? sorted.length : cuts[j]!;
      if (to > from) c[j] = (prefix[to]! - prefix[from]!) / (to - from);
    }
    // Means of ordered runs stay ordered, except around empty clusters; keep them sorted.
    c.sort();
  }
  return { centroids: pad(Array.from(c), k), iterations };
}

/** The first position whose value is above t. */
function upperBound(sorted: Float64Array, t: number): number {
  let lo = 0;
  let hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (sorted[mid]! <= t) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** The summed squared distance of sorted values to their nearest ascending centroid. */
function squaredError(sorted: Float64Array, centroids: Float32Array): number {
  let error = 0;
  let j = 0;
  for (const v of sorted) {
    // Ties advance, so that repeated centroids are passed over.
    while (
      j + 1 < centroids.length && Math.abs(centroids[j + 1]! - v) <= Math.abs(centroids[j]! - v)
    ) j++;
    const d = v - centroids[j]!;
    error += d * d;
  }
  return error;
}

/** mulberry32: a small generator of floats in [0, 1) from a 32-bit seed. */
function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
