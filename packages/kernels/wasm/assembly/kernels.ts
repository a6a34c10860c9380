// AssemblyScript sources of the WASM kernels (SIMD). Built by `deno task build:wasm` into
// packages/kernels/_wasm/. Every function works on raw pointers into the one linear memory that
// packages/kernels/wasm/backend.ts manages; nothing here allocates.
//
// The semantics are those of the TypeScript reference in packages/kernels/js/; the conformance
// suite holds them to it.

// Reductions: 0 min, 1 max, 2 absmax, 3 sum, 4 sumsq, 5 sum of |x|.
const MIN = 0;
const MAX = 1;
const ABSMAX = 2;
const SUM = 3;
const SUMSQ = 4;
const SUMABS = 5;

const NAN_KEY: u32 = 0x7f800001;

export function heapBase(): usize {
  return __heap_base;
}

// Copies n bytes inside the memory (the memory.copy baseline of the benchmarks).
export function copy(dst: usize, src: usize, n: usize): void {
  memory.copy(dst, src, n);
}

@inline function identity(op: i32): f64 {
  return op == MIN ? Infinity : op == MAX ? -Infinity : 0;
}

@inline function combine(op: i32, a: f64, v: f64): f64 {
  if (op == MIN) return min(a, v);
  if (op == MAX) return max(a, v);
  if (op == ABSMAX) return max(a, abs(v));
  if (op == SUM) return a + v;
  if (op == SUMSQ) return a + v * v;
  return a + abs(v);
}

// min / max / absmax of x[0..n) in float32 lanes (exact; NaN propagates as f32.min does).
@inline function runMinMax(op: i32, x: usize, n: i32): f64 {
  let a = f32x4.splat(<f32>identity(op));
  let b = a;
  let i = 0;
  if (op == MIN) {
    for (; i + 8 <= n; i += 8) {
      a = f32x4.min(a, v128.load(x + (<usize>i << 2)));
      b = f32x4.min(b, v128.load(x + (<usize>i << 2), 16));
    }
  } else if (op == MAX) {
    for (; i + 8 <= n; i += 8) {
      a = f32x4.max(a, v128.load(x + (<usize>i << 2)));
      b = f32x4.max(b, v128.load(x + (<usize>i << 2), 16));
    }
  } else {
    for (; i + 8 <= n; i += 8) {
      a = f32x4.max(a, f32x4.abs(v128.load(x + (<usize>i << 2))));
      b = f32x4.max(b, f32x4.abs(v128.load(x + (<usize>i << 2), 16)));
    }
  }
  let r: f64 = identity(op);
  for (let l = 0; l < 4; l++) {
    r = combine(op == ABSMAX ? MAX : op, r, <f64>f32x4.extract_lane(a, 0));
    r = combine(op == ABSMAX ? MAX : op, r, <f64>f32x4.extract_lane(b, 0));
    a = v128.shuffle<f32>(a, a, 1, 2, 3, 0);
    b = v128.shuffle<f32>(b, b, 1, 2, 3, 0);
  }
  for (; i < n; i++) r = combine(op, r, <f64>load<f32>(x + (<usize>i << 2)));
  return r;
}

// Sums of x[0..n) in float64 lanes.
@inline function runSum(op: i32, x: usize, n: i32): f64 {
  let lo = f64x2.splat(0);
  let hi = f64x2.splat(0);
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    let v = v128.load(x + (<usize>i << 2));
    if (op == SUMABS) v = f32x4.abs(v);
    const l = f64x2.promote_low_f32x4(v);
    const h = f64x2.promote_low_f32x4(v128.shuffle<f32>(v, v, 2, 3, 0, 1));
    if (op == SUMSQ) {
      lo = f64x2.add(lo, f64x2.mul(l, l));
      hi = f64x2.add(hi, f64x2.mul(h, h));
    } else {
      lo = f64x2.add(lo, l);
      hi = f64x2.add(hi, h);
    }
  }
  const s = f64x2.add(lo, hi);
  let r = f64x2.extract_lane(s, 0) + f64x2.extract_lane(s, 1);
  for (; i < n; i++) r = combine(op, r, <f64>load<f32>(x + (<usize>i << 2)));
  return r;
}

