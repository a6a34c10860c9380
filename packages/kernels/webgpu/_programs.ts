/**
 * WGSL program builders. Each returns the source and a cache key; the context compiles one
 * pipeline per key. Imported only from this folder.
 * @module
 */

/** A compute program: WGSL source with one `main` entry point, and its cache key. */
export interface Program {
  readonly key: string;
  readonly code: string;
}

/** Invocations per workgroup of every program. */
export const WORKGROUP = 256;

/** The magnitude key of a NaN (as NAN_KEY in js/select_magnitude.ts). */
const NAN_KEY = "0x7f800001u";

/**
 * min / max / absmax over float bits as ordered u32 keys with atomics, so results are exact
 * (-0 below +0) whatever the GPU's float min/max does; NaN is flagged on the side.
 *
 * Bindings: 0 x (bits of one chunk), 1 keys (one per output), 2 nans (one per output),
 * 3 params {n, base, inner, channels}: element i of the chunk is element base + i of the
 * tensor, and its output is floor((base + i) / inner) % channels.
 */
export function reduceKeysProgram(op: "min" | "max" | "absmax"): Program {
  const key = op === "absmax"
    ? "return b & 0x7fffffffu;"
    : "return select(b ^ 0x80000000u, ~b, (b & 0x80000000u) != 0u);";
  const identity = op === "min" ? "0xffffffffu" : "0u";
  const combine = op === "min" ? "min" : "max";
  const atomic = op === "min" ? "atomicMin" : "atomicMax";
  return {
    key: `reduce-keys:${op}:${WORKGROUP}`,
    code: /* wgsl */ `
struct Params { n: u32, base: u32, inner: u32, channels: u32 }
@group(0) @binding(0) var<storage, read> x: array<u32>;
@group(0) @binding(1) var<storage, read_write> keys: array<atomic<u32>>;
@group(0) @binding(2) var<storage, read_write> nans: array<atomic<u32>>;
@group(0) @binding(3) var<uniform> p: Params;
var<workgroup> shared_keys: array<u32, ${WORKGROUP}>;
var<workgroup> shared_nans: array<u32, ${WORKGROUP}>;

fn order_key(b: u32) -> u32 { ${key} }

@compute @workgroup_size(${WORKGROUP})
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let first = wid.x * ${WORKGROUP}u;
  let i = first + lid;
  var k = ${identity};
  var nan = 0u;
  if (i < p.n) {
    let b = x[i];
    k = order_key(b);
    nan = select(0u, 1u, (b & 0x7fffffffu) > 0x7f800000u);
  }
  let last = min(first + ${WORKGROUP - 1}u, p.n - 1u);
  // The whole workgroup feeds one output: reduce in shared memory, then one atomic.
  if ((p.base + first) / p.inner == (p.base + last) / p.inner) {
    shared_keys[lid] = k;
    shared_nans[lid] = nan;
    workgroupBarrier();
    for (var stride = ${WORKGROUP / 2}u; stride > 0u; stride = stride / 2u) {
      if (lid < stride) {
        shared_keys[lid] = ${combine}(shared_keys[lid], shared_keys[lid + stride]);
        shared_nans[lid] = shared_nans[lid] | shared_nans[lid + stride];
      }
      workgroupBarrier();
    }
    if (lid == 0u) {
      let j = ((p.base + first) / p.inner) % p.channels;
      ${atomic}(&keys[j], shared_keys[0]);
      if (shared_nans[0] != 0u) { atomicOr(&nans[j], 1u); }
    }
    return;
  }
  if (i < p.n) {
    let j = ((p.base + i) / p.inner) % p.channels;
    ${atomic}(&keys[j], k);
    if (nan != 0u) { atomicOr(&nans[j], 1u); }
  }
}
`,
  };
}

/**
 * Histogram of magnitude keys for the radix select: pass "high" counts key >> 16; pass "low"
 * counts key & 0xffff of the keys whose high half is `params.high`; only bins in the window
 * [base, base + w) (so that the counts fit a binding).
 *
 * Bindings: 0 x, 1 hist (w counts), 2 params {n, high, base, w}.
 */
export function magnitudeHistogramProgram(pass: "high" | "low"): Program {
  // Only bins in the window [base, base + w) are counted (at bin - base).
  const body = pass === "high"
    ? "let bin = k >> 16u;"
    : "if ((k >> 16u) != p.high) { return; }\n  let bin = k & 0xffffu;";
  return {
    key: `magnitude-histogram:${pass}:${WORKGROUP}`,
    code: /* wgsl */ `
struct Params { n: u32, high: u32, base: u32, w: u32 }
@group(0) @binding(0) var<storage, read> x: array<u32>;
@group(0) @binding(1) var<storage, read_write> hist: array<atomic<u32>>;
@group(0) @binding(2) var<uniform> p: Params;

@compute @workgroup_size(${WORKGROUP})
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let i = gid.x;
  if (i >= p.n) { return; }
  let k = min(x[i] & 0x7fffffffu, ${NAN_KEY});
  ${body}
  if (bin >= p.base && bin - p.base < p.w) { atomicAdd(&hist[bin - p.base], 1u); }
}
`,
  };
}

