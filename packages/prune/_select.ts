/**
 * Exact selection of the k smallest scores per layer or over layers with per-layer bounds, on
 * the kernels' `selectMagnitude` (its order: magnitude, then tensor order, then index order).
 * @module
 */
import type { Kernels, MagnitudeSelection } from "@modelpress/kernels";

/** The key of every NaN in the kernels' magnitude order: above +Infinity (0x7f800000). */
const NAN_KEY = 0x7f800001;

/** Magnitude order key of a float's bits. */
function key(bits: number): number {
  return Math.min(bits & 0x7fffffff, NAN_KEY);
}

function thresholdKey(threshold: number): number {
  if (Number.isNaN(threshold)) return NAN_KEY;
  const f = new Float32Array([threshold]);
  return key(new Uint32Array(f.buffer)[0]!);
}

/**
 * How many elements of each tensor a selection over all of them takes.
 *
 * @param tensors The tensors, in the selection's order.
 * @param selection The selection.
 * @returns One count per tensor.
 */
export function selectedCounts(
  tensors: readonly Float32Array[],
  selection: MagnitudeSelection,
): number[] {
  const t = thresholdKey(selection.threshold);
  let ties = selection.ties;
  return tensors.map((x) => {
    if (selection.k === 0) return 0;
    const u = new Uint32Array(x.buffer, x.byteOffset, x.length);
    let below = 0;
    let equal = 0;
    for (let i = 0; i < u.length; i++) {
      const k = key(u[i]!);
      if (k < t) below++;
      else if (k === t) equal++;
    }
    const taken = Math.min(equal, ties);
    ties -= taken;
    return below + taken;
  });
}

/**
 * The elements a selection of `k` smallest takes in one tensor: 1 where selected.
 *
 * @param x The tensor.
 * @param selection A selection over `x` alone.
 * @returns The mask.
 */
export function selectedMask(x: Float32Array, selection: MagnitudeSelection): Uint8Array {
  const mask = new Uint8Array(x.length);
  if (selection.k === 0) return mask;
  const t = thresholdKey(selection.threshold);
  let ties = selection.ties;
  const u = new Uint32Array(x.buffer, x.byteOffset, x.length);
  for (let i = 0; i < u.length; i++) {
    const k = key(u[i]!);
    if (k < t || (k === t && ties-- > 0)) mask[i] = 1;
  }
  return mask;
}

/**
 * How many of the smallest scores to take per layer so that `total` are taken over all layers
 * in the global order, with layer i taking between `lo[i]` and `hi[i]`: the smallest global rank
 * r whose clamped per-layer counts add up to `total` (a binary search on r; the clamped sum rises
 * by at most 1 per rank, so it meets `total` exactly).
 *
 * @param kernels The kernels.
 * @param scores The layers' scores (magnitudes are compared).
 * @param total How many to take, in [sum(lo), sum(hi)].
 * @param lo Least per layer.
 * @param hi Most per layer.
 * @returns The count per layer.
 */
export async function boundedCounts(
  kernels: Kernels,
  scores: readonly Float32Array[],
  total: number,
  lo: readonly number[],
  hi: readonly number[],
): Promise<number[]> {
  const clamp = (c: readonly number[]): number[] =>
    c.map((v, i) => Math.min(hi[i]!, Math.max(lo[i]!, v)));
  const sum = (c: readonly number[]): number => c.reduce((a, b) => a + b, 0);
  const n = scores.reduce((a, s) => a + s.length, 0);
  const countsAt = async (r: number): Promise<number[]> =>
    clamp(selectedCounts(scores, await kernels.selectMagnitude(scores, r)));
  let low = 0;
  let high = n;
  let best = clamp(scores.map(() => 0));
  if (sum(best) >= total) return best;
  best = await countsAt(high);
  while (low < high) {
    const mid = Math.floor((low + high) / 2);
    const c = await countsAt(mid);
    if (sum(c) >= total) {
      high = mid;
      best = c;
    } else {
      low = mid + 1;
    }
  }
  return best;
}

/** A layer's bounds on the fraction removed. */
export interface FractionBounds {
  /** Least fraction removed. */
  readonly min: number;
  /** Most fraction removed. */
  readonly max: number;
}

/** Options of {@linkcode layerCounts}. */
export interface LayerCountOptions {
  /** The fraction removed. */
  readonly sparsity: number;
  /** One budget over all layers. */
  readonly global?: boolean;
  /** Per-layer bounds (default: none). */
  readonly bounds?: readonly FractionBounds[];
}

/**
 * How many elements each layer loses: round(k * n) per layer (clamped to its bounds), or, with
 * `global`, round(k * N) over all layers split by the global score order within the bounds.
 *
 * @param kernels The kernels.
 * @param scores The layers' scores.
 * @param options Sparsity, global and bounds.
 * @returns One count per layer.
 * @throws {RangeError} When the bounds cannot meet a global budget.
 */
export async function layerCounts(
  kernels: Kernels,
  scores: readonly Float32Array[],
  options: LayerCountOptions,
): Promise<number[]> {
  const k = options.sparsity;
  const lo = scores.map((s, i) => Math.round((options.bounds?.[i]?.min ?? 0) * s.length));
  const hi = scores.map((s, i) => Math.round((options.bounds?.[i]?.max ?? 1) * s.length));
  if (!options.global) {
    return scores.map((s, i) => Math.min(hi[i]!, Math.max(lo[i]!, Math.round(k * s.length))));
  }
  const n = scores.reduce((a, s) => a + s.length, 0);
  const total = Math.round(k * n);
  const least = lo.reduce((a, b) => a + b, 0);
  const most = hi.reduce((a, b) => a + b, 0);
  if (total < least || total > most) {
    throw new RangeError(
      `Cannot prune globally: sparsity ${k} removes ${total} of ${n} weights, the per-layer ` +
        `bounds allow ${least}..${most}`,
    );
  }
  return await boundedCounts(kernels, scores, total, lo, hi);
}

/**
 * Min, mean and max of the magnitudes of scores.
 *
 * @param scores The scores.
 * @returns The statistics (zeros when empty).
 */
export function magnitudeStats(
  scores: Float32Array,
): { min: number; mean: number; max: number } {
  if (scores.length === 0) return { min: 0, mean: 0, max: 0 };
  let min = Infinity;
  let max = -Infinity;
  let sum = 0;
  for (let i = 0; i < scores.length; i++) {
    const a = Math.abs(scores[i]!);
    if (a < min) min = a;
    if (a > max) max = a;
    sum += a;
  }
  return { min, mean: sum / scores.length, max };
}

/**
 * Throws unless k is in [0, 1).
 *
 * @param k The fraction removed.
 */
export function checkSparsity(k: number): void {
  if (!(k >= 0 && k < 1)) {
    throw new RangeError(`Cannot prune: sparsity must be in [0, 1), got ${k}`);
  }
}