function reduceRun(op: i32, x: usize, n: i32): f64 {
  return op <= ABSMAX ? runMinMax(op, x, n) : runSum(op, x, n);
}

// Whole tensor (a run): the result in float64.
export function reduceWhole(op: i32, x: usize, n: i32): f64 {
  return reduceRun(op, x, n);
}

// Merges a partial result into an output: sums add, extremes combine as extremes.
@inline function merge(op: i32, a: f64, r: f64): f64 {
  return op <= ABSMAX ? (op == MIN ? min(a, r) : max(a, r)) : a + r;
}

// Combines a row of `width` floats lane-wise into `width` float64 outputs.
function combineRow(op: i32, row: usize, out: usize, width: i32): void {
  let c = 0;
  for (; c + 4 <= width; c += 4) {
    let v = v128.load(row + (<usize>c << 2));
    if (op == ABSMAX || op == SUMABS) v = f32x4.abs(v);
    const l = f64x2.promote_low_f32x4(v);
    const h = f64x2.promote_low_f32x4(v128.shuffle<f32>(v, v, 2, 3, 0, 1));
    const pa = out + (<usize>c << 3);
    let a = v128.load(pa);
    let b = v128.load(pa, 16);
    if (op == MIN) {
      a = f64x2.min(a, l);
      b = f64x2.min(b, h);
    } else if (op == MAX || op == ABSMAX) {
      a = f64x2.max(a, l);
      b = f64x2.max(b, h);
    } else if (op == SUMSQ) {
      a = f64x2.add(a, f64x2.mul(l, l));
      b = f64x2.add(b, f64x2.mul(h, h));
    } else {
      a = f64x2.add(a, l);
      b = f64x2.add(b, h);
    }
    v128.store(pa, a);
    v128.store(pa, b, 16);
  }
  for (; c < width; c++) {
    const pa = out + (<usize>c << 3);
    store<f64>(pa, combine(op, load<f64>(pa), <f64>load<f32>(row + (<usize>c << 2))));
  }
}

// Per axis over x viewed as [outer, channels, inner]; out[c] (float64) must hold the identity.
export function reduceAxis(op: i32, x: usize, outer: i32, channels: i32, inner: i32, out: usize): void {
  if (inner == 1) {
    // The axis is the last: combine whole rows lane-wise into out.
    for (let o = 0; o < outer; o++) combineRow(op, x + ((<usize>o * <usize>channels) << 2), out, channels);
    return;
  }
  for (let o = 0; o < outer; o++) {
    for (let c = 0; c < channels; c++) {
      const run = x + ((<usize>(o * channels + c) * <usize>inner) << 2);
      const pa = out + (<usize>c << 3);
      store<f64>(pa, merge(op, load<f64>(pa), reduceRun(op, run, inner)));
    }
  }
}

// Per block: x viewed as [outer, channels, inner] with blocks of `block` along channels; the
// output of element (o, c, i) is the float64 at out + 8 * (o * sO + floor(c / block) * sC + i)
// and must hold the identity.
export function reduceBlocked(
  op: i32, x: usize, outer: i32, channels: i32, inner: i32, block: i32, out: usize, sO: i32, sC: i32,
): void {
  if (inner == 1) {
    for (let o = 0; o < outer; o++) {
      for (let cb = 0; cb < channels; cb += block) {
        const run = x + ((<usize>o * <usize>channels + <usize>cb) << 2);
        const pa = out + (<usize>(o * sO + (cb / block) * sC) << 3);
        store<f64>(pa, merge(op, load<f64>(pa), reduceRun(op, run, min(block, channels - cb))));
      }
    }
    return;
  }
  for (let o = 0; o < outer; o++) {
    for (let c = 0; c < channels; c++) {
      const row = x + ((<usize>(o * channels + c) * <usize>inner) << 2);
      combineRow(op, row, out + (<usize>(o * sO + (c / block) * sC) << 3), inner);
    }
  }
}