/**
 * Masking for a magnitude selection, in two programs. "count": how many keys of each workgroup
 * equal the threshold (so the CPU can find where the ties to take end). "mask": zero every key
 * below the threshold and every key equal to it at a position up to `cut` (as i32; -1: none),
 * counting them.
 *
 * Bindings: 0 x (read_write for "mask"), 1 counts per workgroup ("count") or the number zeroed
 * ("mask"), 2 params {n, threshold, cut}.
 */
export function maskProgram(pass: "count" | "mask"): Program {
  if (pass === "count") {
    return {
      key: `mask:count:${WORKGROUP}`,
      code: /* wgsl */ `
struct Params { n: u32, threshold: u32, cut: i32 }
@group(0) @binding(0) var<storage, read> x: array<u32>;
@group(0) @binding(1) var<storage, read_write> counts: array<atomic<u32>>;
@group(0) @binding(2) var<uniform> p: Params;

@compute @workgroup_size(${WORKGROUP})
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(workgroup_id) wid: vec3<u32>) {
  let i = gid.x;
  if (i >= p.n) { return; }
  if (min(x[i] & 0x7fffffffu, ${NAN_KEY}) == p.threshold) { atomicAdd(&counts[wid.x], 1u); }
}
`,
    };
  }
  return {
    key: `mask:mask:${WORKGROUP}`,
    code: /* wgsl */ `
struct Params { n: u32, threshold: u32, cut: i32 }
@group(0) @binding(0) var<storage, read_write> x: array<u32>;
@group(0) @binding(1) var<storage, read_write> zeroed: array<atomic<u32>>;
@group(0) @binding(2) var<uniform> p: Params;

@compute @workgroup_size(${WORKGROUP})
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let i = gid.x;
  if (i >= p.n) { return; }
  let k = min(x[i] & 0x7fffffffu, ${NAN_KEY});
  if (k < p.threshold || (k == p.threshold && i32(i) <= p.cut)) {
    x[i] = 0u;
    atomicAdd(&zeroed[0], 1u);
  }
}
`,
  };
}

/**
 * Affine dequantization `(q - zp) * scale` rounded once to float32, computed in integer
 * arithmetic (the product of the 17-bit difference and the 24-bit significand is at most 41
 * bits, exact in two words), so that subnormal and overflowing results are exactly the
 * reference's too; no float operation is used. Codes of 2, 4, 8 or 16 bits are read from u32
 * words (chunks start on whole words), the first element lowest.
 *
 * Bindings: 0 codes, 1 out (bits), 2 scales (bits), 3 zero points, 4 params {n, base, inner,
 * channels, blocks, block, mode, lo}: parameters as in {@linkcode quantizeProgram}.
 */
export function dequantizeProgram(bits: 2 | 4 | 8 | 16, signed: boolean): Program {
  const perWord = 32 / bits;
  const mask = `0x${((2 ** bits) - 1).toString(16)}u`;
  const code = signed
    ? `(bitcast<i32>(raw << ${32 - bits}u) >> ${32 - bits}u)`
    : "bitcast<i32>(raw)";
  return {
    key: `dequantize:${signed ? "int" : "uint"}${bits}:${WORKGROUP}`,
    code: /* wgsl */ `
struct Params {
  n: u32, base: u32, inner: u32, channels: u32, blocks: u32, block: u32, mode: u32, lo: u32,
}
@group(0) @binding(0) var<storage, read> q: array<u32>;
@group(0) @binding(1) var<storage, read_write> out: array<u32>;
@group(0) @binding(2) var<storage, read> scales: array<u32>;
@group(0) @binding(3) var<storage, read> zeros: array<i32>;
@group(0) @binding(4) var<uniform> p: Params;

fn param_index(i: u32) -> u32 {
  if (p.mode == 0u) { return 0u; }
  let e = p.base + i;
  if (p.mode == 1u) { return e / p.inner - p.lo; }
  if (p.mode == 2u) {
    let row = e / p.inner;
    let o = row / p.channels;
    let c = row % p.channels;
    return (o * p.blocks + c / p.block) * p.inner + e % p.inner - p.lo;
  }
  return i;
}

/** The float32 bits of d * scale (d an integer, |d| < 2^17), rounded to nearest even. */
fn product(d: i32, sb: u32) -> u32 {
  if (d == 0) { return 0u; }
  let sign = select(0u, 0x80000000u, d < 0);
  let ad = u32(abs(d));
  var ms = sb & 0x7fffffu;
  var es = i32((sb >> 23u) & 0xffu);
  if (es == 0) {
    let lz = countLeadingZeros(ms) - 8u;
    ms = ms << lz;
    es = 1 - i32(lz);
  } else {
    ms = ms | 0x800000u;
  }
  // P = ad * ms in (hi, lo), below 2^41; the value is P * 2^(es - 150).
  let t1 = ad * (ms >> 12u);
  let t0 = ad * (ms & 0xfffu);
  let lo = (t1 << 12u) + t0;
  let hi = (t1 >> 20u) + select(0u, 1u, lo < t0);
  var top = 0;
  if (hi != 0u) { top = 63 - i32(countLeadingZeros(hi)); } else { top = 31 - i32(countLeadingZeros(lo)); }
  let e = top + es - 150;
  if (e >= 128) { return sign | 0x7f800000u; }
  // Drop sh bits: to 24 significant bits, or to the subnormal unit 2^-149 (sh <= 23 here).
  let sh = max(top - 23, 1 - es);
  var m = 0u;
  if (sh <= 0) {
    m = lo << u32(-sh);
  } else {
    let s = u32(sh);
    m = (lo >> s) | (hi << (32u - s));
    let round = (lo >> (s - 1u)) & 1u;
    let sticky = (lo & ((1u << (s - 1u)) - 1u)) != 0u;
    if (round == 1u && (sticky || (m & 1u) == 1u)) { m = m + 1u; }
  }
  if (top - 23 >= 1 - es) {
    // Normal: the hidden bit in m adds one to the biased exponent (and a carry another).
    return sign | ((u32(e + 126) << 23u) + m);
  }
  return sign | m;
}

@compute @workgroup_size(${WORKGROUP})
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let i = gid.x;
  if (i >= p.n) { return; }
  let raw = (q[i / ${perWord}u] >> ((i % ${perWord}u) * ${bits}u)) & ${mask};
  let j = param_index(i);
  out[i] = product(${code} - zeros[j], scales[j]);
}
`,
  };
}

