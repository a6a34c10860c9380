/**
 * The conformance suite: every kernel on every available backend against the TypeScript
 * reference. Integer results must be identical; float reductions and products must be within the
 * tolerance documented on `Kernels` (see `assertCloseSums`); min/max/absmax and every other float
 * result must be identical, -0 and NaN included.
 */
import assert from "node:assert/strict";
import {
  codebookDecodeJs,
  codebookEncodeJs,
  createKernels,
  createWebGpuKernels,
  dequantizeJs,
  type ElementArrays,
  type ElementType,
  histogramJs,
  type Kernels,
  log2DequantizeJs,
  log2QuantizeJs,
  maskSmallestJs,
  matmulInt8Js,
  matmulJs,
  nmMaskJs,
  normJs,
  quantizeJs,
  type QuantizeOptions,
  quantRange,
  type QuantType,
  reduceF64Js,
  reduceJs,
  type ReduceOp,
  selectMagnitudeJs,
} from "./mod.ts";
import { float16ToFloat32, float32ToFloat16 } from "@modelpress/onnx";
import {
  assertCloseSums,
  assertSameFloats,
  LENGTHS,
  random,
  randomFloats,
  SPECIALS,
  withSpecials,
} from "./_testing.ts";

const HAS_GPU = (await (navigator as { gpu?: GPU }).gpu?.requestAdapter()) != null;

/**
 * The reference itself (a sanity check of the suite), WASM, and where any adapter exists (the
 * software one in CI) WebGPU twice: with the device's limits and with a 64 KiB storage-buffer
 * limit that forces chunking.
 */
const BACKENDS: readonly { name: string; kernels: Kernels; minLength?: number }[] = [
  { name: "js", kernels: await createKernels({ backend: "js" }) },
  { name: "wasm", kernels: await createKernels({ backend: "wasm" }) },
  ...(HAS_GPU
    ? [
      { name: "webgpu", kernels: await createKernels({ backend: "webgpu" }) },
      {
        name: "webgpu (64 KiB binding limit)",
        kernels: await createWebGpuKernels({ maxStorageBufferBindingSize: 65536 }),
        // Only inputs that need more than one chunk of 16384 elements: the rest is as above.
        minLength: 16385,
      },
    ]
    : []),
];

/** Lengths that cross the WASM chunk (65536 elements) too. */
const LONG = [65536 + 17, 3 * 65536 + 5];

/** Shapes for per-axis and per-block work, with every axis tried. */
const SHAPES: readonly (readonly number[])[] = [[7], [3, 5], [4, 17], [2, 3, 9], [17, 1], [1, 33], [
  5,
  0,
  3,
], [2, 70000]];

function allTensors(): { name: string; x: Float32Array }[] {
  const out: { name: string; x: Float32Array }[] = [];
  for (const n of [...LENGTHS, ...LONG]) {
    out.push({ name: `random ${n}`, x: randomFloats(n, { seed: n + 1, scale: 3 }) });
    out.push({
      name: `specials ${n}`,
      x: withSpecials(randomFloats(n, { seed: n + 7 }), { seed: n }),
    });
  }
  out.push({ name: "all specials", x: Float32Array.from(SPECIALS) });
  out.push({ name: "all equal", x: new Float32Array(37).fill(2.5) });
  out.push({ name: "negative zeros", x: new Float32Array(9).fill(-0) });
  out.push({ name: "huge", x: new Float32Array(20).fill(3e38) });
  return out;
}

const OPS: readonly ReduceOp[] = ["min", "max", "absmax", "sum", "sumsq"];

/**
 * The WebGPU tolerance of float sums. WebGPU has no float64: each run of at most 1024 elements
 * (scaled by a power of two so that nothing over- or underflows) is summed pairwise in float32,
 * which rounds each term at most 2 * log2(1024) + 1 times (the square, the carries of the
 * pairwise cascade, the final fold), so the error is below 21 * 2^-24 * sum(|terms|); the runs
 * are added in float64 and rounded once (2^-24 * |ref|). Asserted with headroom:
 * `2^-23 * |ref| + 2^-19 * sum(|terms|)`, NaN and infinities exact.
 */
function assertCloseFloat32Sums(
  actual: ArrayLike<number>,
  expected: ArrayLike<number>,
  options: { bound: ArrayLike<number>; label?: string },
): void {
  const label = options.label ?? "";
  assert.equal(actual.length, expected.length, `${label}: length`);
  for (let i = 0; i < expected.length; i++) {
    const a = actual[i]!;
    const e = expected[i]!;
    if (!Number.isFinite(e)) {
      if (!Object.is(a, e)) assert.fail(`${label}: at ${i}: ${a} !== ${e}`);
      continue;
    }
    const tol = 2 ** -23 * Math.abs(e) + 2 ** -19 * options.bound[i]!;
    if (!(Math.abs(a - e) <= tol)) {
      assert.fail(`${label}: at ${i}: ${a} vs ${e} (tolerance ${tol})`);
    }
  }
}