// Affine quantization to int8 / uint8 (ONNX QuantizeLinear). Per vector: t = x / s (float32, as
// the reference), NaN -> 0, clamp t to [qmin - zp, qmax - zp] (integers, so clamping before
// rounding equals clamping after), then round half to even by adding 1.5 * 2^23 (exact for
// |t| < 2^22 in the default rounding mode), read the integer from the bits and add zp.
// pmin/pmax map to single minps/maxps; min/max and trunc_sat would cost several instructions each.
const MAGIC: f32 = 12582912.0;
const MAGIC_BITS: i32 = 0x4b400000;

@inline function quantizeVector(v: v128, s: v128, zb: v128, lo: v128, hi: v128): v128 {
  let t = f32x4.div(v, s);
  t = v128.and(t, f32x4.eq(t, t));
  t = f32x4.pmax(f32x4.pmin(t, hi), lo);
  // zb = MAGIC_BITS - zero point: one subtraction removes the offset and adds the zero point.
  return i32x4.sub(f32x4.add(t, f32x4.splat(MAGIC)), zb);
}

// As quantizeVector with a zero point per lane.
@inline function quantizeLanes(v: v128, s: v128, zi: v128, qmin: v128, qmax: v128): v128 {
  const zf = f32x4.convert_i32x4_s(zi);
  return quantizeVector(v, s, i32x4.sub(i32x4.splat(MAGIC_BITS), zi), f32x4.sub(qmin, zf), f32x4.sub(qmax, zf));
}

@inline function quantizeScalar(v: f32, s: f32, z: f32, lo: f32, hi: f32): i32 {
  let t = nearest<f32>(v / s);
  if (t != t) t = 0;
  return <i32>max(min(t + z, hi), lo);
}

@inline function narrow(signed: bool, a: v128, b: v128, c: v128, d: v128): v128 {
  const h1 = i16x8.narrow_i32x4_s(a, b);
  const h2 = i16x8.narrow_i32x4_s(c, d);
  return signed ? i8x16.narrow_i16x8_s(h1, h2) : i8x16.narrow_i16x8_u(h1, h2);
}

// Stores 16 codes (four i32x4, already in range) as bytes or, when wide, as 16-bit values.
@inline function storeCodes(signed: bool, wide: bool, y: usize, a: v128, b: v128, c: v128, d: v128): void {
  if (wide) {
    v128.store(y, signed ? i16x8.narrow_i32x4_s(a, b) : i16x8.narrow_i32x4_u(a, b));
    v128.store(y, signed ? i16x8.narrow_i32x4_s(c, d) : i16x8.narrow_i32x4_u(c, d), 16);
  } else {
    v128.store(y, narrow(signed, a, b, c, d));
  }
}

@inline function storeCode(wide: bool, y: usize, i: i32, q: i32): void {
  if (wide) store<i16>(y + (<usize>i << 1), <i16>q);
  else store<i8>(y + <usize>i, <i8>q);
}

@inline function quantizeSplat(
  signed: bool, wide: bool, x: usize, y: usize, n: i32, scale: f32, zero: i32, qmin: f32, qmax: f32,
): void {
  const s = f32x4.splat(scale);
  const z = i32x4.splat(MAGIC_BITS - zero);
  const lo = f32x4.splat(qmin - <f32>zero);
  const hi = f32x4.splat(qmax - <f32>zero);
  let i = 0;
  for (; i + 16 <= n; i += 16) {
    const p = x + (<usize>i << 2);
    const a = quantizeVector(v128.load(p), s, z, lo, hi);
    const b = quantizeVector(v128.load(p, 16), s, z, lo, hi);
    const c = quantizeVector(v128.load(p, 32), s, z, lo, hi);
    const d = quantizeVector(v128.load(p, 48), s, z, lo, hi);
    storeCodes(signed, wide, y + (<usize>i << (wide ? 1 : 0)), a, b, c, d);
  }
  const zf = <f32>zero;
  for (; i < n; i++) {
    storeCode(wide, y, i, quantizeScalar(load<f32>(x + (<usize>i << 2)), scale, zf, qmin, qmax));
  }
}

