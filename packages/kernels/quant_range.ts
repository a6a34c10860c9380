/**
 * The integer ranges of the quantized types.
 * @module
 */
import type { QuantType } from "./kernels.ts";

/** The smallest and largest value of a quantized type and its width in bits. */
export interface QuantRange {
  /** Smallest value. */
  readonly min: number;
  /** Largest value. */
  readonly max: number;
  /** Bits per element. */
  readonly bits: number;
  /** Whether the type is signed. */
  readonly signed: boolean;
}

const RANGES: Readonly<Record<QuantType, QuantRange>> = Object.freeze({
  int8: Object.freeze({ min: -128, max: 127, bits: 8, signed: true }),
  uint8: Object.freeze({ min: 0, max: 255, bits: 8, signed: false }),
  int16: Object.freeze({ min: -32768, max: 32767, bits: 16, signed: true }),
  uint16: Object.freeze({ min: 0, max: 65535, bits: 16, signed: false }),
  int4: Object.freeze({ min: -8, max: 7, bits: 4, signed: true }),
  uint4: Object.freeze({ min: 0, max: 15, bits: 4, signed: false }),
  int2: Object.freeze({ min: -2, max: 1, bits: 2, signed: true }),
  uint2: Object.freeze({ min: 0, max: 3, bits: 2, signed: false }),
});

/**
 * Returns the range of a quantized type.
 *
 * @param type The type.
 * @returns Its smallest and largest values, bits and signedness.
 * @throws {TypeError} When the type is unknown.
 * @example
 * ```ts
 * import { quantRange } from "@modelpress/kernels";
 * quantRange("int4"); // { min: -8, max: 7, bits: 4, signed: true }
 * ```
 */
export function quantRange(type: QuantType): QuantRange {
  const range = Object.hasOwn(RANGES, type) ? RANGES[type] : undefined;
  if (range === undefined) throw new TypeError(`Cannot quantize to '${type}': unknown type`);
  return range;
}
