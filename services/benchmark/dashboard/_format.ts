/**
 * How the dashboard prints numbers, units and times (server side; the chart script has its own
 * copy of the unit rules for axis labels).
 * @module
 */
import type { SeriesKey } from "./source.ts";

/**
 * The unit of a series: its own, else guessed from the metric's name.
 *
 * @param key The series (its `unit` and `metric`).
 * @returns "bytes", "ratio", "ms", "count" or the series' own unit string ("" when none is
 *   known).
 * @example
 * ```ts
 * import { unitOf } from "./_format.ts";
 * console.log(unitOf({ metric: "latency_p50" })); // "ms"
 * ```
 */
export function unitOf(key: Pick<SeriesKey, "metric" | "unit">): string {
  if (key.unit !== undefined) return key.unit;
  const metric = key.metric.toLowerCase();
  if (metric.startsWith("size") || metric.endsWith("bytes")) return "bytes";
  if (metric.startsWith("accuracy") || metric.startsWith("top")) return "ratio";
  if (metric.startsWith("latency")) return "ms";
  return "";
}

/**
 * A value with its unit, for people: "1.50 MiB", "97.80%", "3.21 ms", "235,146", "41.2 dB".
 *
 * @param value The number (null prints "–").
 * @param unit As {@linkcode unitOf} answers.
 * @returns The text.
 * @example
 * ```ts
 * import { formatValue } from "./_format.ts";
 * console.log(formatValue(0.978, "ratio")); // "97.80%"
 * ```
 */
export function formatValue(value: number | null, unit: string): string {
  if (value === null || !Number.isFinite(value)) return "–";
  switch (unit) {
    case "bytes":
      return formatBytes(value);
    case "ratio":
      return `${(value * 100).toFixed(2)}%`;
    case "ms":
      return `${value < 10 ? value.toFixed(2) : value.toFixed(1)} ms`;
    case "count":
      return Number.isInteger(value) ? value.toLocaleString("en-US") : String(round(value));
    default:
      return unit === "" ? String(round(value)) : `${round(value)} ${unit}`;
  }
}

/**
 * Bytes in binary units: "512 B", "919.0 KiB", "1.72 MiB".
 *
 * @param bytes The size.
 * @returns The text.
 * @example
 * ```ts
 * import { formatBytes } from "./_format.ts";
 * console.log(formatBytes(1536)); // "1.50 KiB"
 * ```
 */
export function formatBytes(bytes: number): string {
  const units = ["B", "KiB", "MiB", "GiB", "TiB"];
  let value = bytes;
  let i = 0;
  while (Math.abs(value) >= 1024 && i < units.length - 1) {
    value /= 1024;
    i++;
  }
  return i === 0 ? `${value} B` : `${value.toFixed(2)} ${units[i]}`;
}

/**
 * An ISO time as "2026-01-02 03:04 UTC".
 *
 * @param iso The time (ISO 8601).
 * @returns The text, or the input unchanged when it is not a valid time.
 * @example
 * ```ts
 * import { formatTime } from "./_format.ts";
 * console.log(formatTime("2026-01-02T03:04:05Z")); // "2026-01-02 03:04 UTC"
 * ```
 */
export function formatTime(iso: string): string {
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return iso;
  return `${date.toISOString().slice(0, 16).replace("T", " ")} UTC`;
}

/**
 * A metric's name for people: "size_bytes" -> "Size", "latency_ms" -> "Latency".
 *
 * @param metric The metric's name.
 * @returns The label.
 * @example
 * ```ts
 * import { metricLabel } from "./_format.ts";
 * console.log(metricLabel("latency_p95_ms")); // "Latency p95"
 * ```
 */
export function metricLabel(metric: string): string {
  const words = metric.split(/[_\s]+/).filter((w) => w !== "" && !["bytes", "ms"].includes(w));
  const text = words.join(" ") || metric;
  return text.charAt(0).toUpperCase() + text.slice(1);
}

function round(value: number): number {
  return Number(value.toPrecision(4));
}

/**
 * A count with its noun: "1 point", "3 points".
 *
 * @param count How many.
 * @param noun The singular noun (its plural adds "s").
 * @returns The text.
 * @example
 * ```ts
 * import { plural } from "./_format.ts";
 * console.log(plural(1, "regression")); // "1 regression"
 * ```
 */
export function plural(count: number, noun: string): string {
  return `${count} ${noun}${count === 1 ? "" : "s"}`;
}
