/**
 * JSON for evaluation reports that keeps non-finite numbers: `JSON.stringify` writes
 * `Infinity` as `null`; these functions write `"Infinity"`, `"-Infinity"` and `"NaN"` (strings)
 * and read them back.
 * @module
 */
import type { EvaluationReport } from "./evaluate_model.ts";

/** Options of {@link reportToJson}. */
export interface ReportToJsonOptions {
  /** Indentation, as `JSON.stringify`'s `space` (default none). */
  readonly space?: number | string;
}

/**
 * Converts a value's non-finite numbers to strings, deeply; what `JSON.stringify` then writes.
 *
 * @param _key The property name (unused).
 * @param value The value.
 * @returns The value, or its string form when it is a non-finite number.
 */
function replacer(_key: string, value: unknown): unknown {
  return typeof value === "number" && !Number.isFinite(value) ? String(value) : value;
}

/**
 * Serializes a report to JSON, writing non-finite numbers (an SQNR of `Infinity`) as the strings
 * `"Infinity"`, `"-Infinity"`, `"NaN"`.
 *
 * @param report The report (or any JSON-able value).
 * @param options Indentation.
 * @returns The JSON text.
 * @example
 * ```ts
 * import { reportToJson } from "@modelpress/evaluate";
 * reportToJson({ sqnrDb: Infinity } as never); // '{"sqnrDb":"Infinity"}'
 * ```
 */
export function reportToJson(
  report: EvaluationReport,
  options: ReportToJsonOptions = {},
): string {
  return JSON.stringify(report, replacer, options.space);
}

/**
 * Parses JSON written by {@link reportToJson}, turning `"Infinity"`, `"-Infinity"` and `"NaN"`
 * strings back into numbers (a string field holding exactly one of those words would be read as
 * a number too). It does not validate the report's shape.
 *
 * @param text The JSON text.
 * @returns The report.
 * @throws {SyntaxError} When the text is not JSON.
 * @example
 * ```ts
 * import { reportFromJson } from "@modelpress/evaluate";
 * reportFromJson('{"sqnrDb":"Infinity"}'); // { sqnrDb: Infinity }
 * ```
 */
export function reportFromJson(text: string): EvaluationReport {
  return JSON.parse(
    text,
    (_key, value: unknown) =>
      value === "Infinity"
        ? Infinity
        : value === "-Infinity"
        ? -Infinity
        : value === "NaN"
        ? NaN
        : value,
  ) as EvaluationReport;
}
