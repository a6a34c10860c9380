/**
 * Byte sizes for people: formatting (`1.5 MiB`) and parsing (`64KiB`, `1MB`, `4096`).
 * @module
 */

const BINARY_UNITS = ["B", "KiB", "MiB", "GiB", "TiB"] as const;

const UNIT_FACTORS: Readonly<Record<string, number>> = Object.freeze({
  "": 1,
  b: 1,
  k: 1024,
  kib: 1024,
  m: 1024 ** 2,
  mib: 1024 ** 2,
  g: 1024 ** 3,
  gib: 1024 ** 3,
  kb: 1000,
  mb: 1000 ** 2,
  gb: 1000 ** 3,
});

/**
 * Formats a byte count with binary units and three significant digits at most.
 *
 * @param bytes A non-negative byte count.
 * @returns Text such as `"512 B"`, `"1.50 KiB"` or `"2.22 MiB"`.
 * @example
 * ```ts
 * import { formatBytes } from "@modelpress/cli";
 * formatBytes(2327524); // "2.22 MiB"
 * ```
 */
export function formatBytes(bytes: number): string {
  let value = bytes;
  let unit = 0;
  while (Math.abs(value) >= 1024 && unit < BINARY_UNITS.length - 1) {
    value /= 1024;
    unit++;
  }
  if (unit === 0) return `${bytes} B`;
  const digits = value >= 100 ? 0 : value >= 10 ? 1 : 2;
  return `${value.toFixed(digits)} ${BINARY_UNITS[unit]}`;
}

/**
 * Parses a byte size: a whole number with an optional unit, binary (`K`, `KiB`, `M`, `MiB`, `G`,
 * `GiB`) or decimal (`kB`, `MB`, `GB`), case-insensitive.
 *
 * @param text Text such as `"1024"`, `"64KiB"` or `"1.5 MB"`.
 * @returns The number of bytes, rounded down to a whole byte.
 * @throws {RangeError} When the text is not a size or is not a safe integer number of bytes.
 * @example
 * ```ts
 * import { parseByteSize } from "@modelpress/cli";
 * parseByteSize("1KiB"); // 1024
 * parseByteSize("2MB"); // 2000000
 * ```
 */
export function parseByteSize(text: string): number {
  const match = /^\s*(\d+(?:\.\d+)?)\s*([a-zA-Z]*)\s*$/.exec(text);
  const factor = match ? UNIT_FACTORS[(match[2] ?? "").toLowerCase()] : undefined;
  if (!match || factor === undefined) {
    throw new RangeError(
      `Cannot read '${text}' as a byte size: expected a number with an optional unit (B, KiB, MiB, GiB, kB, MB, GB)`,
    );
  }
  const bytes = Math.floor(Number(match[1]) * factor);
  if (!Number.isSafeInteger(bytes)) {
    throw new RangeError(`Cannot read '${text}' as a byte size: it is too large`);
  }
  return bytes;
}