/**
 * Power-of-two quantization on float bits (integer operations only, so exact): four elements per
 * invocation, their int8 codes packed into one u32 word (first element lowest).
 *
 * Bindings: 0 x, 1 out (words), 2 params {n, eMin (i32), maxCode, zeroBelow}.
 */
export function log2QuantizeProgram(): Program {
  return {
    key: `log2-quantize:${WORKGROUP}`,
    code: /* wgsl */ `
struct Params { n: u32, e_min: i32, max_code: i32, zero_below: u32 }
@group(0) @binding(0) var<storage, read> x: array<u32>;
@group(0) @binding(1) var<storage, read_write> out: array<u32>;
@group(0) @binding(2) var<uniform> p: Params;

fn nearest_exponent(mag: u32) -> i32 {
  let field = i32(mag >> 23u);
  if (field == 0) {
    let q = 31 - i32(countLeadingZeros(mag));
    var up = 0;
    if (q > 0) { up = i32((mag >> u32(q - 1)) & 1u); }
    return q - 149 + up;
  }
  return field - 127 + i32((mag >> 22u) & 1u);
}

fn code(u: u32) -> i32 {
  let mag = u & 0x7fffffffu;
  if (mag < p.zero_below || mag > 0x7f800000u) { return 0; }
  var c = p.max_code;
  if (mag != 0x7f800000u) { c = clamp(nearest_exponent(mag) - p.e_min + 1, 1, p.max_code); }
  return select(c, -c, (u >> 31u) != 0u);
}

@compute @workgroup_size(${WORKGROUP})
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let w = gid.x;
  if (w * 4u >= p.n) { return; }
  var word = 0u;
  for (var l = 0u; l < 4u; l++) {
    let i = w * 4u + l;
    if (i < p.n) { word = word | ((bitcast<u32>(code(x[i])) & 0xffu) << (8u * l)); }
  }
  out[w] = word;
}
`,
  };
}

/**
 * float32 -> IEEE half bits, round to nearest even, NaN to the quiet NaN with its sign (as V8's
 * Float16Array): two elements per invocation, packed into one u32 word.
 *
 * Bindings: 0 x, 1 out (words), 2 params {n}.
 */
export function toFloat16Program(): Program {
  return {
    key: `to-float16:${WORKGROUP}`,
    code: /* wgsl */ `
struct Params { n: u32 }
@group(0) @binding(0) var<storage, read> x: array<u32>;
@group(0) @binding(1) var<storage, read_write> out: array<u32>;
@group(0) @binding(2) var<uniform> p: Params;

fn half(b: u32) -> u32 {
  let sign = (b >> 16u) & 0x8000u;
  let a = b & 0x7fffffffu;
  if (a > 0x7f800000u) { return sign | 0x7e00u; }
  if (a >= 0x477ff000u) { return sign | 0x7c00u; }
  if (a >= 0x38800000u) {
    let r = a + 0x0fffu + ((a >> 13u) & 1u);
    return sign | ((r >> 13u) - 0x1c000u);
  }
  let e = a >> 23u;
  if (e < 102u) { return sign; }
  let m = (a & 0x7fffffu) | 0x800000u;
  let shift = 126u - e;
  let q = m >> shift;
  let rem = m & ((1u << shift) - 1u);
  let halfway = 1u << (shift - 1u);
  var r = q;
  if (rem > halfway || (rem == halfway && (q & 1u) == 1u)) { r = q + 1u; }
  return sign | r;
}

@compute @workgroup_size(${WORKGROUP})
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let w = gid.x;
  let i = w * 2u;
  if (i >= p.n) { return; }
  var word = half(x[i]);
  if (i + 1u < p.n) { word = word | (half(x[i + 1u]) << 16u); }
  out[w] = word;
}
`,
  };
}