/**
 * The documented tolerance of float32 products on `Kernels.matmul`:
 * `2^-23 * |ref| + k * 2^-22 * sum(|a_ip * b_pj|)`, NaN and infinities exact.
 */
function assertCloseFloat32Products(
  actual: ArrayLike<number>,
  expected: ArrayLike<number>,
  options: { bound: ArrayLike<number>; k: number },
): void {
  assert.equal(actual.length, expected.length, "length");
  for (let i = 0; i < expected.length; i++) {
    const a = actual[i]!;
    const e = expected[i]!;
    if (!Number.isFinite(e)) {
      if (!Object.is(a, e)) assert.fail(`at ${i}: ${a} !== ${e}`);
      continue;
    }
    const tol = 2 ** -23 * Math.abs(e) + options.k * 2 ** -22 * options.bound[i]!;
    if (!(Math.abs(a - e) <= tol)) assert.fail(`at ${i}: ${a} vs ${e} (tolerance ${tol})`);
  }
}

/** Whether a backend sums in float32 (see {@linkcode assertCloseFloat32Sums}). */
function sumsInFloat32(backend: string): boolean {
  return backend.startsWith("webgpu");
}

function checkReduce(
  op: ReduceOp,
  got: Float32Array,
  x: Float32Array,
  options: object,
  label: string,
  float32Sums = false,
): void {
  const expected = reduceJs(op, x, options);
  if (op === "sum" || op === "sumsq") {
    const bound = reduceF64Js(op === "sum" ? "sumabs" : "sumsq", x, options);
    if (float32Sums) assertCloseFloat32Sums(got, expected, { bound, label });
    else assertCloseSums(got, expected, { bound, count: x.length, label });
  } else {
    assertSameFloats(got, expected, label);
  }
}