@inline function quantizeVec(
  signed: bool, wide: bool, x: usize, y: usize, n: i32, sp: usize, zp: usize, qmin: f32, qmax: f32,
): void {
  const lo = f32x4.splat(qmin);
  const hi = f32x4.splat(qmax);
  let i = 0;
  for (; i + 16 <= n; i += 16) {
    const p = x + (<usize>i << 2);
    const q = sp + (<usize>i << 2);
    const r = zp + (<usize>i << 2);
    const a = quantizeLanes(v128.load(p), v128.load(q), v128.load(r), lo, hi);
    const b = quantizeLanes(v128.load(p, 16), v128.load(q, 16), v128.load(r, 16), lo, hi);
    const c = quantizeLanes(v128.load(p, 32), v128.load(q, 32), v128.load(r, 32), lo, hi);
    const d = quantizeLanes(v128.load(p, 48), v128.load(q, 48), v128.load(r, 48), lo, hi);
    storeCodes(signed, wide, y + (<usize>i << (wide ? 1 : 0)), a, b, c, d);
  }
  for (; i < n; i++) {
    const o = <usize>i << 2;
    storeCode(wide, y, i, quantizeScalar(load<f32>(x + o), load<f32>(sp + o), <f32>load<i32>(zp + o), qmin, qmax));
  }
}

// Affine dequantization from 8- or 16-bit codes: (q - zero) * scale.
@inline function loadCodes(signed: bool, wide: bool, x: usize, i: i32): v128 {
  if (wide) return signed ? v128.load16x4_s(x + (<usize>i << 1)) : v128.load16x4_u(x + (<usize>i << 1));
  const v = v128.load32_zero(x + <usize>i);
  const h = signed ? i16x8.extend_low_i8x16_s(v) : i16x8.extend_low_i8x16_u(v);
  return i32x4.extend_low_i16x8_s(h);
}

@inline function loadCode(signed: bool, wide: bool, x: usize, i: i32): i32 {
  if (wide) return signed ? <i32>load<i16>(x + (<usize>i << 1)) : <i32>load<u16>(x + (<usize>i << 1));
  return signed ? <i32>load<i8>(x + <usize>i) : <i32>load<u8>(x + <usize>i);
}

@inline function dequantizeSplat(signed: bool, wide: bool, x: usize, y: usize, n: i32, scale: f32, zero: i32): void {
  const s = f32x4.splat(scale);
  const z = i32x4.splat(zero);
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    const q = loadCodes(signed, wide, x, i);
    v128.store(y + (<usize>i << 2), f32x4.mul(f32x4.convert_i32x4_s(i32x4.sub(q, z)), s));
  }
  for (; i < n; i++) {
    store<f32>(y + (<usize>i << 2), <f32>(loadCode(signed, wide, x, i) - zero) * scale);
  }
}

@inline function dequantizeVec(signed: bool, wide: bool, x: usize, y: usize, n: i32, sp: usize, zp: usize): void {
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    const o = <usize>i << 2;
    const d = f32x4.convert_i32x4_s(i32x4.sub(loadCodes(signed, wide, x, i), v128.load(zp + o)));
    v128.store(y + o, f32x4.mul(d, v128.load(sp + o)));
  }
  for (; i < n; i++) {
    const o = <usize>i << 2;
    store<f32>(y + o, <f32>(loadCode(signed, wide, x, i) - load<i32>(zp + o)) * load<f32>(sp + o));
  }
}

// kind: 0 quantize int8, 1 uint8, 4 int16, 5 uint16; 2 dequantize int8, 3 uint8, 6 int16, 7 uint16.
function runSplat(kind: i32, x: usize, y: usize, e: usize, n: i32, s: f32, z: i32, qmin: f32, qmax: f32): void {
  switch (kind) {
    case 0: quantizeSplat(true, false, x + (e << 2), y + e, n, s, z, qmin, qmax); break;
    case 1: quantizeSplat(false, false, x + (e << 2), y + e, n, s, z, qmin, qmax); break;
    case 4: quantizeSplat(true, true, x + (e << 2), y + (e << 1), n, s, z, qmin, qmax); break;
    case 5: quantizeSplat(false, true, x + (e << 2), y + (e << 1), n, s, z, qmin, qmax); break;
    case 2: dequantizeSplat(true, false, x + e, y + (e << 2), n, s, z); break;
    case 3: dequantizeSplat(false, false, x + e, y + (e << 2), n, s, z); break;
    case 6: dequantizeSplat(true, true, x + (e << 1), y + (e << 2), n, s, z); break;
    default: dequantizeSplat(false, true, x + (e << 1), y + (e << 2), n, s, z);
  }
}

