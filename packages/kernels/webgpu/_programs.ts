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
 * counts key & 0xffff of the keys whose high half is `params.high`.
 *
 * Bindings: 0 x, 1 hist, 2 params {n, high}.
 */
export function magnitudeHistogramProgram(pass: "high" | "low"): Program {
  const body = pass === "high"
    ? "atomicAdd(&hist[k >> 16u], 1u);"
    : "if ((k >> 16u) == p.high) { atomicAdd(&hist[k & 0xffffu], 1u); }";
  return {
    key: `magnitude-histogram:${pass}:${WORKGROUP}`,
    code: /* wgsl */ `
struct Params { n: u32, high: u32 }
@group(0) @binding(0) var<storage, read> x: array<u32>;
@group(0) @binding(1) var<storage, read_write> hist: array<atomic<u32>>;
@group(0) @binding(2) var<uniform> p: Params;

@compute @workgroup_size(${WORKGROUP})
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let i = gid.x;
  if (i >= p.n) { return; }
  let k = min(x[i] & 0x7fffffffu, ${NAN_KEY});
  ${body}
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
 * Affine dequantization `f32(q - zp) * scale` from 8- or 16-bit codes packed in u32 words (chunks
 * start on whole words). Exact where float32 products are correctly rounded and not subnormal,
 * which the backend checks before it dispatches.
 *
 * Bindings: 0 codes, 1 out, 2 scales, 3 zero points, 4 params {n, base, inner, channels, blocks,
 * block, mode}: element i of the chunk is element base + i of the tensor; mode 0 one parameter,
 * 1 one per channel, 2 one per block.
 */
export function dequantizeProgram(bits: 8 | 16, signed: boolean): Program {
  const perWord = bits === 8 ? 4 : 2;
  const mask = bits === 8 ? "0xffu" : "0xffffu";
  const code = signed
    ? `(bitcast<i32>(raw << ${32 - bits}u) >> ${32 - bits}u)`
    : "bitcast<i32>(raw)";
  return {
    key: `dequantize:${signed ? "int" : "uint"}${bits}:${WORKGROUP}`,
    code: /* wgsl */ `
struct Params { n: u32, base: u32, inner: u32, channels: u32, blocks: u32, block: u32, mode: u32 }
@group(0) @binding(0) var<storage, read> q: array<u32>;
@group(0) @binding(1) var<storage, read_write> out: array<f32>;
@group(0) @binding(2) var<storage, read> scales: array<f32>;
@group(0) @binding(3) var<storage, read> zeros: array<i32>;
@group(0) @binding(4) var<uniform> p: Params;

@compute @workgroup_size(${WORKGROUP})
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let i = gid.x;
  if (i >= p.n) { return; }
  let raw = (q[i / ${perWord}u] >> ((i % ${perWord}u) * ${bits}u)) & ${mask};
  let value = ${code};
  let e = p.base + i;
  var j = 0u;
  if (p.mode == 1u) {
    j = (e / p.inner) % p.channels;
  } else if (p.mode == 2u) {
    let o = e / (p.inner * p.channels);
    let c = (e / p.inner) % p.channels;
    j = (o * p.blocks + c / p.block) * p.inner + e % p.inner;
  }
  out[i] = f32(value - zeros[j]) * scales[j];
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
 * int8 x int8 -> int32 matrix product with zero points, wrapping (WGSL integer arithmetic wraps):
 * one invocation per output element, adding the products over [k0, k1) to c, so that long sums
 * go in several dispatches (some implementations bound loops, and drivers bound run time).
 * A is [m, k], B is [k, n], both bytes packed in u32 words.
 *
 * Bindings: 0 a, 1 b, 2 c (zeroed first), 3 params {m, k, n, za, zb, k0, k1}.
 */
export function matmulInt8Program(): Program {
  return {
    key: `matmul-int8:${WORKGROUP}`,
    code: /* wgsl */ `
struct Params { m: u32, k: u32, n: u32, za: i32, zb: i32, k0: u32, k1: u32 }
@group(0) @binding(0) var<storage, read> a: array<u32>;
@group(0) @binding(1) var<storage, read> b: array<u32>;
@group(0) @binding(2) var<storage, read_write> c: array<i32>;
@group(0) @binding(3) var<uniform> p: Params;

fn byte_of(word: u32, i: u32) -> i32 {
  return bitcast<i32>((word >> ((i % 4u) * 8u)) << 24u) >> 24u;
}

@compute @workgroup_size(${WORKGROUP})
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let idx = gid.x;
  if (idx >= p.m * p.n) { return; }
  let i = idx / p.n;
  let j = idx % p.n;
  var acc = c[idx];
  for (var q = p.k0; q < p.k1; q++) {
    let ia = i * p.k + q;
    let ib = q * p.n + j;
    acc = acc + (byte_of(a[ia / 4u], ia) - p.za) * (byte_of(b[ib / 4u], ib) - p.zb);
  }
  c[idx] = acc;
}
`,
  };
}