/**
 * IEEE half bits -> float32 bits, exact; NaN keeps sign and payload and becomes quiet (as V8's
 * Float16Array).
 *
 * Bindings: 0 halves (two per u32 word), 1 out, 2 params {n}.
 */
export function fromFloat16Program(): Program {
  return {
    key: `from-float16:${WORKGROUP}`,
    code: /* wgsl */ `
struct Params { n: u32 }
@group(0) @binding(0) var<storage, read> h: array<u32>;
@group(0) @binding(1) var<storage, read_write> out: array<u32>;
@group(0) @binding(2) var<uniform> p: Params;

@compute @workgroup_size(${WORKGROUP})
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let i = gid.x;
  if (i >= p.n) { return; }
  let v = (h[i / 2u] >> ((i % 2u) * 16u)) & 0xffffu;
  let sign = (v & 0x8000u) << 16u;
  let e = (v >> 10u) & 0x1fu;
  let m = v & 0x3ffu;
  var bits = sign | ((e + 112u) << 23u) | (m << 13u);
  if (e == 31u) {
    bits = select(sign | 0x7fc00000u | (m << 13u), sign | 0x7f800000u, m == 0u);
  } else if (e == 0u) {
    bits = sign;
    if (m != 0u) {
      let q = 31u - countLeadingZeros(m);
      bits = sign | ((q + 103u) << 23u) | ((m << (23u - q)) & 0x7fffffu);
    }
  }
  out[i] = bits;
}
`,
  };
}

/**
 * Affine quantization with ONNX QuantizeLinear semantics, exactly: `x / scale` is divided in
 * integer arithmetic (a 25-bit long division of the significands with a sticky bit), rounded to
 * the nearest float32 as the reference's `fround(x / scale)`, then to the nearest integer, ties
 * to even, plus the zero point, saturated. WGSL's float division (up to 2.5 ulp) is never used.
 * One invocation fills one u32 word of codes (32 / bits elements, the first lowest).
 *
 * Bindings: 0 x (bits of one chunk), 1 out (words), 2 scales (bits), 3 zero points, 4 params
 * {n, base, inner, channels, blocks, block, mode, lo, qmin, qmax}: element i of the chunk is
 * element base + i of the tensor; its parameter index is 0 (mode 0), `(base + i) / inner - lo`
 * (mode 1: one table entry per row), the blocked index minus `lo` (mode 2) or i (mode 3: one
 * entry per element).
 */
export function quantizeProgram(bits: 2 | 4 | 8 | 16): Program {
  const perWord = 32 / bits;
  const mask = `0x${((2 ** bits) - 1).toString(16)}u`;
  return {
    key: `quantize:${bits}:${WORKGROUP}`,
    code: /* wgsl */ `
struct Params {
  n: u32, base: u32, inner: u32, channels: u32, blocks: u32, block: u32, mode: u32, lo: u32,
  qmin: i32, qmax: i32,
}
@group(0) @binding(0) var<storage, read> x: array<u32>;
@group(0) @binding(1) var<storage, read_write> out: array<u32>;
@group(0) @binding(2) var<storage, read> scales: array<u32>;
@group(0) @binding(3) var<storage, read> zeros: array<i32>;
@group(0) @binding(4) var<uniform> p: Params;

/** (significand with its leading bit at 23, exponent) of a finite non-zero magnitude's bits. */
fn split(a: u32) -> vec2<i32> {
  let field = a >> 23u;
  let m = a & 0x7fffffu;
  if (field == 0u) {
    let lz = countLeadingZeros(m) - 8u;
    return vec2<i32>(i32(m << lz), 1 - i32(lz));
  }
  return vec2<i32>(i32(m | 0x800000u), i32(field));
}

fn quantize_one(xb: u32, sb: u32, zp: i32) -> i32 {
  let a = xb & 0x7fffffffu;
  if (a > 0x7f800000u) { return zp; }
  let neg = (xb >> 31u) != 0u;
  if (a == 0x7f800000u) { return select(p.qmax, p.qmin, neg); }
  if (a == 0u) { return zp; }
  let sx = split(a);
  let ss = split(sb & 0x7fffffffu);
  var r = u32(sx.x);
  let ms = u32(ss.x);
  var e = sx.y - ss.y;
  if (r < ms) {
    r = r << 1u;
    e = e - 1;
  }
  // |x / scale| = (r / ms) * 2^e with r / ms in [1, 2).
  if (e >= 17) { return select(p.qmax, p.qmin, neg); }
  var n = 0u;
  if (e >= -1) {
    var q = 0u;
    var rem = r;
    for (var t = 0u; t < 25u; t++) {
      q = q << 1u;
      if (rem >= ms) {
        rem = rem - ms;
        q = q | 1u;
      }
      rem = rem << 1u;
    }
    // Nearest float32 (24 significant bits), ties to even: m * 2^(e - 23).
    var m = q >> 1u;
    if ((q & 1u) == 1u && (rem != 0u || (m & 1u) == 1u)) { m = m + 1u; }
    // Nearest integer of that float, ties to even.
    let sh = u32(23 - e);
    n = m >> sh;
    let frac = m & ((1u << sh) - 1u);
    let half = 1u << (sh - 1u);
    if (frac > half || (frac == half && (n & 1u) == 1u)) { n = n + 1u; }
  }
  let v = select(i32(n), -i32(n), neg);
  return clamp(v + zp, p.qmin, p.qmax);
}

fn param_index(i: u32) -> u32 {
  if (p.mode == 0u) { return 0u; }
  let e = p.base + i;
  if (p.mode == 1u) { return e / p.inner - p.lo; }
  if (p.mode == 2u) {
    let row = e / p.inner;
    let o = row / p.channels;
    let c = row % p.channels;
    return (o * p.blocks + c / p.block) * p.inner + e % p.inner - p.lo;
  }
  return i;
}

@compute @workgroup_size(${WORKGROUP})
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let w = gid.x;
  if (w * ${perWord}u >= p.n) { return; }
  var word = 0u;
  for (var l = 0u; l < ${perWord}u; l++) {
    let i = w * ${perWord}u + l;
    if (i < p.n) {
      let j = param_index(i);
      let c = quantize_one(x[i], scales[j], zeros[j]);
      word = word | ((bitcast<u32>(c) & ${mask}) << (${bits}u * l));
    }
  }
  out[w] = word;
}
`,
  };
}