function runVec(kind: i32, x: usize, y: usize, e: usize, n: i32, sp: usize, zp: usize, qmin: f32, qmax: f32): void {
  switch (kind) {
    case 0: quantizeVec(true, false, x + (e << 2), y + e, n, sp, zp, qmin, qmax); break;
    case 1: quantizeVec(false, false, x + (e << 2), y + e, n, sp, zp, qmin, qmax); break;
    case 4: quantizeVec(true, true, x + (e << 2), y + (e << 1), n, sp, zp, qmin, qmax); break;
    case 5: quantizeVec(false, true, x + (e << 2), y + (e << 1), n, sp, zp, qmin, qmax); break;
    case 2: dequantizeVec(true, false, x + e, y + (e << 2), n, sp, zp); break;
    case 3: dequantizeVec(false, false, x + e, y + (e << 2), n, sp, zp); break;
    case 6: dequantizeVec(true, true, x + (e << 1), y + (e << 2), n, sp, zp); break;
    default: dequantizeVec(false, true, x + (e << 1), y + (e << 2), n, sp, zp);
  }
}

// x viewed as [outer, channels, inner]; the parameters of element (o, c, i) are at
// o * sO + floor(c / block) * sC + i * sI (sI is 0 or 1).
export function affine(
  kind: i32, x: usize, y: usize, outer: i32, channels: i32, inner: i32, block: i32,
  sp: usize, zp: usize, sO: i32, sC: i32, sI: i32, qmin: f32, qmax: f32,
): void {
  if (inner == 1 && sI == 0) {
    for (let o = 0; o < outer; o++) {
      for (let cb = 0; cb < channels; cb += block) {
        const k = <usize>(o * sO + (cb / block) * sC) << 2;
        const e = <usize>o * <usize>channels + <usize>cb;
        const n = min(block, channels - cb);
        runSplat(kind, x, y, e, n, load<f32>(sp + k), load<i32>(zp + k), qmin, qmax);
      }
    }
    return;
  }
  for (let o = 0; o < outer; o++) {
    for (let c = 0; c < channels; c++) {
      const k = <usize>(o * sO + (c / block) * sC) << 2;
      const e = (<usize>o * <usize>channels + <usize>c) * <usize>inner;
      if (sI == 0) runSplat(kind, x, y, e, inner, load<f32>(sp + k), load<i32>(zp + k), qmin, qmax);
      else runVec(kind, x, y, e, inner, sp + k, zp + k, qmin, qmax);
    }
  }
}

// Magnitude selection: keys are the bits of |x|, every NaN as NAN_KEY.
@inline function keys(v: v128): v128 {
  return i32x4.min_u(v128.and(v, i32x4.splat(0x7fffffff)), i32x4.splat(NAN_KEY));
}

// Adds the high 15 bits of every key of x[0..n) to hist (u32[32768]).
export function histHigh(x: usize, n: i32, hist: usize): void {
  for (let i = 0; i < n; i++) {
    const key = min<u32>(load<u32>(x + (<usize>i << 2)) & 0x7fffffff, NAN_KEY);
    const p = hist + (<usize>(key >>> 16) << 2);
    store<u32>(p, load<u32>(p) + 1);
  }
}

