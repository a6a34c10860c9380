/**
 * The WebAssembly (SIMD) backend. Reductions and norms (whole, per axis, per block), histograms,
 * affine quantize and dequantize (every type, per tensor, axis or block; 4- and 2-bit codes are
 * packed in TypeScript), log2 quantization, codebook encoding, magnitude selection and masking,
 * N:M masks, float32 and int8 matrix products run in WASM. Decoding (log2, codebook) stays the
 * TypeScript reference, and float16 conversion uses the engine's Float16Array where there is one.
 * @module
 */
import type {
  AxisOptions,
  HistogramOptions,
  Kernels,
  Log2Options,
  MagnitudeSelection,
  MatmulInt8Options,
  MatmulOptions,
  NmMaskOptions,
  NormOptions,
  QuantizedArray,
  QuantizeOptions,
  QuantType,
  ReduceOp,
} from "../kernels.ts";
import { type AxisView, axisView, checkMatmul } from "../_shape.ts";
import { checkInt8ZeroPoints } from "../js/matmul.ts";
import { defer } from "../js/backend.ts";
import { codebookDecodeJs } from "../js/codebook.ts";
import { log2DequantizeJs } from "../js/log2_quantize.ts";
import { float16ToFloat32, float32ToFloat16 } from "@modelpress/onnx";
import { type ResolvedQuantize, resolveQuantize, unpackCodes } from "../js/quantize.ts";
import { checkReduceOp, reduceIdentity, type ReduceOpJs } from "../js/reduce.ts";
import { checkNormOrder } from "../js/norm.ts";
import { checkHistogram } from "../js/histogram.ts";
import { log2Params, log2ZeroBelow } from "../js/log2_quantize.ts";
import { sortCodebook } from "../js/codebook.ts";
import { nmView } from "../js/nm_mask.ts";
import {
  checkSelectCount,
  findRank,
  selectionFromKey,
  tensorList,
  thresholdKey,
} from "../js/select_magnitude.ts";
import { WasmArena } from "./_arena.ts";
import { segments } from "./_segments.ts";

/** Elements per piece copied into WASM memory (256 KiB of float32). */
export const WASM_CHUNK = 1 << 16;

const OPS: Readonly<Record<ReduceOpJs, number>> = {
  min: 0,
  max: 1,
  absmax: 2,
  sum: 3,
  sumsq: 4,
  sumabs: 5,
};

/** The parameter layout of a view: the view the WASM sees and the strides of its parameters. */
interface ParamLayout {
  readonly outer: number;
  readonly channels: number;
  readonly inner: number;
  readonly block: number;
  readonly sO: number;
  readonly sC: number;
  readonly sI: number;
}

function paramLayout(view: AxisView): ParamLayout {
  const { outer, channels, inner } = view;
  if (view.whole) {
    return {
      outer: 1,
      channels: 1,
      inner: outer * channels * inner,
      block: 1,
      sO: 0,
      sC: 0,
      sI: 0,
    };
  }
  if (!view.blocked) {
    // The axis is the last: one parameter per element of a row, read as vectors.
    if (inner === 1) return { outer, channels: 1, inner: channels, block: 1, sO: 0, sC: 0, sI: 1 };
    return { outer, channels, inner, block: 1, sO: 0, sC: 1, sI: 0 };
  }
  return {
    outer,
    channels,
    inner,
    block: view.blockSize,
    sO: view.blocks * inner,
    sC: inner,
    sI: inner > 1 ? 1 : 0,
  };
}

/**
 * Makes the WASM backend (compiles the module once per process). Its memory grows to the largest
 * working set a call needs (inputs go through in pieces of {@linkcode WASM_CHUNK} elements, except
 * matrices and N:M masks, which go in whole) and is reused by every later call.
 *
 * @returns Kernels whose `backend` is `"wasm"`.
 * @example
 * ```ts
 * import { createWasmKernels } from "@modelpress/kernels";
 * const k = await createWasmKernels();
 * await k.reduce("absmax", new Float32Array([1, -7, 2])); // Float32Array [7]
 * ```
 */
