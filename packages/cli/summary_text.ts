/**
 * The small pieces of the summaries that commands print for people: labelled rows that line up
 * across separate tables, counts with their noun, counts, percentages and durations.
 * @module
 */

/**
 * Pads the first cell of every row to 7 characters (the width of `Kernels`), so that the
 * summary's separate `formatTable` tables line up.
 *
 * @param rows The rows, label first.
 * @returns The rows with padded labels.
 * @example
 * ```ts
 * import { labelRows } from "@modelpress/cli";
 * labelRows([["Model", "mlp.onnx"]]); // [["Model  ", "mlp.onnx"]]
 * ```
 */
export function labelRows(rows: readonly (readonly string[])[]): string[][] {
  return rows.map(([label, ...rest]) => [(label ?? "").padEnd(7), ...rest]);
}

/**
 * A count and its noun, plural unless the count is 1.
 *
 * @param n The count.
 * @param word The noun in the singular.
 * @returns `1 node`, `3 nodes`.
 * @example
 * ```ts
 * import { plural } from "@modelpress/cli";
 * plural(3, "node"); // "3 nodes"
 * ```
 */
export function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? "" : "s"}`;
}

/**
 * A count with thousands separators.
 *
 * @param n The count.
 * @returns `235,146`.
 * @example
 * ```ts
 * import { formatCount } from "@modelpress/cli";
 * formatCount(235146); // "235,146"
 * ```
 */
export function formatCount(n: number): string {
  return n.toLocaleString("en-US");
}

/**
 * A fraction as a percentage with one decimal.
 *
 * @param x The fraction.
 * @returns `50.0%`.
 * @example
 * ```ts
 * import { formatPercent } from "@modelpress/cli";
 * formatPercent(0.5); // "50.0%"
 * ```
 */
export function formatPercent(x: number): string {
  return `${(x * 100).toFixed(1)}%`;
}

/**
 * A duration: whole milliseconds below a second, seconds with two decimals above.
 *
 * @param x Milliseconds.
 * @returns `12 ms`, `1.50 s`.
 * @example
 * ```ts
 * import { formatDuration } from "@modelpress/cli";
 * formatDuration(1500); // "1.50 s"
 * ```
 */
export function formatDuration(x: number): string {
  return x >= 1000 ? `${(x / 1000).toFixed(2)} s` : `${Math.round(x)} ms`;
}