for (const { name: backend, kernels: k, minLength = 0 } of BACKENDS) {
  const tensors = (): { name: string; x: Float32Array }[] =>
    allTensors().filter(({ x }) => x.length >= minLength);
  const quantizeCases = (type: QuantType): ReturnType<typeof allQuantizeCases> =>
    allQuantizeCases(type).filter(({ x }) => x.length >= minLength);
  Deno.test(`Kernels.reduce() on ${backend} matches the reference over whole tensors`, async () => {
    for (const { name, x } of tensors()) {
      for (const op of OPS) {
        checkReduce(op, await k.reduce(op, x), x, {}, `${op} ${name}`, sumsInFloat32(backend));
      }
    }
  });

  Deno.test(`Kernels.reduce() on ${backend} matches the reference per axis and per block`, async () => {
    for (const shape of SHAPES) {
      const size = shape.reduce((a, b) => a * b, 1);
      if (size < minLength) continue;
      const x = withSpecials(randomFloats(size, { seed: size }), { seed: 3 });
      for (let axis = -1; axis < shape.length; axis++) {
        for (const blockSize of [undefined, 1, 4, 5]) {
          const options = blockSize === undefined ? { shape, axis } : { shape, axis, blockSize };
          for (const op of OPS) {
            const label = `${op} [${shape}] axis ${axis} block ${blockSize}`;
            const got = await k.reduce(op, x, options);
            checkReduce(op, got, x, options, label, sumsInFloat32(backend));
          }
        }
      }
    }
  });

  Deno.test(`Kernels.reduce() on ${backend} sums without spurious overflow or underflow`, async () => {
    const max = 3.4028235e38;
    const cases: { name: string; x: Float32Array; shape: number[] }[] = [
      {
        name: "±max",
        x: Float32Array.from({ length: 4099 }, (_, i) => (i % 2 ? -max : max)),
        shape: [4099],
      },
      {
        name: "max then -max",
        x: Float32Array.from({ length: 3000 }, (_, i) => (i < 1500 ? max : -max)),
        shape: [3000],
      },
      { name: "subnormals", x: new Float32Array(5000).fill(1e-40), shape: [5000] },
      {
        name: "huge and tiny",
        x: Float32Array.from(
          { length: 20000 },
          (_, i) => (i % 7 === 0 ? 1e38 : i % 7 === 1 ? -1e38 : 1e-39 * i),
        ),
        shape: [20000],
      },
      {
        name: "long columns",
        x: randomFloats(3 * 30000, { seed: 31, scale: 1e20 }),
        shape: [30000, 3],
      },
    ];
    for (const { name, x, shape } of cases) {
      if (x.length < minLength) continue;
      for (const axis of [undefined, -1, 0]) {
        const options = axis === undefined ? { shape } : { shape, axis };
        for (const op of OPS) {
          const got = await k.reduce(op, x, options);
          checkReduce(op, got, x, options, `${op} ${name} axis ${axis}`, sumsInFloat32(backend));
        }
        for (const ord of [1, 2] as const) {
          const bound = reduceF64Js(ord === 1 ? "sumabs" : "sumsq", x, options).map((v) =>
            ord === 1 ? v : Math.sqrt(v)
          );
          const got = await k.norm(x, { ...options, ord });
          const expected = normJs(x, { ...options, ord });
          if (sumsInFloat32(backend)) assertCloseFloat32Sums(got, expected, { bound });
          else assertCloseSums(got, expected, { bound, count: x.length });
        }
      }
    }
  });

  Deno.test(`Kernels.norm() on ${backend} matches the reference for rows and columns`, async () => {
    const x = withSpecials(randomFloats(4 * 17, { seed: 11 }), { seed: 1 });
    for (const axis of [undefined, 0, 1]) {
      for (const ord of [1, 2] as const) {
        const options = axis === undefined
          ? { ord, shape: [4, 17] }
          : { ord, shape: [4, 17], axis };
        const bound = reduceF64Js(ord === 1 ? "sumabs" : "sumsq", x, options).map((v) =>
          ord === 1 ? v : Math.sqrt(v)
        );
        const got = await k.norm(x, options);
        if (sumsInFloat32(backend)) assertCloseFloat32Sums(got, normJs(x, options), { bound });
        else assertCloseSums(got, normJs(x, options), { bound, count: x.length });
      }
    }
  });

  Deno.test(`Kernels.histogram() on ${backend} counts exactly as the reference`, async () => {
    for (const { name, x } of tensors()) {
      for (const [min, max] of [[-1, 1], [0, 0], [-3.4e38, 3.4e38], [0.25, 0.5]] as const) {
        const options = { bins: 7, min, max };
        assert.deepEqual(await k.histogram(x, options), histogramJs(x, options), name);
      }
    }
  });

  Deno.test(`Kernels.histogram() on ${backend} bins exactly at every bin edge`, async () => {
    const ranges = [
      { bins: 10, min: 0.1, max: 0.3 },
      { bins: 7, min: -1 / 3, max: 2 / 3 },
      { bins: 1000, min: -1e-3, max: 1e-3 },
      { bins: 20000, min: -1, max: 1 },
      { bins: 3, min: 0, max: 1e-44 },
      { bins: 1, min: -2, max: 2 },
      { bins: 5, min: 1, max: 1 },
      { bins: 255, min: -3.4e38, max: 3.4e38 },
    ];
    for (const options of ranges) {
      const { bins, min, max } = options;
      const edges = Array.from({ length: bins + 1 }, (_, b) => min + (b * (max - min)) / bins);
      const x = Float32Array.from([
        ...neighbours(edges.filter((_, b) => b % Math.ceil(bins / 2000) === 0), 3),
        ...SPECIALS,
      ]);
      if (x.length < minLength && bins < 16385) continue;
      assert.deepEqual(
        await k.histogram(x, options),
        histogramJs(x, options),
        `${bins} in [${min}, ${max}]`,
      );
    }
  });

  Deno.test(`Kernels.quantize() on ${backend} matches the reference bit for bit`, async () => {
    for (const type of TYPES) {
      for (const { name, x, options } of quantizeCases(type)) {
        const got = await k.quantize(x, options);
        const expected = quantizeJs(x, options);
        assert.equal(got.constructor, expected.constructor, `${type} ${name}`);
        assert.deepEqual(got, expected, `${type} ${name}`);
        const back = await k.dequantize(got, options);
        assertSameFloats(back, dequantizeJs(expected, options), `dequantize ${type} ${name}`);
      }
    }
  });

  Deno.test(`Kernels.quantize() and dequantize() on ${backend} are bit-exact at ties, saturation, specials and extreme scales`, async () => {
    for (const type of TYPES) {
      for (const { name, x, options } of hardQuantizeCases(type)) {
        if (x.length < minLength) continue;
        const got = await k.quantize(x, options);
        const expected = quantizeJs(x, options);
        assert.deepEqual(got, expected, `${type} ${name}`);
        // Subnormal and overflowing products included (scales 1.4e-45 and 3e38).
        const back = await k.dequantize(got, options);
        assertSameFloats(back, dequantizeJs(expected, options), `dequantize ${type} ${name}`);
      }
    }
  });

  Deno.test(`Kernels.log2Quantize() on ${backend} matches the reference`, async () => {
    for (const { name, x } of tensors()) {
      for (
        const options of [{ bits: 4, maxExponent: 0 }, { bits: 8, maxExponent: 127 }, {
          bits: 2,
          maxExponent: -140,
        }]
      ) {
        const codes = await k.log2Quantize(x, options);
        assert.deepEqual(codes, log2QuantizeJs(x, options), name);
        assertSameFloats(await k.log2Dequantize(codes, options), log2DequantizeJs(codes, options));
      }
    }
  });

  Deno.test(`Kernels.codebookEncode() on ${backend} matches the reference`, async () => {
    const books = [
      new Float32Array([0]),
      new Float32Array([-1, 0, 1, 0, -1]),
      randomFloats(300, { seed: 5 }),
    ];
    for (const { name, x } of tensors()) {
      for (const book of books) {
        const idx = await k.codebookEncode(x, book);
        assert.deepEqual(idx, codebookEncodeJs(x, book), name);
        assertSameFloats(await k.codebookDecode(idx, book), codebookDecodeJs(idx, book));
      }
    }
  });

  Deno.test(`Kernels.codebookEncode() on ${backend} resolves midpoints and duplicates as the reference`, async () => {
    const next = random(41);
    const big = Float32Array.from({ length: 65536 }, () => Math.fround((next() - 0.5) * 100));
    const books = [
      new Float32Array([0.1, 0.2, 0.3, 0.2, 0.1, -0, 0]),
      new Float32Array([1e-45, -1e-45, 3e38, -3e38, 1, 1 + 2 ** -23]),
      Float32Array.from({ length: 300 }, (_, i) => Math.fround(i / 7)),
      big,
    ];
    for (const book of books) {
      const mids: number[] = [];
      const sorted = Array.from(book).sort((a, b) => a - b);
      for (let i = 1; i < sorted.length; i += Math.ceil(sorted.length / 3000)) {
        mids.push((sorted[i - 1]! + sorted[i]!) / 2, sorted[i]!);
      }
      const x = Float32Array.from([...neighbours(mids, 2), ...SPECIALS]);
      if (x.length < minLength && book.length < 16385) continue;
      const idx = await k.codebookEncode(x, book);
      assert.deepEqual(idx, codebookEncodeJs(x, book), `${book.length} codes`);
      assertSameFloats(await k.codebookDecode(idx, book), codebookDecodeJs(idx, book));
    }
  });

  Deno.test(`Kernels.codebookDecode() and log2Dequantize() on ${backend} reject bad codes as the reference`, async () => {
    const book = randomFloats(70000, { seed: 42 });
    const indices = Uint16Array.from({ length: 20000 }, (_, i) => (i * 7919) % 70000);
    if (indices.length >= minLength) {
      assertSameFloats(await k.codebookDecode(indices, book), codebookDecodeJs(indices, book));
      indices[19000] = 65535;
      indices[19001] = 65534;
      const small = book.subarray(0, 65535);
      await assert.rejects(() => k.codebookDecode(indices, small), {
        name: "RangeError",
        message: "Cannot decode with codebook: index 65535 at 19000 is not below 65535",
      });
    }
    const codes = Int8Array.from({ length: 20000 }, (_, i) => (i % 255) - 127);
    if (codes.length < minLength) return;
    for (const maxExponent of [1000, 127, 0, -140, -1000]) {
      const options = { bits: 8, maxExponent };
      assertSameFloats(await k.log2Dequantize(codes, options), log2DequantizeJs(codes, options));
    }
    await assert.rejects(() => k.log2Dequantize(codes, { bits: 4, maxExponent: 0 }), {
      name: "RangeError",
      message: "Cannot log2-dequantize tensor: code -127 at 0 exceeds 7",
    });
  });

  Deno.test(`Kernels.selectMagnitude() on ${backend} selects as the reference`, async () => {
    const next = random(9);
    const ties = Float32Array.from(
      { length: 70001 },
      () => [0, -0, 1, -1, 2, NaN, Infinity][Math.floor(next() * 7)]!,
    );
    const groups: readonly Float32Array[][] = [
      [new Float32Array(0)],
      [new Float32Array([5])],
      [randomFloats(1000, { seed: 1 })],
      [ties],
      [withSpecials(randomFloats(65536 * 2 + 3, { seed: 4 }), { seed: 4 })],
      [
        new Float32Array(0),
        randomFloats(17, { seed: 2 }),
        ties.subarray(0, 9999),
        Float32Array.from(SPECIALS),
      ],
    ];
    for (const group of groups) {
      const total = group.reduce((a, t) => a + t.length, 0);
      if (total < minLength) continue;
      for (
        const kk of new Set([0, 1, Math.floor(total / 3), Math.floor(total / 2), total - 1, total])
      ) {
        if (kk < 0 || kk > total) continue;
        const got = await k.selectMagnitude(group, kk);
        const expected = selectMagnitudeJs(group, kk);
        assert.deepEqual(got, expected, `k ${kk} of ${total}`);
        const mine = group.map((t) => t.slice());
        const theirs = group.map((t) => t.slice());
        assert.equal(await k.maskSmallest(mine, got), maskSmallestJs(theirs, expected));
        for (let t = 0; t < mine.length; t++) {
          assertSameFloats(mine[t]!, theirs[t]!, `mask k ${kk}`);
        }
      }
    }
  });

  Deno.test(`Kernels.nmMask() on ${backend} matches the reference`, async () => {
    const x = withSpecials(randomFloats(8 * 16, { seed: 8 }), { seed: 8 });
    for (const [n, m] of [[2, 4], [4, 8], [0, 4], [4, 4]] as const) {
      for (const axis of [0, 1]) {
        const options = { n, m, shape: [8, 16], axis };
        assert.deepEqual(
          await k.nmMask(x, options),
          nmMaskJs(x, options),
          `${n}:${m} axis ${axis}`,
        );
      }
    }
  });

  Deno.test(`Kernels.nmMask() on ${backend} matches the reference on large tensors and ties`, async () => {
    const next = random(51);
    const ties = Float32Array.from(
      { length: 8 * 4096 },
      () => [0, -0, 1, -1, NaN, 2][Math.floor(next() * 6)]!,
    );
    const noisy = withSpecials(randomFloats(8 * 4096, { seed: 52 }), { seed: 52 });
    for (const x of [ties, noisy]) {
      for (const shape of [[8, 4096], [4096, 8], [2, 8, 2048]]) {
        for (const [n, m] of [[2, 4], [4, 8], [1, 8]] as const) {
          for (let axis = 0; axis < shape.length; axis++) {
            if (shape[axis]! % m !== 0) continue;
            const options = { n, m, shape, axis };
            assert.deepEqual(
              await k.nmMask(x, options),
              nmMaskJs(x, options),
              `${n}:${m} [${shape}] axis ${axis}`,
            );
          }
        }
      }
    }
  });

  Deno.test(`Kernels.matmul() on ${backend} matches the reference within tolerance`, async () => {
    for (const [m, kk, n] of [[1, 1, 1], [3, 5, 7], [16, 33, 9], [0, 4, 2]] as const) {
      const a = withSpecials(randomFloats(m * kk, { seed: m }), { seed: m });
      const b = randomFloats(kk * n, { seed: n });
      for (const transposeA of [false, true]) {
        for (const transposeB of [false, true]) {
          const options = { m, k: kk, n, transposeA, transposeB };
          const bound = matmulJs(a.map(Math.abs), b.map(Math.abs), options);
          const got = await k.matmul(a, b, options);
          if (sumsInFloat32(backend)) {
            assertCloseFloat32Products(got, matmulJs(a, b, options), { bound, k: kk });
          } else {
            assertCloseSums(got, matmulJs(a, b, options), { bound, count: kk * 16 });
          }
          const ai = Int8Array.from(a, (v) => Math.round(v * 60));
          const bi = Int8Array.from(b, (v) => Math.round(v * 60));
          const int = { ...options, aZeroPoint: 3, bZeroPoint: -128 };
          assert.deepEqual(await k.matmulInt8(ai, bi, int), matmulInt8Js(ai, bi, int));
        }
      }
    }
  });

  Deno.test(`Kernels.matmul() and matmulInt8() on ${backend} tile products larger than a binding`, async () => {
    for (const [m, kk, n] of [[70, 300, 90], [3, 20000, 2], [130, 1, 150]] as const) {
      if (Math.max(m * kk, kk * n) * 4 < minLength) continue;
      const a = withSpecials(randomFloats(m * kk, { seed: kk }), {
        seed: kk,
        specials: [3.4028235e38, -3.4028235e38, 1e-40, -0, Infinity, 0],
      });
      const b = randomFloats(kk * n, { seed: n, scale: 2 });
      for (const transposeA of [false, true]) {
        const options = { m, k: kk, n, transposeA, transposeB: !transposeA };
        const bound = matmulJs(a.map(Math.abs), b.map(Math.abs), options);
        const got = await k.matmul(a, b, options);
        if (sumsInFloat32(backend)) {
          assertCloseFloat32Products(got, matmulJs(a, b, options), { bound, k: kk });
        } else {
          assertCloseSums(got, matmulJs(a, b, options), { bound, count: kk * 16 });
        }
        const ai = Int8Array.from(a, (v) => Math.max(-128, Math.min(127, Math.round(v * 60))));
        const bi = Int8Array.from(b, (v) => Math.round(v * 30));
        const int = { ...options, aZeroPoint: -7, bZeroPoint: 11 };
        assert.deepEqual(await k.matmulInt8(ai, bi, int), matmulInt8Js(ai, bi, int));
      }
    }
  });

  Deno.test(`Kernels.matmulInt8() on ${backend} wraps modulo 2^32 as the reference`, async () => {
    const kk = 140000;
    const a = new Int8Array(kk).fill(-128);
    const b = Int8Array.from({ length: kk * 3 }, (_, i) => (i % 3 === 0 ? -128 : (i % 251) - 125));
    const options = { m: 1, k: kk, n: 3, aZeroPoint: 127, bZeroPoint: 5 };
    assert.deepEqual(await k.matmulInt8(a, b, options), matmulInt8Js(a, b, options));
  });

  Deno.test(`Kernels.fromFloat16() on ${backend} converts every half bit pattern`, async () => {
    const all = Uint16Array.from({ length: 65536 }, (_, i) => i);
    if (all.length < minLength) return;
    const back = await k.fromFloat16(all);
    assertSameFloats(back, float16ToFloat32(all));
    // Every half value, and the float32 values just beside each, round back as the reference.
    const near = new Float32Array(back.length * 3);
    const bits = new Uint32Array(near.buffer);
    const f = new Uint32Array(back.buffer);
    for (let i = 0; i < back.length; i++) {
      bits[3 * i] = f[i]!;
      bits[3 * i + 1] = f[i]! + 1;
      bits[3 * i + 2] = f[i]! - 1;
    }
    assert.deepEqual(await k.toFloat16(near), float32ToFloat16(near));
  });

  Deno.test(`Kernels.toFloat16() on ${backend} converts as @modelpress/onnx`, async () => {
    for (const { x } of tensors()) {
      const half = await k.toFloat16(x);
      assert.deepEqual(half, float32ToFloat16(x));
      assertSameFloats(await k.fromFloat16(half), float16ToFloat32(half));
    }
  });

  Deno.test(`Kernels.quantize() and dequantize() on ${backend} write into out, allocated or not, as the reference`, async () => {
    for (const type of TYPES) {
      for (const { name, x, options } of outCases(type)) {
        if (x.length < minLength) continue;
        const expected = quantizeJs(x, options);
        const values = dequantizeJs(expected, options);
        for (const where of WHERE[backend === "wasm" ? "wasm" : "host"]) {
          const label = `${type} ${name} (${where})`;
          const allocated: ReturnType<Kernels["alloc"]>[] = [];
          const alloc = <T extends ElementType>(t: T, n: number): ElementArrays[T] => {
            const a = k.alloc(t, n);
            allocated.push(a);
            return a;
          };
          const inputHere = where === "alloc input" || where === "alloc both";
          const outHere = where === "alloc out" || where === "alloc both";
          const input = inputHere ? alloc("float32", x.length) : new Float32Array(x.length);
          input.set(x);
          const out = outHere
            ? alloc(type, x.length)
            : new (expected.constructor as Uint8ArrayConstructor)(expected.length);
          // Garbage first, so that an element (or a packed tail) left unwritten shows.
          new Uint8Array(out.buffer, out.byteOffset, out.byteLength).fill(0x5a);
          const got = await k.quantize(input, { ...options, out });
          assert.equal(got, out, label);
          assert.deepEqual(got, expected, label);
          assert.deepEqual(input, x, `${label}: input unchanged`);
          const back = (outHere ? alloc("float32", x.length) : new Float32Array(x.length)).fill(7);
          assert.equal(await k.dequantize(out, { ...options, out: back }), back, label);
          assertSameFloats(back, values, `dequantize ${label}`);
          for (const a of allocated) k.free(a);
        }
      }
    }
  });

  Deno.test(`Kernels.quantize() and dequantize() on ${backend} reject an out of the wrong class or length, or overlapping the input`, async () => {
    const x = k.alloc("float32", 8);
    const scale = new Float32Array([1]);
    try {
      await assert.rejects(() => k.quantize(x, { type: "uint8", scale, out: new Int8Array(8) }), {
        name: "TypeError",
        message: "Cannot quantize tensor: out is a Int8Array, expected Uint8Array",
      });
      await assert.rejects(
        () => k.quantize(x, { type: "int4", scale, name: "w", out: new Uint8Array(8) }),
        {
          name: "RangeError",
          message: "Cannot quantize tensor 'w': out has 8 elements, expected 4",
        },
      );
      const alias = new Int8Array(x.buffer, x.byteOffset + 4, 8);
      await assert.rejects(() => k.quantize(x, { type: "int8", scale, out: alias }), {
        name: "RangeError",
        message: "Cannot quantize tensor: out overlaps the input",
      });
      const q = new Int8Array(8);
      await assert.rejects(
        () => k.dequantize(q, { type: "int8", scale, out: new Float32Array(9) }),
        {
          name: "RangeError",
          message: "Cannot dequantize tensor: out has 9 elements, expected 8",
        },
      );
      await assert.rejects(
        () => k.dequantize(q, { type: "int8", scale, out: new Float64Array(8) as never }),
        {
          name: "TypeError",
          message: "Cannot dequantize tensor: out is a Float64Array, expected Float32Array",
        },
      );
    } finally {
      k.free(x);
    }
  });

  Deno.test(`Kernels on ${backend} read inputs from alloc() as the reference reads ordinary arrays`, async () => {
    for (const size of [33, 2 * 70000]) {
      if (size < minLength) continue;
      const plain = withSpecials(randomFloats(size, { seed: size, scale: 3 }), { seed: 9 });
      const x = k.alloc("float32", size);
      x.set(plain);
      const label = `${size}`;
      const shape = [size / (size % 2 === 0 ? 2 : 3), size % 2 === 0 ? 2 : 3];
      for (const options of [{}, { shape, axis: 0 }, { shape, axis: 0, blockSize: 4 }]) {
        for (const op of ["min", "absmax", "sum"] as const) {
          const got = await k.reduce(op, x, options);
          checkReduce(op, got, plain, options, `${op} ${label}`, sumsInFloat32(backend));
        }
      }
      const hist = { bins: 13, min: -2, max: 2 };
      assert.deepEqual(await k.histogram(x, hist), histogramJs(plain, hist), label);
      const log2 = { bits: 4, maxExponent: 1 };
      assert.deepEqual(await k.log2Quantize(x, log2), log2QuantizeJs(plain, log2), label);
      const codebook = Float32Array.from([-2, -0.5, 0, 0.25, 3]);
      assert.deepEqual(await k.codebookEncode(x, codebook), codebookEncodeJs(plain, codebook));
      const nm = { n: 1, m: shape[1]!, shape };
      assert.deepEqual(await k.nmMask(x, nm), nmMaskJs(plain, nm), label);
      const selection = await k.selectMagnitude([x, plain], size);
      assert.deepEqual(selection, selectMagnitudeJs([plain, plain], size), label);
      const masked = plain.slice();
      maskSmallestJs([masked], selectMagnitudeJs(masked, size >> 1));
      assert.equal(await k.maskSmallest(x, await k.selectMagnitude(x, size >> 1)), size >> 1);
      assertSameFloats(x, masked, `maskSmallest ${label}`);
      k.free(x);
    }
  });

  Deno.test(`Kernels.alloc() on ${backend} hands out zero-filled arrays of each type that outlive memory growth`, () => {
    const kept: ReturnType<Kernels["alloc"]>[] = [];
    for (const [type, Class, length] of ALLOC_TYPES) {
      const a = k.alloc(type, 9);
      assert.equal(a.constructor, Class, type);
      assert.equal(a.length, length, type);
      assert.deepEqual(Array.from(a), new Array(length).fill(0), type);
      a.fill(3);
      kept.push(a);
    }
    // 48 MiB more than anything before: the WASM memory must grow, and the arrays must stay.
    const big = k.alloc("float32", 12 << 20);
    big[big.length - 1] = 1;
    for (const a of kept) assert.deepEqual(Array.from(a), new Array(a.length).fill(3));
    k.free(big);
    for (const a of kept) k.free(a);
    // Freed memory comes back zero-filled.
    const again = k.alloc("int8", 9);
    assert.deepEqual(Array.from(again), new Array(9).fill(0));
    k.free(again);
    assert.equal(k.alloc("float32", 0).length, 0);
  });

  Deno.test(`Kernels.free() on ${backend} rejects foreign arrays, subarrays and double frees`, () => {
    const message = "Cannot free array: it was not allocated by these kernels or was freed";
    const a = k.alloc("float32", 16);
    assert.throws(() => k.free(new Float32Array(16)), { name: "RangeError", message });
    assert.throws(() => k.free(a.subarray(4)), { name: "RangeError", message });
    k.free(a);
    assert.throws(() => k.free(a), { name: "RangeError", message });
    assert.throws(() => k.alloc("float32", -1), {
      name: "RangeError",
      message: "Cannot allocate array: count -1 is not a non-negative integer",
    });
    assert.throws(() => k.alloc("float64" as never, 1), {
      name: "TypeError",
      message: "Cannot allocate array: unknown type 'float64'",
    });
  });
}