/** Reductions over runs: the float sums and the exact order-key reductions. */
export type RunOp = "sum" | "sumsq" | "sumabs" | "min" | "max" | "absmax";

/**
 * One reduction per run of elements `start + t * stride`, t < count (see `_runs.ts`). Results
 * are two words per run.
 *
 * Sums (`sum`, `sumsq`, `sumabs`): the run's finite values are first scaled by 2^k in integer
 * arithmetic (exact; k brings the largest magnitude to 2^100 for sums, 2^50 for
 * squares, so that no partial sum over- or underflows where it matters), then summed
 * pairwise in float32 (a binary-counter cascade, depth at most log2 of the run length); words:
 * the float sum, and k + 512 with flags << 16 (1 NaN, 2 +Infinity, 4 -Infinity seen). The host
 * adds the runs' sums times 2^-k in float64.
 *
 * min / max / absmax: the ordered u32 key as in {@linkcode reduceKeysProgram}; words: the key,
 * and 1 when a NaN was seen.
 *
 * Bindings: 0 x (bits of one chunk), 1 runs (start, stride, count), 2 out, 3 params {runs}.
 */
export function reduceRunsProgram(op: RunOp): Program {
  const head = /* wgsl */ `
struct Params { runs: u32 }
@group(0) @binding(0) var<storage, read> x: array<u32>;
@group(0) @binding(1) var<storage, read> runs: array<u32>;
@group(0) @binding(2) var<storage, read_write> out: array<u32>;
@group(0) @binding(3) var<uniform> p: Params;
`;
  if (op === "min" || op === "max" || op === "absmax") {
    const key = op === "absmax"
      ? "b & 0x7fffffffu"
      : "select(b ^ 0x80000000u, ~b, (b & 0x80000000u) != 0u)";
    const combine = op === "min" ? "min" : "max";
    return {
      key: `reduce-runs:${op}:${WORKGROUP}`,
      code: /* wgsl */ `${head}
@compute @workgroup_size(${WORKGROUP})
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let r = gid.x;
  if (r >= p.runs) { return; }
  let start = runs[3u * r];
  let stride = runs[3u * r + 1u];
  let count = runs[3u * r + 2u];
  var k = ${op === "min" ? "0xffffffffu" : "0u"};
  var nan = 0u;
  for (var t = 0u; t < count; t++) {
    let b = x[start + t * stride];
    k = ${combine}(k, ${key});
    if ((b & 0x7fffffffu) > 0x7f800000u) { nan = 1u; }
  }
  out[2u * r] = k;
  out[2u * r + 1u] = nan;
}
`,
    };
  }
  const target = op === "sumsq" ? SQUARE_TARGET : SUM_TARGET;
  const term = op === "sum" ? "v" : op === "sumabs" ? "abs(v)" : "v * v";
  // ±Infinity: the sign matters only to a plain sum.
  const infinity = op === "sum" ? "select(2u, 4u, (b >> 31u) != 0u)" : "2u";
  return {
    key: `reduce-runs:${op}:${WORKGROUP}`,
    code: /* wgsl */ `${head}
/** b (finite) times 2^k, computed on the bits; results below the normal range become 0. */
fn scaled(b: u32, k: i32) -> f32 {
  let a = b & 0x7fffffffu;
  var m = a & 0x7fffffu;
  var e = i32(a >> 23u);
  if (e == 0) {
    if (m == 0u) { return 0.0; }
    let lz = countLeadingZeros(m) - 8u;
    m = (m << lz) & 0x7fffffu;
    e = 1 - i32(lz);
  }
  e = e + k;
  if (e <= 0) { return 0.0; }
  return bitcast<f32>((b & 0x80000000u) | (u32(e) << 23u) | m);
}

@compute @workgroup_size(${WORKGROUP})
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let r = gid.x;
  if (r >= p.runs) { return; }
  let start = runs[3u * r];
  let stride = runs[3u * r + 1u];
  let count = runs[3u * r + 2u];
  var big = 0u;
  var flags = 0u;
  for (var t = 0u; t < count; t++) {
    let b = x[start + t * stride];
    let a = b & 0x7fffffffu;
    if (a > 0x7f800000u) {
      flags = flags | 1u;
    } else if (a == 0x7f800000u) {
      flags = flags | ${infinity};
    } else {
      big = max(big, a);
    }
  }
  var k = 0;
  if (big != 0u) { k = ${target} - (max(i32(big >> 23u), 1) - 127); }
  var stack: array<f32, 32>;
  var depth = 0u;
  var pushed = 0u;
  for (var t = 0u; t < count; t++) {
    let b = x[start + t * stride];
    if ((b & 0x7fffffffu) >= 0x7f800000u) { continue; }
    let v = scaled(b, k);
    var s = ${term};
    // Pairwise: merge equal-sized partial sums, as a binary counter carries.
    var c = pushed;
    while ((c & 1u) == 1u) {
      depth = depth - 1u;
      s = stack[depth] + s;
      c = c >> 1u;
    }
    stack[depth] = s;
    depth = depth + 1u;
    pushed = pushed + 1u;
  }
  var total = 0.0;
  while (depth > 0u) {
    depth = depth - 1u;
    total = stack[depth] + total;
  }
  out[2u * r] = bitcast<u32>(total);
  out[2u * r + 1u] = u32(k + 512) | (flags << 16u);
}
`,
  };
}