export async function createWasmKernels(): Promise<Kernels> {
  return Object.freeze(new WasmKernels(await WasmArena.create()));
}

/** The kernels over one WASM instance; each call resets its arena first. */
class WasmKernels implements Kernels {
  readonly backend = "wasm";
  readonly #arena: WasmArena;

  constructor(arena: WasmArena) {
    this.#arena = arena;
  }

  reduce(op: ReduceOp, x: Float32Array, options?: AxisOptions): Promise<Float32Array> {
    return defer(() => this.#reduceWasm(op, x, options));
  }

  histogram(x: Float32Array, options: HistogramOptions): Promise<Uint32Array> {
    return defer(() => this.#histogramWasm(x, options));
  }

  quantize(x: Float32Array, options: QuantizeOptions): Promise<QuantizedArray> {
    return defer(() => this.#quantizeWasm(x, options));
  }

  dequantize(q: QuantizedArray, options: QuantizeOptions): Promise<Float32Array> {
    return defer(() => this.#dequantizeWasm(q, options));
  }

  log2Quantize(x: Float32Array, options: Log2Options): Promise<Int8Array> {
    return defer(() => this.#log2QuantizeWasm(x, options));
  }

  log2Dequantize(codes: Int8Array, options: Log2Options): Promise<Float32Array> {
    return defer(() => log2DequantizeJs(codes, options));
  }

  codebookEncode(x: Float32Array, codebook: Float32Array): Promise<Uint8Array | Uint16Array> {
    return defer(() => this.#codebookEncodeWasm(x, codebook));
  }

  codebookDecode(indices: Uint8Array | Uint16Array, codebook: Float32Array): Promise<Float32Array> {
    return defer(() => codebookDecodeJs(indices, codebook));
  }

  selectMagnitude(
    tensors: Float32Array | readonly Float32Array[],
    k: number,
  ): Promise<MagnitudeSelection> {
    return defer(() => this.#selectWasm(tensors, k));
  }

  maskSmallest(
    tensors: Float32Array | readonly Float32Array[],
    selection: MagnitudeSelection,
  ): Promise<number> {
    return defer(() => this.#maskWasm(tensors, selection));
  }

  nmMask(x: Float32Array, options: NmMaskOptions): Promise<Uint8Array> {
    return defer(() => this.#nmMaskWasm(x, options));
  }

  norm(x: Float32Array, options: NormOptions): Promise<Float32Array> {
    return defer(() => this.#normWasm(x, options));
  }

  matmul(a: Float32Array, b: Float32Array, options: MatmulOptions): Promise<Float32Array> {
    return defer(() => this.#matmulWasm(a, b, options));
  }

  matmulInt8(a: Int8Array, b: Int8Array, options: MatmulInt8Options): Promise<Int32Array> {
    return defer(() => this.#matmulInt8Wasm(a, b, options));
  }

  toFloat16(x: Float32Array): Promise<Uint16Array> {
    return defer(() => float32ToFloat16(x));
  }

  fromFloat16(bits: Uint16Array): Promise<Float32Array> {
    return defer(() => float16ToFloat32(bits));
  }

  dispose(): void {
    this.#arena.reset();
  }

  #reduceWasm(op: ReduceOp, x: Float32Array, options: AxisOptions = {}): Float32Array {
    return Float32Array.from(this.#reduceWasmF64(op, x, options));
  }

  #reduceWasmF64(op: ReduceOpJs, x: Float32Array, options: AxisOptions = {}): Float64Array {
    checkReduceOp(op);
    const view = axisView(x.length, { ...options, verb: "reduce" });
    const code = OPS[op];
    const w = this.#arena.exports;
    this.#arena.reset();
    const chunk = Math.min(x.length, WASM_CHUNK);
    if (view.whole) {
      const xp = this.#arena.alloc(chunk * 4);
      const input = new Float32Array(this.#arena.buffer, xp, chunk);
      let acc = reduceIdentity(op);
      for (let at = 0; at < x.length; at += WASM_CHUNK) {
        const n = Math.min(WASM_CHUNK, x.length - at);
        input.set(x.subarray(at, at + n));
        const r = w.reduceWhole(code, xp, n);
        acc = op === "min"
          ? Math.min(acc, r)
          : op === "max" || op === "absmax"
          ? Math.max(acc, r)
          : acc + r;
      }
      return new Float64Array([acc]);
    }
    const outp = this.#arena.alloc(view.outputs * 8);
    const xp = this.#arena.alloc(chunk * 4);
    const buffer = this.#arena.buffer;
    new Float64Array(buffer, outp, view.outputs).fill(reduceIdentity(op));
    const input = new Float32Array(buffer, xp, chunk);
    const block = view.blocked ? view.blockSize : 1;
    const sO = view.blocks * view.inner;
    for (const s of segments(view, { chunk: WASM_CHUNK, block })) {
      input.set(x.subarray(s.offset, s.offset + s.length));
      if (view.blocked) {
        const k = s.o * sO + Math.floor(s.c / block) * view.inner + s.i;
        w.reduceBlocked(
          code,
          xp,
          s.outer,
          s.channels,
          s.inner,
          block,
          outp + k * 8,
          sO,
          view.inner,
        );
      } else {
        w.reduceAxis(code, xp, s.outer, s.channels, s.inner, outp + s.c * 8);
      }
    }
    return new Float64Array(buffer, outp, view.outputs).slice();
  }

  #histogramWasm(x: Float32Array, options: HistogramOptions): Uint32Array {
    checkHistogram(options);
    const { bins, min, max } = options;
    this.#arena.reset();
    const cp = this.#arena.alloc(bins * 4);
    const chunk = Math.min(x.length, WASM_CHUNK);
    const xp = this.#arena.alloc(chunk * 4);
    const counts = new Uint32Array(this.#arena.buffer, cp, bins);
    const input = new Float32Array(this.#arena.buffer, xp, chunk);
    counts.fill(0);
    const factor = bins / (max - min);
    for (let at = 0; at < x.length; at += WASM_CHUNK) {
      const n = Math.min(WASM_CHUNK, x.length - at);
      input.set(x.subarray(at, at + n));
      this.#arena.exports.histogram(xp, n, bins, min, max, factor, cp);
    }
    return counts.slice();
  }

  #matmulWasm(a: Float32Array, b: Float32Array, options: MatmulOptions): Float32Array {
    checkMatmul({ a: a.length, b: b.length }, options);
    const { m, k, n } = options;
    const aa = options.transposeA === true ? transpose(a, { rows: m, cols: k }) : a;
    const bb = options.transposeB === true ? transpose(b, { rows: k, cols: n }) : b;
    this.#arena.reset();
    const ap = this.#arena.alloc(m * k * 4);
    const bp = this.#arena.alloc(k * n * 4);
    const cp = this.#arena.alloc(m * n * 4);
    const accp = this.#arena.alloc(n * 8);
    new Float32Array(this.#arena.buffer, ap, m * k).set(aa);
    new Float32Array(this.#arena.buffer, bp, k * n).set(bb);
    this.#arena.exports.matmulF32(ap, bp, cp, m, k, n, accp);
    return new Float32Array(this.#arena.buffer, cp, m * n).slice();
  }

  #matmulInt8Wasm(a: Int8Array, b: Int8Array, options: MatmulInt8Options): Int32Array {
    checkMatmul({ a: a.length, b: b.length }, options);
    const { m, k, n } = options;
    const za = options.aZeroPoint ?? 0;
    const zb = options.bZeroPoint ?? 0;
    checkInt8ZeroPoints(za, zb);
    const aa = options.transposeA === true ? transpose(a, { rows: m, cols: k }) : a;
    const bb = options.transposeB === true ? transpose(b, { rows: k, cols: n }) : b;
    this.#arena.reset();
    const ap = this.#arena.alloc(m * k);
    const bp = this.#arena.alloc(k * n);
    const cp = this.#arena.alloc(m * n * 4);
    new Int8Array(this.#arena.buffer, ap, m * k).set(aa);
    new Int8Array(this.#arena.buffer, bp, k * n).set(bb);
    this.#arena.exports.matmulI8(ap, bp, cp, m, k, n, za, zb);
    return new Int32Array(this.#arena.buffer, cp, m * n).slice();
  }

  #log2QuantizeWasm(x: Float32Array, options: Log2Options): Int8Array {
    const { eMin, maxCode } = log2Params(options);
    this.#arena.reset();
    const chunk = Math.min(x.length, WASM_CHUNK);
    const xp = this.#arena.alloc(chunk * 4);
    const yp = this.#arena.alloc(chunk);
    const input = new Float32Array(this.#arena.buffer, xp, chunk);
    const output = new Int8Array(this.#arena.buffer, yp, chunk);
    const out = new Int8Array(x.length);
    const zeroBelow = log2ZeroBelow(eMin);
    for (let at = 0; at < x.length; at += WASM_CHUNK) {
      const n = Math.min(WASM_CHUNK, x.length - at);
      input.set(x.subarray(at, at + n));
      this.#arena.exports.log2Quantize(xp, yp, n, eMin, maxCode, zeroBelow);
      out.set(output.subarray(0, n), at);
    }
    return out;
  }

  #codebookEncodeWasm(x: Float32Array, codebook: Float32Array): Uint8Array | Uint16Array {
    const { values, indices } = sortCodebook(codebook);
    const wide = codebook.length > 256;
    this.#arena.reset();
    const vp = this.#arena.alloc(values.length * 8);
    const ip = this.#arena.alloc(indices.length * 2);
    const chunk = Math.min(x.length, WASM_CHUNK);
    const xp = this.#arena.alloc(chunk * 4);
    const yp = this.#arena.alloc(chunk * (wide ? 2 : 1));
    new Float64Array(this.#arena.buffer, vp, values.length).set(values);
    new Uint16Array(this.#arena.buffer, ip, indices.length).set(indices);
    const input = new Float32Array(this.#arena.buffer, xp, chunk);
    const output = wide
      ? new Uint16Array(this.#arena.buffer, yp, chunk)
      : new Uint8Array(this.#arena.buffer, yp, chunk);
    const out = wide ? new Uint16Array(x.length) : new Uint8Array(x.length);
    for (let at = 0; at < x.length; at += WASM_CHUNK) {
      const n = Math.min(WASM_CHUNK, x.length - at);
      input.set(x.subarray(at, at + n));
      this.#arena.exports.codebookEncode(xp, yp, n, vp, ip, values.length, wide);
      out.set(output.subarray(0, n), at);
    }
    return out;
  }

  #nmMaskWasm(x: Float32Array, options: NmMaskOptions): Uint8Array {
    const { outer, length, inner, n, m } = nmView(x.length, options);
    if (x.length === 0) return new Uint8Array(0);
    this.#arena.reset();
    const xp = this.#arena.alloc(x.length * 4);
    const yp = this.#arena.alloc(x.length);
    new Float32Array(this.#arena.buffer, xp, x.length).set(x);
    this.#arena.exports.nmMask(xp, yp, outer, length, inner, n, m);
    return new Uint8Array(this.#arena.buffer, yp, x.length).slice();
  }

  #normWasm(x: Float32Array, options: NormOptions): Float32Array {
    checkNormOrder(options.ord);
    const { ord: _, ...axis } = options;
    const sums = this.#reduceWasmF64(options.ord === 1 ? "sumabs" : "sumsq", x, axis);
    return options.ord === 1 ? Float32Array.from(sums) : Float32Array.from(sums, Math.sqrt);
  }

  /** Copies the parameters in; returns their addresses. */
  #loadParams(p: ResolvedQuantize): { sp: number; zp: number } {
    const sp = this.#arena.alloc(p.scale.length * 4);
    const zp = this.#arena.alloc(p.zeroPoint.length * 4);
    new Float32Array(this.#arena.buffer, sp, p.scale.length).set(p.scale);
    new Int32Array(this.#arena.buffer, zp, p.zeroPoint.length).set(p.zeroPoint);
    return { sp, zp };
  }

  #quantizeWasm(x: Float32Array, options: QuantizeOptions): QuantizedArray {
    const p = resolveQuantize(x.length, options);
    const type = options.type;
    const [kind] = KINDS[type];
    const signed = type.startsWith("int");
    const out = p.bits === 16
      ? (signed ? new Int16Array(x.length) : new Uint16Array(x.length))
      : (signed ? new Int8Array(x.length) : new Uint8Array(x.length));
    this.#affineWasm(p, {
      kind,
      input: x,
      output: out,
      inBytes: 4,
      outBytes: p.bits === 16 ? 2 : 1,
    });
    // 4- and 2-bit codes come out one per byte, already in range; pack them as ONNX stores them.
    if (p.bits === 4) return packNibbles(out as Int8Array | Uint8Array);
    if (p.bits === 2) return packCrumbs(out as Int8Array | Uint8Array);
    return out;
  }

  #dequantizeWasm(q: QuantizedArray, options: QuantizeOptions): Float32Array {
    const codes = unpackCodes(q, options);
    const p = resolveQuantize(codes.length, options, { verb: "dequantize" });
    const out = new Float32Array(codes.length);
    const [, kind] = KINDS[options.type];
    const inBytes = p.bits === 16 ? 2 : 1;
    this.#affineWasm(p, { kind, input: codes, output: out, inBytes, outBytes: 4 });
    return out;
  }

  #affineWasm(p: ResolvedQuantize, call: AffineCall): void {
    const w = this.#arena.exports;
    this.#arena.reset();
    const { sp, zp } = this.#loadParams(p);
    const layout = paramLayout(p.view);
    const chunk = Math.min(call.input.length, WASM_CHUNK);
    const xp = this.#arena.alloc(chunk * call.inBytes);
    const yp = this.#arena.alloc(chunk * call.outBytes);
    const buffer = this.#arena.buffer;
    const InView = call.input.constructor as Float32ArrayConstructor;
    const OutView = call.output.constructor as Float32ArrayConstructor;
    const input = new InView(buffer, xp, chunk);
    const output = new OutView(buffer, yp, chunk);
    for (const s of segments(layout, { chunk: WASM_CHUNK, block: layout.block })) {
      input.set(call.input.subarray(s.offset, s.offset + s.length));
      const k = s.o * layout.sO + Math.floor(s.c / layout.block) * layout.sC + s.i * layout.sI;
      w.affine(
        call.kind,
        xp,
        yp,
        s.outer,
        s.channels,
        s.inner,
        layout.block,
        sp + k * 4,
        zp + k * 4,
        layout.sO,
        layout.sC,
        layout.sI,
        p.min,
        p.max,
      );
      call.output.set(output.subarray(0, s.length), s.offset);
    }
  }

  #selectWasm(tensors: Float32Array | readonly Float32Array[], k: number): MagnitudeSelection {
    const list = tensorList(tensors);
    let total = 0;
    let largest = 0;
    for (const t of list) {
      total += t.length;
      largest = Math.max(largest, t.length);
    }
    checkSelectCount(total, k);
    if (k === 0) return { k: 0, threshold: 0, below: 0, ties: 0 };
    const w = this.#arena.exports;
    this.#arena.reset();
    const hp = this.#arena.alloc(4 << 16);
    const chunk = Math.min(largest, WASM_CHUNK);
    const xp = this.#arena.alloc(chunk * 4);
    const buffer = this.#arena.buffer;
    const hist = new Uint32Array(buffer, hp, 1 << 16);
    const input = new Float32Array(buffer, xp, chunk);
    const pass = (run: (n: number) => void): void => {
      for (const t of list) {
        for (let at = 0; at < t.length; at += WASM_CHUNK) {
          const n = Math.min(WASM_CHUNK, t.length - at);
          input.set(t.subarray(at, at + n));
          run(n);
        }
      }
    };
    hist.fill(0);
    pass((n) => w.histHigh(xp, n, hp));
    const top = findRank(hist.subarray(0, 1 << 15), k);
    hist.fill(0);
    pass((n) => w.histLow(xp, n, top.bin, hp));
    const bottom = findRank(hist, k - top.before);
    return selectionFromKey((top.bin << 16) | bottom.bin, { k, below: top.before + bottom.before });
  }

  #maskWasm(
    tensors: Float32Array | readonly Float32Array[],
    selection: MagnitudeSelection,
  ): number {
    if (selection.k === 0) return 0;
    const list = tensorList(tensors);
    const key = thresholdKey(selection);
    const w = this.#arena.exports;
    this.#arena.reset();
    let largest = 0;
    for (const t of list) largest = Math.max(largest, t.length);
    const chunk = Math.min(largest, WASM_CHUNK);
    const countp = this.#arena.alloc(4);
    const xp = this.#arena.alloc(chunk * 4);
    const input = new Float32Array(this.#arena.buffer, xp, chunk);
    const count = new Int32Array(this.#arena.buffer, countp, 1);
    count[0] = 0;
    let ties = selection.ties;
    for (const t of list) {
      for (let at = 0; at < t.length; at += WASM_CHUNK) {
        const n = Math.min(WASM_CHUNK, t.length - at);
        const piece = t.subarray(at, at + n);
        input.set(piece);
        ties = w.maskBelow(xp, n, key, ties, countp);
        piece.set(input.subarray(0, n));
      }
    }
    return count[0]!;
  }
}

/** A row-major [rows, cols] copy of a matrix stored as [cols, rows]. */
function transpose<T extends Float32Array | Int8Array>(
  x: T,
  size: { readonly rows: number; readonly cols: number },
): T {
  const { rows, cols } = size;
  const out = new (x.constructor as { new (n: number): T })(x.length);
  for (let r = 0; r < rows; r++) {
    for (let c = 0; c < cols; c++) out[r * cols + c] = x[c * rows + r]!;
  }
  return out;
}

/** WASM kind codes per element width: [quantize, dequantize]. */
const KINDS: Readonly<Record<QuantType, readonly [number, number]>> = {
  int8: [0, 2],
  uint8: [1, 3],
  int16: [4, 6],
  uint16: [5, 7],
  int4: [0, 2],
  uint4: [1, 3],
  int2: [0, 2],
  uint2: [1, 3],
};

/** Two in-range codes per byte, the first in the low nibble (as pack4Bit, without its checks). */
function packNibbles(codes: Int8Array | Uint8Array): Uint8Array {
  const n = codes.length;
  const out = new Uint8Array((n + 1) >>> 1);
  const pairs = n >>> 1;
  // Fresh arrays start on 8-byte boundaries, so a 16-bit view reads two codes at once.
  const u16 = new Uint16Array(codes.buffer, codes.byteOffset, pairs);
  for (let j = 0; j < pairs; j++) {
    const v = u16[j]!;
    out[j] = (v & 0xf) | ((v >>> 4) & 0xf0);
  }
  if (n & 1) out[pairs] = codes[n - 1]! & 0xf;
  return out;
}

/** Four in-range codes per byte, the first in the lowest bits (as pack2Bit, without its checks). */
function packCrumbs(codes: Int8Array | Uint8Array): Uint8Array {
  const n = codes.length;
  const out = new Uint8Array((n + 3) >>> 2);
  const quads = n >>> 2;
  const u32 = new Uint32Array(codes.buffer, codes.byteOffset, quads);
  for (let j = 0; j < quads; j++) {
    const v = u32[j]!;
    out[j] = (v & 3) | ((v >>> 6) & 0xc) | ((v >>> 12) & 0x30) | ((v >>> 18) & 0xc0);
  }
  for (let i = quads * 4; i < n; i++) out[quads]! |= (codes[i]! & 3) << ((i & 3) << 1);
  return out;
}

interface AffineCall {
  readonly kind: number;
  readonly input: Float32Array | QuantizedArray;
  readonly output: Float32Array | QuantizedArray;
  readonly inBytes: number;
  readonly outBytes: number;
}