/**
 * Where the `out` test puts input and output: in ordinary arrays or in arrays from `alloc`. Only
 * WASM reads and writes its own arrays differently (in place); elsewhere they are ordinary.
 */
const WHERE = {
  wasm: ["out", "alloc out", "alloc input", "alloc both"],
  host: ["out", "alloc both"],
} as const;

/** Each element type, the class `alloc` returns for it and the length for 9 elements. */
const ALLOC_TYPES: readonly (readonly [ElementType, unknown, number])[] = [
  ["float32", Float32Array, 9],
  ["int32", Int32Array, 9],
  ["int8", Int8Array, 9],
  ["uint8", Uint8Array, 9],
  ["int16", Int16Array, 9],
  ["uint16", Uint16Array, 9],
  ["int4", Uint8Array, 5],
  ["uint4", Uint8Array, 5],
  ["int2", Uint8Array, 3],
  ["uint2", Uint8Array, 3],
];

/**
 * The cases of the `out` test: lengths around SIMD widths, packed tails and the WASM chunk, per
 * tensor, per axis and per block.
 */
function outCases(type: QuantType): { name: string; x: Float32Array; options: QuantizeOptions }[] {
  const out: { name: string; x: Float32Array; options: QuantizeOptions }[] = [];
  for (const n of [0, 1, 7, 33, 65536 + 17]) {
    const x = withSpecials(randomFloats(n, { seed: n + 3, scale: 4 }), { seed: n });
    out.push({ name: `${n} per tensor`, x, options: { type, shape: [n], ...params(1, type, n) } });
  }
  const x = withSpecials(randomFloats(2 * 70000, { seed: 5, scale: 4 }), { seed: 5 });
  out.push({
    name: "[2, 70000] axis 0",
    x,
    options: { type, shape: [2, 70000], axis: 0, ...params(2, type, 1) },
  });
  out.push({
    name: "[2, 70000] axis 1 block 16",
    x,
    options: { type, shape: [2, 70000], axis: 1, blockSize: 16, ...params(2 * 4375, type, 2) },
  });
  return out;
}