// Adds the low 16 bits of the keys whose high bits are `high` to hist (u32[65536]).
export function histLow(x: usize, n: i32, high: u32, hist: usize): void {
  const want = i32x4.splat(high);
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    const k = keys(v128.load(x + (<usize>i << 2)));
    if (!v128.any_true(i32x4.eq(i32x4.shr_u(k, 16), want))) continue;
    for (let l = 0; l < 4; l++) {
      const key = load<u32>(x + (<usize>(i + l) << 2)) & 0x7fffffff;
      const kk = min<u32>(key, NAN_KEY);
      if (kk >>> 16 == high) {
        const p = hist + (<usize>(kk & 0xffff) << 2);
        store<u32>(p, load<u32>(p) + 1);
      }
    }
  }
  for (; i < n; i++) {
    const kk = min<u32>(load<u32>(x + (<usize>i << 2)) & 0x7fffffff, NAN_KEY);
    if (kk >>> 16 == high) {
      const p = hist + (<usize>(kk & 0xffff) << 2);
      store<u32>(p, load<u32>(p) + 1);
    }
  }
}

// Zeroes, in place, keys below `threshold` and the first `ties` equal to it; returns the ties left
// and adds the number zeroed to the i32 at `count`.
export function maskBelow(x: usize, n: i32, threshold: u32, ties: i32, count: usize): i32 {
  const t = i32x4.splat(threshold);
  let zeroed = 0;
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    const p = x + (<usize>i << 2);
    const v = v128.load(p);
    const k = keys(v);
    if (ties > 0 && v128.any_true(i32x4.eq(k, t))) {
      for (let l = 0; l < 4; l++) {
        const q = p + (<usize>l << 2);
        const kk = min<u32>(load<u32>(q) & 0x7fffffff, NAN_KEY);
        if (kk < threshold || (kk == threshold && ties > 0)) {
          if (kk == threshold) ties--;
          store<u32>(q, 0);
          zeroed++;
        }
      }
      continue;
    }
    const below = i32x4.lt_u(k, t);
    zeroed += popcnt<i32>(i32x4.bitmask(below));
    v128.store(p, v128.andnot(v, below));
  }
  for (; i < n; i++) {
    const q = x + (<usize>i << 2);
    const kk = min<u32>(load<u32>(q) & 0x7fffffff, NAN_KEY);
    if (kk < threshold || (kk == threshold && ties > 0)) {
      if (kk == threshold) ties--;
      store<u32>(q, 0);
      zeroed++;
    }
  }
  store<i32>(count, load<i32>(count) + zeroed);
  return ties;
}

// Histogram over [lo, hi] with `bins` bins, in float64 as the reference: below lo (or at it) to
// the first bin, at or above hi to the last, NaN not counted. Adds to the u32 counts.
export function histogram(x: usize, n: i32, bins: i32, lo: f64, hi: f64, factor: f64, counts: usize): void {
  const last = bins - 1;
  for (let i = 0; i < n; i++) {
    const v = <f64>load<f32>(x + (<usize>i << 2));
    if (v != v) continue;
    let b = 0;
    if (v <= lo) b = 0;
    else if (v >= hi) b = last;
    else b = min(<i32>floor((v - lo) * factor), last);
    const p = counts + (<usize>b << 2);
    store<u32>(p, load<u32>(p) + 1);
  }
}

// C[m, n] (float32) = A[m, k] B[k, n], each C[i, j] accumulated in float64 over p in ascending
// order (products are exact in float64), as the reference does. acc holds n float64 of scratch.
export function matmulF32(a: usize, b: usize, c: usize, m: i32, k: i32, n: i32, acc: usize): void {
  for (let i = 0; i < m; i++) {
    memory.fill(acc, 0, <usize>n << 3);
    for (let p = 0; p < k; p++) {
      const s = <f64>load<f32>(a + ((<usize>i * <usize>k + <usize>p) << 2));
      const av = f64x2.splat(s);
      const row = b + ((<usize>p * <usize>n) << 2);
      let j = 0;
      for (; j + 4 <= n; j += 4) {
        const v = v128.load(row + (<usize>j << 2));
        const l = f64x2.promote_low_f32x4(v);
        const h = f64x2.promote_low_f32x4(v128.shuffle<f32>(v, v, 2, 3, 0, 1));
        const pa = acc + (<usize>j << 3);
        v128.store(pa, f64x2.add(v128.load(pa), f64x2.mul(av, l)));
        v128.store(pa, f64x2.add(v128.load(pa, 16), f64x2.mul(av, h)), 16);
      }
      for (; j < n; j++) {
        const pa = acc + (<usize>j << 3);
        store<f64>(pa, load<f64>(pa) + s * <f64>load<f32>(row + (<usize>j << 2)));
      }
    }
    const out = c + ((<usize>i * <usize>n) << 2);
    for (let j = 0; j < n; j++) store<f32>(out + (<usize>j << 2), <f32>load<f64>(acc + (<usize>j << 3)));
  }
}

