/**
 * Bit-level half-precision conversions for engines without Float16Array.
 * @module
 */

/** Bit-level float32 → float16 for engines without Float16Array; the tests check it against the native one. */
export function float32ToFloat16Portable(values: ArrayLike<number>): Uint16Array {
  const f32 = values instanceof Float32Array ? values : Float32Array.from(values);
  const u32 = new Uint32Array(f32.buffer, f32.byteOffset, f32.length);
  const out = new Uint16Array(u32.length);
  for (let i = 0; i < u32.length; i++) {
    const u = u32[i]!;
    const sign = (u >>> 16) & 0x8000;
    const exp = (u >>> 23) & 0xff;
    const mant = u & 0x7fffff;
    if (exp === 0xff) {
      out[i] = sign | 0x7c00 | (mant === 0 ? 0 : 0x200 | (mant >>> 13));
      continue;
    }
    const e = exp - 112; // rebias 127 -> 15
    if (e >= 0x1f) {
      out[i] = sign | 0x7c00;
    } else if (e <= 0) {
      if (e < -10) {
        out[i] = sign; // below half the smallest subnormal: rounds to zero
        continue;
      }
      const m = mant | 0x800000;
      const shift = 14 - e;
      const half = 1 << (shift - 1);
      const rem = m & ((1 << shift) - 1);
      let r = m >>> shift;
      if (rem > half || (rem === half && (r & 1) === 1)) r++;
      out[i] = sign | r;
    } else {
      let r = (e << 10) | (mant >>> 13);
      const rem = mant & 0x1fff;
      if (rem > 0x1000 || (rem === 0x1000 && (r & 1) === 1)) r++; // a carry may reach Infinity
      out[i] = sign | r;
    }
  }
  return out;
}

/** Bit-level float16 → float32 for engines without Float16Array; the tests check it against the native one. */
export function float16ToFloat32Portable(bits: Uint16Array): Float32Array {
  const out = new Float32Array(bits.length);
  const u32 = new Uint32Array(out.buffer);
  for (let i = 0; i < bits.length; i++) {
    const h = bits[i]!;
    const sign = (h & 0x8000) << 16;
    const e = (h >>> 10) & 0x1f;
    const m = h & 0x3ff;
    if (e === 0x1f) u32[i] = sign | 0x7f800000 | (m << 13);
    else if (e !== 0) u32[i] = sign | ((e + 112) << 23) | (m << 13);
    else out[i] = (sign === 0 ? 1 : -1) * m * 2 ** -24;
  }
  return out;
}