/** Exponent the largest magnitude of a run is scaled to before summing (runs of <= 2^10). */
const SUM_TARGET = 100;
/** The same for sums of squares: (2^50)^2 * 2^10 stays far below float32's 2^128. */
const SQUARE_TARGET = 50;

/**
 * Histogram over a window of bins [b0, b0 + w): element keys (ordered u32, as the edges of
 * `_edges.ts`) are compared with the window's edge keys in integers, so every bin is
 * the reference's. NaN is skipped, keys outside [edges[0], high) belong to other windows.
 *
 * Bindings: 0 x (bits of one chunk), 1 edges (w keys), 2 counts (w, atomic), 3 params
 * {n, w, high}.
 */
export function histogramProgram(): Program {
  return {
    key: `histogram:${WORKGROUP}`,
    code: /* wgsl */ `
struct Params { n: u32, w: u32, high: u32 }
@group(0) @binding(0) var<storage, read> x: array<u32>;
@group(0) @binding(1) var<storage, read> edges: array<u32>;
@group(0) @binding(2) var<storage, read_write> counts: array<atomic<u32>>;
@group(0) @binding(3) var<uniform> p: Params;

@compute @workgroup_size(${WORKGROUP})
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let i = gid.x;
  if (i >= p.n) { return; }
  let b = x[i];
  if ((b & 0x7fffffffu) > 0x7f800000u) { return; }
  let k = select(b | 0x80000000u, ~b, (b & 0x80000000u) != 0u);
  if (k < edges[0] || k >= p.high) { return; }
  var lo = 0u;
  var hi = p.w;
  while (hi - lo > 1u) {
    let mid = (lo + hi) / 2u;
    if (edges[mid] <= k) { lo = mid; } else { hi = mid; }
  }
  atomicAdd(&counts[lo], 1u);
}
`,
  };
}

/**
 * Codebook encoding over a window of sorted positions [p0, p0 + w): the element's ordered key is
 * searched among the window's edge keys (`_edges.ts`, the reference's nearest-code choice, ties
 * included) and the position's codebook index written, one u32 per element. NaN and keys outside
 * [edges[0], high) are left alone (the output starts zeroed: NaN encodes to 0).
 *
 * Bindings: 0 x (bits of one chunk), 1 edges (w keys), 2 codes (w indices), 3 out, 4 params
 * {n, w, high}.
 */
export function codebookEncodeProgram(): Program {
  return {
    key: `codebook-encode:${WORKGROUP}`,
    code: /* wgsl */ `
struct Params { n: u32, w: u32, high: u32 }
@group(0) @binding(0) var<storage, read> x: array<u32>;
@group(0) @binding(1) var<storage, read> edges: array<u32>;
@group(0) @binding(2) var<storage, read> codes: array<u32>;
@group(0) @binding(3) var<storage, read_write> out: array<u32>;
@group(0) @binding(4) var<uniform> p: Params;

@compute @workgroup_size(${WORKGROUP})
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let i = gid.x;
  if (i >= p.n) { return; }
  let b = x[i];
  if ((b & 0x7fffffffu) > 0x7f800000u) { return; }
  let k = select(b | 0x80000000u, ~b, (b & 0x80000000u) != 0u);
  if (k < edges[0] || k >= p.high) { return; }
  var lo = 0u;
  var hi = p.w;
  while (hi - lo > 1u) {
    let mid = (lo + hi) / 2u;
    if (edges[mid] <= k) { lo = mid; } else { hi = mid; }
  }
  out[i] = codes[lo];
}
`,
  };
}