// C[m, n] (int32, wrapping) = (A[m, k] - za) (B[k, n] - zb) for int8 A and B.
export function matmulI8(a: usize, b: usize, c: usize, m: i32, k: i32, n: i32, za: i32, zb: i32): void {
  const zbv = i32x4.splat(zb);
  for (let i = 0; i < m; i++) {
    const out = c + ((<usize>i * <usize>n) << 2);
    memory.fill(out, 0, <usize>n << 2);
    for (let p = 0; p < k; p++) {
      const s = <i32>load<i8>(a + <usize>i * <usize>k + <usize>p) - za;
      const av = i32x4.splat(s);
      const row = b + <usize>p * <usize>n;
      let j = 0;
      for (; j + 4 <= n; j += 4) {
        const bv = i32x4.sub(i32x4.extend_low_i16x8_s(i16x8.extend_low_i8x16_s(v128.load32_zero(row + <usize>j))), zbv);
        const pc = out + (<usize>j << 2);
        v128.store(pc, i32x4.add(v128.load(pc), i32x4.mul(av, bv)));
      }
      for (; j < n; j++) {
        const pc = out + (<usize>j << 2);
        store<i32>(pc, load<i32>(pc) + s * (<i32>load<i8>(row + <usize>j) - zb));
      }
    }
  }
}

// Power-of-two quantization (see js/log2_quantize.ts): code sign * clamp(e - eMin + 1, 1, maxCode)
// for the nearest exponent e (ties up); magnitudes below zeroBelow, and NaN, give 0.
@inline function nearestExponent(mag: u32): i32 {
  const field = <i32>(mag >>> 23);
  if (field == 0) {
    const p = 31 - <i32>clz<u32>(mag);
    return p - 149 + (p > 0 ? <i32>((mag >>> (p - 1)) & 1) : 0);
  }
  return field - 127 + <i32>((mag >>> 22) & 1);
}

@inline function log2Code(u: u32, eMin: i32, maxCode: i32, zeroBelow: u32): i32 {
  const mag = u & 0x7fffffff;
  if (mag < zeroBelow || mag > 0x7f800000) return 0;
  const code = mag == 0x7f800000 ? maxCode : min(max(nearestExponent(mag) - eMin + 1, 1), maxCode);
  return (u >>> 31) != 0 ? -code : code;
}

@inline function log2Lanes(u: v128, eMin: v128, maxCode: v128, zeroBelow: v128): v128 {
  const mag = v128.and(u, i32x4.splat(0x7fffffff));
  const inf = i32x4.splat(0x7f800000);
  let e = i32x4.add(
    i32x4.sub(i32x4.shr_u(mag, 23), i32x4.splat(127)),
    v128.and(i32x4.shr_u(mag, 22), i32x4.splat(1)),
  );
  let code = i32x4.min_s(i32x4.max_s(i32x4.add(i32x4.sub(e, eMin), i32x4.splat(1)), i32x4.splat(1)), maxCode);
  code = v128.bitselect(maxCode, code, i32x4.eq(mag, inf));
  code = v128.and(code, v128.and(i32x4.ge_u(mag, zeroBelow), i32x4.le_u(mag, inf)));
  const neg = i32x4.shr_s(u, 31);
  return i32x4.sub(v128.xor(code, neg), neg);
}