const TYPES: readonly QuantType[] = [
  "int8",
  "uint8",
  "int16",
  "uint16",
  "int4",
  "uint4",
  "int2",
  "uint2",
];

function params(
  count: number,
  type: QuantType,
  seed: number,
): { scale: Float32Array; zeroPoint: Int32Array } {
  const next = random(seed);
  const { min, max } = quantRange(type);
  const scale = Float32Array.from({ length: count }, () => 2 ** Math.floor(next() * 8 - 6));
  const zeroPoint = Int32Array.from(
    { length: count },
    () => min + Math.floor(next() * (max - min + 1)),
  );
  return { scale, zeroPoint };
}

function allQuantizeCases(
  type: QuantType,
): { name: string; x: Float32Array; options: QuantizeOptions }[] {
  const out: { name: string; x: Float32Array; options: QuantizeOptions }[] = [];
  const { max } = quantRange(type);
  for (const { name, x } of allTensors()) {
    out.push({
      name: `${name} per tensor`,
      x,
      options: { type, ...params(1, type, x.length), shape: [x.length] },
    });
  }
  // Exact ties: (j + 0.5) * 2^-3 divided by 2^-3 is a half in float32.
  const ties = Float32Array.from({ length: 67 }, (_, j) => (j - 33 + 0.5) * 0.125);
  out.push({
    name: "ties",
    x: ties,
    options: { type, scale: new Float32Array([0.125]), shape: [67] },
  });
  const sat = Float32Array.from({ length: 21 }, (_, j) => (j - 10) * max);
  out.push({
    name: "saturation",
    x: sat,
    options: { type, scale: new Float32Array([0.5]), shape: [21] },
  });
  for (const shape of SHAPES) {
    const size = shape.reduce((a, b) => a * b, 1);
    const x = withSpecials(randomFloats(size, { seed: size, scale: 4 }), { seed: 2 });
    for (let axis = 0; axis < shape.length; axis++) {
      out.push({
        name: `[${shape}] axis ${axis}`,
        x,
        options: { type, shape, axis, ...params(shape[axis]!, type, axis) },
      });
      for (const blockSize of [1, 4, 16]) {
        const blocks = shape.map((d, a) => (a === axis ? Math.ceil(d / blockSize) : d));
        const count = blocks.reduce((a, b) => a * b, 1);
        out.push({
          name: `[${shape}] axis ${axis} block ${blockSize}`,
          x,
          options: { type, shape, axis, blockSize, ...params(count, type, blockSize) },
        });
      }
    }
  }
  return out;
}

