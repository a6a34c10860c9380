/**
 * Canonical JSON (object keys sorted, no whitespace) and its SHA-256: how recipes, environments
 * and run payloads are identified by content.
 * @module
 */
import { createHash } from "node:crypto";

/**
 * Writes a JSON value canonically: object keys sorted by code unit, no whitespace, `undefined`
 * properties left out, non-finite numbers as the strings `"Infinity"`, `"-Infinity"`, `"NaN"`.
 * Two values that mean the same JSON give the same text.
 *
 * @param value A JSON-able value.
 * @returns The canonical text.
 * @example
 * ```ts
 * import { canonicalJson } from "@modelpress/store";
 * console.log(canonicalJson({ b: 1, a: [true, null] })); // {"a":[true,null],"b":1}
 * ```
 */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(sortKeys(value));
}

function sortKeys(value: unknown): unknown {
  if (typeof value === "number" && !Number.isFinite(value)) return String(value);
  if (value instanceof Date) return value.toISOString();
  if (Array.isArray(value)) return value.map((v) => sortKeys(v) ?? null);
  if (typeof value === "object" && value !== null) {
    const out: Record<string, unknown> = {};
    for (const key of Object.keys(value).sort()) {
      const v = (value as Record<string, unknown>)[key];
      if (v !== undefined) out[key] = sortKeys(v);
    }
    return out;
  }
  return value;
}

/**
 * The SHA-256 of a value's canonical JSON, lower-case hex.
 *
 * @param value A JSON-able value.
 * @returns 64 hex digits.
 * @example
 * ```ts
 * import { canonicalHash } from "@modelpress/store";
 * console.log(canonicalHash({ b: 1, a: 2 }) === canonicalHash({ a: 2, b: 1 })); // true
 * ```
 */
export function canonicalHash(value: unknown): string {
  return sha256Hex(canonicalJson(value));
}

/**
 * The SHA-256 of a text's UTF-8 bytes, lower-case hex (synchronous: node:crypto, which is many
 * times faster than `crypto.subtle` for the small texts of a batch ingest).
 *
 * @param text The text.
 * @returns 64 hex digits.
 * @example
 * ```ts
 * import { sha256Hex } from "@modelpress/store";
 * console.log(sha256Hex("").slice(0, 8)); // e3b0c442
 * ```
 */
export function sha256Hex(text: string): string {
  return createHash("sha256").update(text).digest("hex");
}