export function log2Quantize(x: usize, y: usize, n: i32, eMin: i32, maxCode: i32, zeroBelow: u32): void {
  const em = i32x4.splat(eMin);
  const mc = i32x4.splat(maxCode);
  const zb = i32x4.splat(zeroBelow);
  // Subnormals that are not sent to zero need a leading-zero count: those vectors go scalar.
  const subnormalsCount = zeroBelow <= 0x007fffff;
  let i = 0;
  for (; i + 16 <= n; i += 16) {
    const p = x + (<usize>i << 2);
    const a = v128.load(p);
    const b = v128.load(p, 16);
    const c = v128.load(p, 32);
    const d = v128.load(p, 48);
    if (subnormalsCount) {
      const tiny = i32x4.splat(0x007fffff);
      const m = i32x4.splat(0x7fffffff);
      const z = i32x4.splat(0);
      const any = v128.or(
        v128.or(subnormal(a, m, tiny, z), subnormal(b, m, tiny, z)),
        v128.or(subnormal(c, m, tiny, z), subnormal(d, m, tiny, z)),
      );
      if (v128.any_true(any)) {
        for (let l = 0; l < 16; l++) {
          store<i8>(y + <usize>(i + l), <i8>log2Code(load<u32>(p + (<usize>l << 2)), eMin, maxCode, zeroBelow));
        }
        continue;
      }
    }
    v128.store(y + <usize>i, narrow(true, log2Lanes(a, em, mc, zb), log2Lanes(b, em, mc, zb), log2Lanes(c, em, mc, zb), log2Lanes(d, em, mc, zb)));
  }
  for (; i < n; i++) {
    store<i8>(y + <usize>i, <i8>log2Code(load<u32>(x + (<usize>i << 2)), eMin, maxCode, zeroBelow));
  }
}

@inline function subnormal(u: v128, m: v128, tiny: v128, z: v128): v128 {
  const mag = v128.and(u, m);
  return v128.and(i32x4.le_u(mag, tiny), i32x4.ne(mag, z));
}

// Nearest code by binary search over the distinct codebook values in ascending order (float64)
// with their lowest original indices (u16); ties to the lower index; NaN -> 0. Writes u8 or u16.
export function codebookEncode(
  x: usize, y: usize, n: i32, values: usize, indices: usize, count: i32, wide: bool,
): void {
  const last = count - 1;
  for (let e = 0; e < n; e++) {
    const v = <f64>load<f32>(x + (<usize>e << 2));
    let best = 0;
    if (v == v) {
      let lo = 0;
      let hi = count;
      while (lo < hi) {
        const mid = (lo + hi) >>> 1;
        if (load<f64>(values + (<usize>mid << 3)) < v) lo = mid + 1;
        else hi = mid;
      }
      if (lo == 0) best = 0;
      else if (lo > last) best = last;
      else {
        const below = v - load<f64>(values + (<usize>(lo - 1) << 3));
        const above = load<f64>(values + (<usize>lo << 3)) - v;
        if (below < above) best = lo - 1;
        else if (above < below) best = lo;
        else {
          best = load<u16>(indices + (<usize>(lo - 1) << 1)) < load<u16>(indices + (<usize>lo << 1)) ? lo - 1 : lo;
        }
      }
      best = <i32>load<u16>(indices + (<usize>best << 1));
    }
    if (wide) store<u16>(y + (<usize>e << 1), <u16>best);
    else store<u8>(y + <usize>e, <u8>best);
  }
}

// N:M mask over x viewed as [outer, length, inner], groups of m along the middle axis: keep the n
// largest magnitude keys (NaN largest, ties to the lower index). Writes one byte (0/1) per element.
export function nmMask(x: usize, y: usize, outer: i32, length: i32, inner: i32, n: i32, m: i32): void {
  for (let o = 0; o < outer; o++) {
    for (let g = 0; g < length; g += m) {
      for (let i = 0; i < inner; i++) {
        const base = (<usize>o * <usize>length + <usize>g) * <usize>inner + <usize>i;
        for (let j = 0; j < m; j++) {
          const e = base + <usize>j * <usize>inner;
          const kj = min<u32>(load<u32>(x + (e << 2)) & 0x7fffffff, NAN_KEY);
          let rank = 0;
          for (let l = 0; l < m; l++) {
            const kl = min<u32>(load<u32>(x + ((base + <usize>l * <usize>inner) << 2)) & 0x7fffffff, NAN_KEY);
            if (kl > kj || (kl == kj && l < j)) rank++;
          }
          store<u8>(y + e, rank < n ? 1 : 0);
        }
      }
    }
  }
}
