/**
 * The integer grid of b-bit linear quantization and the container type that holds its codes.
 * @module
 */
import type { QuantType } from "@modelpress/kernels";

/** Options of {@linkcode quantGrid}. */
export interface QuantGridOptions {
  /** Signed codes (`-2^(b-1) .. 2^(b-1) - 1`) or unsigned ones (`0 .. 2^b - 1`). Default true. */
  readonly signed?: boolean;
}

/** The codes of b-bit quantization: `2^b` codes, `2^b - 1` steps between `qmin` and `qmax`. */
export interface QuantGrid {
  /** Bits per code: 2..8 or 16. */
  readonly bits: number;
  /** Whether codes are signed. */
  readonly signed: boolean;
  /** The smallest code. */
  readonly qmin: number;
  /** The largest code; `qmax - qmin = 2^bits - 1`. */
  readonly qmax: number;
  /** The kernels' type whose range holds the codes (int8/uint8 for 2..8 bits). */
  readonly container: QuantType;
  /** True when the container's range is wider than the grid (2..7 bits). */
  readonly narrowed: boolean;
}

/**
 * The grid of b-bit codes. Sub-8-bit grids live in 8-bit containers with a narrowed range, so a
 * 4-bit signed grid is `[-8, 7]` held in int8.
 *
 * @param bits 2..8 or 16.
 * @param options Signedness.
 * @returns The grid.
 * @throws {RangeError} When `bits` is not an integer in 2..8 and not 16.
 * @example
 * ```ts
 * import { quantGrid } from "@modelpress/quantize";
 * quantGrid(4, { signed: false }); // { bits: 4, qmin: 0, qmax: 15, container: "uint8", ... }
 * ```
 */
export function quantGrid(bits: number, options: QuantGridOptions = {}): QuantGrid {
  if (!(Number.isInteger(bits) && ((bits >= 2 && bits <= 8) || bits === 16))) {
    throw new RangeError(`Cannot quantize to ${bits} bits: bits must be an integer 2..8 or 16`);
  }
  const signed = options.signed ?? true;
  const levels = 2 ** bits;
  const qmin = signed ? -levels / 2 : 0;
  const qmax = qmin + levels - 1;
  const container: QuantType = bits === 16
    ? (signed ? "int16" : "uint16")
    : (signed ? "int8" : "uint8");
  return Object.freeze({ bits, signed, qmin, qmax, container, narrowed: bits < 8 });
}
