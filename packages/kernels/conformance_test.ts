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

function checkReduce(
  op: ReduceOp,
  got: Float32Array,
  x: Float32Array,
  options: object,
  label: string,
): void {
  const expected = reduceJs(op, x, options);
  if (op === "sum" || op === "sumsq") {
    const bound = reduceF64Js(op === "sum" ? "sumabs" : "sumsq", x, options);
    assertCloseSums(got, expected, { bound, count: x.length, label });
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
      for (const op of OPS) checkReduce(op, await k.reduce(op, x), x, {}, `${op} ${name}`);
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
            checkReduce(op, await k.reduce(op, x, options), x, options, label);
          }
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
        assertCloseSums(await k.norm(x, options), normJs(x, options), { bound, count: x.length });
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

  Deno.test(`Kernels.matmul() on ${backend} matches the reference within tolerance`, async () => {
    for (const [m, kk, n] of [[1, 1, 1], [3, 5, 7], [16, 33, 9], [0, 4, 2]] as const) {
      const a = withSpecials(randomFloats(m * kk, { seed: m }), { seed: m });
      const b = randomFloats(kk * n, { seed: n });
      for (const transposeA of [false, true]) {
        for (const transposeB of [false, true]) {
          const options = { m, k: kk, n, transposeA, transposeB };
          const bound = matmulJs(a.map(Math.abs), b.map(Math.abs), options);
          assertCloseSums(await k.matmul(a, b, options), matmulJs(a, b, options), {
            bound,
            count: kk * 16,
          });
          const ai = Int8Array.from(a, (v) => Math.round(v * 60));
          const bi = Int8Array.from(b, (v) => Math.round(v * 60));
          const int = { ...options, aZeroPoint: 3, bZeroPoint: -128 };
          assert.deepEqual(await k.matmulInt8(ai, bi, int), matmulInt8Js(ai, bi, int));
        }
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
