/**
 * Elements grouped by their parameter group (one group per tensor or per channel), so that each
 * group's values can be read as one contiguous run, and the error of a reconstruction. Imported
 * only from this folder.
 * @module
 */
import { groupIndex, type ParamLayout } from "./_layout.ts";

/** Element positions sorted by group (stable), with where each group's run starts. */
export interface GroupedOrder {
  /** How many groups. */
  readonly groups: number;
  /** The group of every element. */
  readonly group: Int32Array;
  /** Element positions, group 0's first, each group's in ascending order. */
  readonly order: Int32Array;
  /** `groups + 1` offsets into `order`: group g holds `order[start[g] .. start[g + 1])`. */
  readonly start: Int32Array;
}

/**
 * Sorts element positions by group (a counting sort: O(n)).
 *
 * @param layout The layout (per tensor or per axis).
 * @returns The grouped order.
 */
export function groupedOrder(layout: ParamLayout): GroupedOrder {
  const group = groupIndex(layout);
  const groups = layout.count;
  const start = new Int32Array(groups + 1);
  for (let i = 0; i < group.length; i++) start[group[i]! + 1]!++;
  for (let g = 0; g < groups; g++) start[g + 1]! += start[g]!;
  const next = start.slice(0, groups);
  const order = new Int32Array(group.length);
  for (let i = 0; i < group.length; i++) order[next[group[i]!]!++] = i;
  return { groups, group, order, start };
}

/**
 * Mean squared error and signal-to-quantization-noise ratio of a reconstruction.
 *
 * @param x The original values.
 * @param back The reconstruction.
 * @returns MSE, and SQNR in dB (null when the error is 0).
 */
export function reconstructionError(
  x: Float32Array,
  back: Float32Array,
): { mse: number; sqnrDb: number | null } {
  let signal = 0;
  let noise = 0;
  for (let i = 0; i < x.length; i++) {
    const v = x[i]!;
    const e = back[i]! - v;
    signal += v * v;
    noise += e * e;
  }
  return {
    mse: x.length === 0 ? 0 : noise / x.length,
    sqnrDb: noise === 0 ? null : 10 * Math.log10(signal / noise),
  };
}

/**
 * Throws when a value is not finite.
 *
 * @param x The values.
 * @param name The tensor's name, for the message.
 * @throws {RangeError} At the first NaN or infinity.
 */
export function assertFinite(x: Float32Array, name: string): void {
  for (let i = 0; i < x.length; i++) {
    if (!Number.isFinite(x[i]!)) {
      throw new RangeError(`Cannot quantize tensor '${name}': element ${i} is ${x[i]}`);
    }
  }
}