/**
 * Codebook decoding over a window of codebook entries [lo, lo + w): elements whose index falls
 * in it get the entry's bits (exact); an index not below the codebook's length records the
 * smallest such element position (for the reference's error).
 *
 * Bindings: 0 indices (8 or 16 bits, packed in words), 1 book (w entries' bits), 2 out, 3 error
 * (atomic min of positions), 4 params {n, base, lo, w, length}.
 */
export function codebookDecodeProgram(bits: 8 | 16): Program {
  const perWord = 32 / bits;
  const mask = bits === 8 ? "0xffu" : "0xffffu";
  return {
    key: `codebook-decode:${bits}:${WORKGROUP}`,
    code: /* wgsl */ `
struct Params { n: u32, base: u32, lo: u32, w: u32, length: u32 }
@group(0) @binding(0) var<storage, read> idx: array<u32>;
@group(0) @binding(1) var<storage, read> book: array<u32>;
@group(0) @binding(2) var<storage, read_write> out: array<u32>;
@group(0) @binding(3) var<storage, read_write> first_bad: array<atomic<u32>>;
@group(0) @binding(4) var<uniform> p: Params;

@compute @workgroup_size(${WORKGROUP})
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let i = gid.x;
  if (i >= p.n) { return; }
  let j = (idx[i / ${perWord}u] >> ((i % ${perWord}u) * ${bits}u)) & ${mask};
  if (j >= p.length) {
    atomicMin(&first_bad[0], p.base + i);
    return;
  }
  if (j >= p.lo && j - p.lo < p.w) { out[i] = book[j - p.lo]; }
}
`,
  };
}

/**
 * Power-of-two dequantization on bits: code c gives sign(c) * 2^(|c| - 1 + eMin) as float32
 * (exact: infinity above the range, subnormal or zero below, as the reference's float64 power
 * rounded to float32); a code beyond maxCode records the smallest such position.
 *
 * Bindings: 0 codes (int8, four per word), 1 out, 2 error (atomic min), 3 params {n, base, eMin,
 * maxCode}.
 */
export function log2DequantizeProgram(): Program {
  return {
    key: `log2-dequantize:${WORKGROUP}`,
    code: /* wgsl */ `
struct Params { n: u32, base: u32, e_min: i32, max_code: i32 }
@group(0) @binding(0) var<storage, read> codes: array<u32>;
@group(0) @binding(1) var<storage, read_write> out: array<u32>;
@group(0) @binding(2) var<storage, read_write> first_bad: array<atomic<u32>>;
@group(0) @binding(3) var<uniform> p: Params;

@compute @workgroup_size(${WORKGROUP})
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let i = gid.x;
  if (i >= p.n) { return; }
  let c = bitcast<i32>((codes[i / 4u] >> ((i % 4u) * 8u)) << 24u) >> 24u;
  let a = abs(c);
  if (a > p.max_code) {
    atomicMin(&first_bad[0], p.base + i);
    return;
  }
  var bits = 0u;
  if (a != 0) {
    let e = a - 1 + p.e_min;
    if (e >= 128) {
      bits = 0x7f800000u;
    } else if (e >= -126) {
      bits = u32(e + 127) << 23u;
    } else if (e >= -149) {
      bits = 1u << u32(e + 149);
    }
    if (c < 0) { bits = bits | 0x80000000u; }
  }
  out[i] = bits;
}
`,
  };
}

/**
 * One tile of a matrix product: A is [rows, ks] and B is [ks, cols], both row-major; each
 * invocation reduces one output's k-slice and writes two words, which the host adds over
 * slices.
 *
 * "int8": the wrapping int32 sum of `(a - za) * (b - zb)` (bytes packed in words); words: the
 * sum, 0.
 *
 * "f32": the terms' row of A and column of B are scaled by powers of two in integer arithmetic
 * (their largest finite magnitudes to 2^40, so that no product or partial sum over- or
 * underflows where it matters), multiplied and summed pairwise in float32; NaN and infinite
 * terms are only flagged (1 NaN, 2 +Infinity, 4 -Infinity), as float64 would give them; words:
 * the sum, and the total scale exponent + 1024 with flags << 16.
 *
 * Bindings: 0 a, 1 b, 2 out, 3 params {rows, cols, ks, za, zb}.
 */