/** Every float32 within `ulps` of each value (by bit pattern, same sign). */
function neighbours(values: readonly number[], ulps: number): Float32Array {
  const out: number[] = [];
  const f = new Float32Array(1);
  const u = new Uint32Array(f.buffer);
  for (const v of values) {
    f[0] = v;
    const b = u[0]!;
    for (let d = -ulps; d <= ulps; d++) {
      u[0] = b + d;
      out.push(f[0]!);
    }
  }
  return Float32Array.from(out);
}

/**
 * Cases where an inexact division would differ: values within a few ulps of `(k + 0.5) * scale`
 * (exact ties and the float32 double-rounding boundary around them) for scales that are not
 * powers of two, saturation, NaN, infinities, -0, subnormal values and scales, and scales so
 * large or small that the quotient under- or overflows float32.
 */
function hardQuantizeCases(
  type: QuantType,
): { name: string; x: Float32Array; options: QuantizeOptions }[] {
  const { min, max } = quantRange(type);
  const out: { name: string; x: Float32Array; options: QuantizeOptions }[] = [];
  const scales = [
    0.1,
    3 * 2 ** -10,
    0.0371,
    1 / 3,
    7.25,
    1e-3,
    1.1754942e-38,
    1e-40,
    1.4e-45,
    3e38,
  ];
  for (const s of scales) {
    const scale = Math.fround(s);
    const halves: number[] = [];
    for (let k = min - 3; k <= Math.min(max + 3, min + 600); k++) halves.push((k + 0.5) * scale);
    for (let k = max - 300; k <= max + 3; k++) halves.push((k + 0.5) * scale);
    const near = neighbours(halves, 3);
    const x = Float32Array.from([...near, ...SPECIALS, ...neighbours(SPECIALS.slice(3), 2)]);
    for (const zeroPoint of [0, min, max]) {
      out.push({
        name: `near halves, scale ${scale}, zero point ${zeroPoint}`,
        x,
        options: {
          type,
          shape: [x.length],
          scale: new Float32Array([scale]),
          zeroPoint: new Int32Array([zeroPoint]),
        },
      });
    }
  }
  const x = withSpecials(randomFloats(70007, { seed: 21, scale: 1000 }), { seed: 21 });
  const next = random(22);
  const scale = Float32Array.from({ length: 70007 }, () => 10 ** (next() * 8 - 6));
  const zeroPoint = Int32Array.from(
    { length: 70007 },
    () => min + Math.floor(next() * (max - min + 1)),
  );
  out.push({
    name: "one random scale per element",
    x,
    options: { type, shape: [70007, 1], axis: 0, scale, zeroPoint },
  });
  const blocked = { type, shape: [7, 10001], axis: 1, blockSize: 32 };
  const count = 7 * Math.ceil(10001 / 32);
  out.push({
    name: "random scales per block of 32",
    x,
    options: {
      ...blocked,
      scale: scale.subarray(0, count),
      zeroPoint: zeroPoint.subarray(0, count),
    },
  });
  return out;
}
