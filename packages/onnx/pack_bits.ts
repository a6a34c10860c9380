/**
 * Packing of 4-bit (INT4, UINT4, FLOAT4E2M1) and 2-bit (INT2, UINT2) elements into bytes as ONNX
 * stores them: the first element in the least significant bits.
 * @module
 */

// Lookup tables: one packed byte -> its unpacked bytes, read as one little-endian word.
const NIBBLES_UNSIGNED = new Uint16Array(256);
const NIBBLES_SIGNED = new Uint16Array(256);
const CRUMBS_UNSIGNED = new Uint32Array(256);
const CRUMBS_SIGNED = new Uint32Array(256);
for (let b = 0; b < 256; b++) {
  const lo = b & 0xf;
  const hi = b >>> 4;
  NIBBLES_UNSIGNED[b] = lo | (hi << 8);
  NIBBLES_SIGNED[b] = (((lo ^ 8) - 8) & 0xff) | ((((hi ^ 8) - 8) & 0xff) << 8);
  let u = 0;
  let s = 0;
  for (let k = 0; k < 4; k++) {
    const v = (b >>> (2 * k)) & 3;
    u |= v << (8 * k);
    s |= (((v ^ 2) - 2) & 0xff) << (8 * k);
  }
  CRUMBS_UNSIGNED[b] = u >>> 0;
  CRUMBS_SIGNED[b] = s >>> 0;
}

/**
 * Packs 4-bit values two per byte, the first in the low nibble. Signed (-8..7) and unsigned
 * (0..15) values are both accepted; each is stored as its low four bits. An odd count leaves the
 * last high nibble zero.
 *
 * @param values One value per element (INT4, UINT4 or FLOAT4E2M1 codes).
 * @returns `ceil(values.length / 2)` bytes.
 * @throws {RangeError} When a value is outside -8..15 or not an integer.
 * @example
 * ```ts
 * import { pack4Bit } from "@modelpress/onnx";
 * pack4Bit(new Int8Array([1, -1, 7])); // Uint8Array [0xf1, 0x07]
 * ```
 */
export function pack4Bit(values: ArrayLike<number>): Uint8Array {
  const n = values.length;
  const out = new Uint8Array((n + 1) >>> 1);
  for (let i = 0; i < n; i++) {
    const v = values[i]!;
    if (!(v >= -8 && v <= 15) || (v | 0) !== v) {
      throw new RangeError(`Cannot pack value ${v} at index ${i} into 4 bits: it is not in -8..15`);
    }
    out[i >>> 1]! |= (v & 0xf) << ((i & 1) << 2);
  }
  return out;
}

/**
 * Packs 2-bit values four per byte, the first in the lowest two bits. Signed (-2..1) and unsigned
 * (0..3) values are both accepted; each is stored as its low two bits.
 *
 * @param values One value per element (INT2 or UINT2).
 * @returns `ceil(values.length / 4)` bytes.
 * @throws {RangeError} When a value is outside -2..3 or not an integer.
 * @example
 * ```ts
 * import { pack2Bit } from "@modelpress/onnx";
 * pack2Bit(new Uint8Array([0, 1, 2, 3])); // Uint8Array [0xe4]
 * ```
 */
export function pack2Bit(values: ArrayLike<number>): Uint8Array {
  const n = values.length;
  const out = new Uint8Array((n + 3) >>> 2);
  for (let i = 0; i < n; i++) {
    const v = values[i]!;
    if (!(v >= -2 && v <= 3) || (v | 0) !== v) {
      throw new RangeError(`Cannot pack value ${v} at index ${i} into 2 bits: it is not in -2..3`);
    }
    out[i >>> 2]! |= (v & 3) << ((i & 3) << 1);
  }
  return out;
}

/**
 * Unpacks `count` signed 4-bit values (INT4), sign-extended.
 *
 * @param packed Two values per byte, low nibble first.
 * @param count How many values to unpack.
 * @returns One value per element, in -8..7.
 * @throws {RangeError} When `packed` holds fewer than `count` values.
 * @example
 * ```ts
 * import { unpackInt4 } from "@modelpress/onnx";
 * unpackInt4(new Uint8Array([0xf1, 0x07]), 3); // Int8Array [1, -1, 7]
 * ```
 */
export function unpackInt4(packed: Uint8Array, count: number): Int8Array {
  const bytes = unpack(packed, count, 2, NIBBLES_SIGNED);
  return new Int8Array(bytes.buffer, 0, count);
}

/**
 * Unpacks `count` unsigned 4-bit values (UINT4, or FLOAT4E2M1 codes).
 *
 * @param packed Two values per byte, low nibble first.
 * @param count How many values to unpack.
 * @returns One value per element, in 0..15.
 * @throws {RangeError} When `packed` holds fewer than `count` values.
 * @example
 * ```ts
 * import { unpackUint4 } from "@modelpress/onnx";
 * unpackUint4(new Uint8Array([0xf1]), 2); // Uint8Array [1, 15]
 * ```
 */
export function unpackUint4(packed: Uint8Array, count: number): Uint8Array {
  return unpack(packed, count, 2, NIBBLES_UNSIGNED);
}

/**
 * Unpacks `count` signed 2-bit values (INT2), sign-extended.
 *
 * @param packed Four values per byte, lowest bits first.
 * @param count How many values to unpack.
 * @returns One value per element, in -2..1.
 * @throws {RangeError} When `packed` holds fewer than `count` values.
 * @example
 * ```ts
 * import { unpackInt2 } from "@modelpress/onnx";
 * unpackInt2(new Uint8Array([0xe4]), 4); // Int8Array [0, 1, -2, -1]
 * ```
 */
export function unpackInt2(packed: Uint8Array, count: number): Int8Array {
  const bytes = unpack(packed, count, 4, CRUMBS_SIGNED);
  return new Int8Array(bytes.buffer, 0, count);
}

/**
 * Unpacks `count` unsigned 2-bit values (UINT2).
 *
 * @param packed Four values per byte, lowest bits first.
 * @param count How many values to unpack.
 * @returns One value per element, in 0..3.
 * @throws {RangeError} When `packed` holds fewer than `count` values.
 * @example
 * ```ts
 * import { unpackUint2 } from "@modelpress/onnx";
 * unpackUint2(new Uint8Array([0xe4]), 4); // Uint8Array [0, 1, 2, 3]
 * ```
 */
export function unpackUint2(packed: Uint8Array, count: number): Uint8Array {
  return unpack(packed, count, 4, CRUMBS_UNSIGNED);
}

function unpack(
  packed: Uint8Array,
  count: number,
  perByte: 2 | 4,
  table: Uint16Array | Uint32Array,
): Uint8Array {
  const nBytes = Math.ceil(count / perByte);
  if (!Number.isSafeInteger(count) || count < 0) {
    throw new RangeError(`Cannot unpack ${count} values: the count is not a non-negative integer`);
  }
  if (packed.length < nBytes) {
    throw new RangeError(
      `Cannot unpack ${count} values: ${packed.length} bytes hold at most ${
        packed.length * perByte
      }`,
    );
  }
  // Write whole words (2 or 4 output bytes per packed byte), then trim to `count`.
  const out = new Uint8Array(nBytes * perByte);
  const words = perByte === 2 ? new Uint16Array(out.buffer) : new Uint32Array(out.buffer);
  for (let i = 0; i < nBytes; i++) words[i] = table[packed[i]!]!;
  return out.subarray(0, count);
}