export function matmulTileProgram(kind: "f32" | "int8"): Program {
  const head = /* wgsl */ `
struct Params { rows: u32, cols: u32, ks: u32, za: i32, zb: i32 }
@group(0) @binding(0) var<storage, read> a: array<u32>;
@group(0) @binding(1) var<storage, read> b: array<u32>;
@group(0) @binding(2) var<storage, read_write> out: array<u32>;
@group(0) @binding(3) var<uniform> p: Params;
`;
  if (kind === "int8") {
    return {
      key: `matmul-tile:int8:${WORKGROUP}`,
      code: /* wgsl */ `${head}
fn byte_of(word: u32, i: u32) -> i32 {
  return bitcast<i32>((word >> ((i % 4u) * 8u)) << 24u) >> 24u;
}

@compute @workgroup_size(${WORKGROUP})
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let idx = gid.x;
  if (idx >= p.rows * p.cols) { return; }
  let r = idx / p.cols;
  let c = idx % p.cols;
  var acc = 0i;
  for (var q = 0u; q < p.ks; q++) {
    let ia = r * p.ks + q;
    let ib = q * p.cols + c;
    acc = acc + (byte_of(a[ia / 4u], ia) - p.za) * (byte_of(b[ib / 4u], ib) - p.zb);
  }
  out[2u * idx] = bitcast<u32>(acc);
  out[2u * idx + 1u] = 0u;
}
`,
    };
  }
  return {
    key: `matmul-tile:f32:${WORKGROUP}`,
    code: /* wgsl */ `${head}
fn scaled(v: u32, k: i32) -> f32 {
  let mag = v & 0x7fffffffu;
  var m = mag & 0x7fffffu;
  var e = i32(mag >> 23u);
  if (e == 0) {
    if (m == 0u) { return 0.0; }
    let lz = countLeadingZeros(m) - 8u;
    m = (m << lz) & 0x7fffffu;
    e = 1 - i32(lz);
  }
  e = e + k;
  if (e <= 0) { return 0.0; }
  return bitcast<f32>((v & 0x80000000u) | (u32(e) << 23u) | m);
}

fn scale_for(big: u32) -> i32 {
  if (big == 0u) { return 0; }
  return 40 - (max(i32(big >> 23u), 1) - 127);
}

@compute @workgroup_size(${WORKGROUP})
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let idx = gid.x;
  if (idx >= p.rows * p.cols) { return; }
  let r = idx / p.cols;
  let c = idx % p.cols;
  var big_a = 0u;
  var big_b = 0u;
  var flags = 0u;
  for (var q = 0u; q < p.ks; q++) {
    let va = a[r * p.ks + q];
    let vb = b[q * p.cols + c];
    let ma = va & 0x7fffffffu;
    let mb = vb & 0x7fffffffu;
    if (ma > 0x7f800000u || mb > 0x7f800000u) {
      flags = flags | 1u;
    } else if (ma == 0x7f800000u || mb == 0x7f800000u) {
      if (ma == 0u || mb == 0u) {
        flags = flags | 1u;
      } else {
        flags = flags | select(2u, 4u, ((va ^ vb) >> 31u) != 0u);
      }
    } else {
      big_a = max(big_a, ma);
      big_b = max(big_b, mb);
    }
  }
  let ka = scale_for(big_a);
  let kb = scale_for(big_b);
  var stack: array<f32, 32>;
  var depth = 0u;
  var pushed = 0u;
  for (var q = 0u; q < p.ks; q++) {
    let va = a[r * p.ks + q];
    let vb = b[q * p.cols + c];
    if ((va & 0x7fffffffu) >= 0x7f800000u || (vb & 0x7fffffffu) >= 0x7f800000u) { continue; }
    var s = scaled(va, ka) * scaled(vb, kb);
    var carry = pushed;
    while ((carry & 1u) == 1u) {
      depth = depth - 1u;
      s = stack[depth] + s;
      carry = carry >> 1u;
    }
    stack[depth] = s;
    depth = depth + 1u;
    pushed = pushed + 1u;
  }
  var total = 0.0;
  while (depth > 0u) {
    depth = depth - 1u;
    total = stack[depth] + total;
  }
  out[2u * idx] = bitcast<u32>(total);
  out[2u * idx + 1u] = u32(ka + kb + 1024) | (flags << 16u);
}
`,
  };
}

/**
 * N:M masks: element j of its group of m (stride `inner`) is kept when fewer than `keep` others
 * beat it (a larger magnitude key, or the same at a lower position), as the reference; one u32
 * per element. The chunk starts on a group slab (m * inner elements).
 *
 * Bindings: 0 x (bits), 1 out, 2 params {n, m, inner, keep}.
 */
export function nmMaskProgram(): Program {
  return {
    key: `nm-mask:${WORKGROUP}`,
    code: /* wgsl */ `
struct Params { n: u32, m: u32, inner: u32, keep: u32 }
@group(0) @binding(0) var<storage, read> x: array<u32>;
@group(0) @binding(1) var<storage, read_write> out: array<u32>;
@group(0) @binding(2) var<uniform> p: Params;

fn key(b: u32) -> u32 { return min(b & 0x7fffffffu, ${NAN_KEY}); }

@compute @workgroup_size(${WORKGROUP})
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let i = gid.x;
  if (i >= p.n) { return; }
  let slab = p.m * p.inner;
  let within = i % slab;
  let j = within / p.inner;
  let first = i - within + within % p.inner;
  let kj = key(x[i]);
  var rank = 0u;
  // Nested so that no loop runs more than 4096 times (some implementations bound loops).
  for (var l0 = 0u; l0 < p.m; l0 += 4096u) {
    for (var l = l0; l < min(p.m, l0 + 4096u); l++) {
      let kl = key(x[first + l * p.inner]);
      if (kl > kj || (kl == kj && l < j)) { rank++; }
    }
  }
  out[i] = select(0u, 1u, rank < p.keep);
}
`,
  };
}
