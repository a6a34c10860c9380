/**
 * SQL values written the same way on every driver: JSON as text cast to jsonb, float8 arrays as
 * array literals, so that postgres.js and PGlite need no type inference of their own.
 * @module
 */
import { type RawBuilder, sql } from "kysely";
import type { JsonValue } from "./database.ts";
import { canonicalJson } from "./canonical_json.ts";

/** A jsonb value (canonical JSON text, cast). */
export function jsonb(value: unknown): RawBuilder<JsonValue> {
  return sql<JsonValue>`cast(cast(${canonicalJson(value)} as text) as jsonb)`;
}

/** A float8[] value from numbers (Infinity and NaN as Postgres spells them). */
export function float8Array(values: readonly number[]): RawBuilder<number[]> {
  return sql<number[]>`cast(cast(${`{${values.map(String).join(",")}}`} as text) as float8[])`;
}

/** A uuid[] value. */
export function uuidArray(values: readonly string[]): RawBuilder<string[]> {
  return sql<string[]>`cast(cast(${`{${values.join(",")}}`} as text) as uuid[])`;
}

/** Splits rows so that no statement has more than about 30,000 parameters (Postgres: 65,535). */
export function chunks<T>(rows: readonly T[], parametersPerRow: number): T[][] {
  const size = Math.max(1, Math.floor(30_000 / parametersPerRow));
  const out: T[][] = [];
  for (let i = 0; i < rows.length; i += size) out.push(rows.slice(i, i + size));
  return out;
}

/** A driver's int8 (string, number or bigint) as a number. */
export function toNumber(value: string | number | bigint | null | undefined): number {
  return value === null || value === undefined ? 0 : Number(value);
}

/** A timestamp as a Date (drivers answer Date; raw SQL may answer a string). */
export function toDate(value: Date | string): Date {
  return value instanceof Date ? value : new Date(value);
}

/** One element of a Postgres array literal: NULL, or the text in double quotes. */
function element(value: string | number | null): string {
  if (value === null) return "NULL";
  return `"${String(value).replaceAll("\\", "\\\\").replaceAll('"', '\\"')}"`;
}

/**
 * A Postgres array of the given element type, written as one text literal and cast: a whole
 * column of a bulk insert in one parameter (`insert ... select * from unnest(...)`).
 */
export function arrayOf<T>(
  values: readonly (string | number | null)[],
  type: "uuid" | "text" | "int2" | "int4" | "int8" | "float8" | "jsonb" | "timestamptz",
): RawBuilder<T[]> {
  return sql<T[]>`cast(cast(${`{${values.map(element).join(",")}}`} as text) as ${
    sql.raw(type)
  }[])`;
}

/** A float8[] as its text literal (one element of a text[] column, cast per row later). */
export function float8Literal(values: readonly number[]): string {
  return `{${values.map(String).join(",")}}`;
}
