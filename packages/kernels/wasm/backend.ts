/**
 * The WebAssembly (SIMD) backend. Reductions and norms (whole, per axis, per block), histograms,
 * affine quantize and dequantize (every type, per tensor, axis or block; 4- and 2-bit codes are
 * packed in TypeScript), log2 quantization, codebook encoding, magnitude selection and masking,
 * N:M masks, float32 and int8 matrix products run in WASM. Decoding (log2, codebook) stays the
 * TypeScript reference, and float16 conversion uses the engine's Float16Array where there is one.
 *
 * `alloc` hands out views of the module's memory (made resizable, so growth does not detach
 * them). The kernels read such inputs where they are instead of copying them in, and quantize and
 * dequantize write into such an `out` directly: with both in WASM memory a call copies nothing.
 * @module
 */
import type {
  AxisOptions,
  ElementArrays,
  ElementType,
  HistogramOptions,
  Kernels,
  Log2Options,
  MagnitudeSelection,
  MatmulInt8Options,
  MatmulOptions,
  NmMaskOptions,
  NormOptions,
  OutOptions,
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
import {
  checkDequantizeOut,
  checkQuantizeOut,
  type ResolvedQuantize,
  resolveQuantize,
  unpackCodes,
} from "../js/quantize.ts";
import { type ElementArray, elementStorage, HostArrays, notAllocated } from "../_alloc.ts";
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
  /** Arrays handed out by `alloc` in WASM memory, with their regions. */
  readonly #pinned = new Map<ElementArray, { at: number; bytes: number }>();
  /** Arrays handed out by `alloc` outside it (empty ones; every one without resizable memory). */
  readonly #host = new HostArrays();

  constructor(arena: WasmArena) {
    this.#arena = arena;
  }

  reduce(op: ReduceOp, x: Float32Array, options?: AxisOptions): Promise<Float32Array> {
    return defer(() => this.#reduceWasm(op, x, options));
  }

  histogram(x: Float32Array, options: HistogramOptions): Promise<Uint32Array> {
    return defer(() => this.#histogramWasm(x, options));
  }

  quantize(
    x: Float32Array,
    options: QuantizeOptions & OutOptions<QuantizedArray>,
  ): Promise<QuantizedArray> {
    return defer(() => this.#quantizeWasm(x, options));
  }

  dequantize(
    q: QuantizedArray,
    options: QuantizeOptions & OutOptions<Float32Array>,
  ): Promise<Float32Array> {
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

  alloc<T extends ElementType>(type: T, count: number): ElementArrays[T] {
    const { Class, length } = elementStorage(type, count, "allocate");
    if (length === 0 || !this.#arena.pinnable) return this.#host.alloc(type, count) as never;
    const bytes = length * Class.BYTES_PER_ELEMENT;
    const at = this.#arena.pin(bytes);
    const array = new Class(this.#arena.buffer, at, length);
    this.#pinned.set(array, { at, bytes });
    return array as ElementArrays[T];
  }

  free(array: ElementArray): void {
    const region = this.#pinned.get(array);
    if (region === undefined) return this.#host.free(array);
    this.#pinned.delete(array);
    if (!this.#arena.unpin(region.at, region.bytes)) throw notAllocated();
  }

  dispose(): void {
    this.#pinned.clear();
    this.#host.clear();
    this.#arena.clear();
  }

  /** The address of an array that lies in a pinned region of WASM memory, else undefined. */
  #resident(a: ArrayBufferView): number | undefined {
    if (a.buffer !== this.#arena.buffer) return undefined;
    return this.#arena.pinned(a.byteOffset, a.byteLength) ? a.byteOffset : undefined;
  }

  /**
   * The address of `x[at, at + n)` for a kernel: where it is when `x` lies in pinned memory
   * (`resident`), else after copying it into the scratch view `input` (at address `xp`).
   */
  #stage(
    x: Float32Array,
    piece: { readonly at: number; readonly n: number },
    place: { readonly resident: number | undefined; readonly input: Float32Array; xp: number },
  ): number {
    if (place.resident !== undefined) return place.resident + piece.at * 4;
    place.input.set(x.subarray(piece.at, piece.at + piece.n));
    return place.xp;
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
    const resident = this.#resident(x);
    const chunk = resident === undefined ? Math.min(x.length, WASM_CHUNK) : 0;
    if (view.whole) {
      const xp = this.#arena.alloc(chunk * 4);
      const place = { resident, input: new Float32Array(this.#arena.buffer, xp, chunk), xp };
      let acc = reduceIdentity(op);
      for (let at = 0; at < x.length; at += WASM_CHUNK) {
        const n = Math.min(WASM_CHUNK, x.length - at);
        const r = w.reduceWhole(code, this.#stage(x, { at, n }, place), n);
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
    const place = { resident, input: new Float32Array(buffer, xp, chunk), xp };
    const block = view.blocked ? view.blockSize : 1;
    const sO = view.blocks * view.inner;
    for (const s of segments(view, { chunk: WASM_CHUNK, block })) {
      const at = this.#stage(x, { at: s.offset, n: s.length }, place);
      if (view.blocked) {
        const k = s.o * sO + Math.floor(s.c / block) * view.inner + s.i;
        w.reduceBlocked(
          code,
          at,
          s.outer,
          s.channels,
          s.inner,
          block,
          outp + k * 8,
          sO,
          view.inner,
        );
      } else {
        w.reduceAxis(code, at, s.outer, s.channels, s.inner, outp + s.c * 8);
      }
    }
    return new Float64Array(buffer, outp, view.outputs).slice();
  }

  #histogramWasm(x: Float32Array, options: HistogramOptions): Uint32Array {
    checkHistogram(options);
    const { bins, min, max } = options;
    this.#arena.reset();
    const cp = this.#arena.alloc(bins * 4);
    const resident = this.#resident(x);
    const chunk = resident === undefined ? Math.min(x.length, WASM_CHUNK) : 0;
    const xp = this.#arena.alloc(chunk * 4);
    const counts = new Uint32Array(this.#arena.buffer, cp, bins);
    const place = { resident, input: new Float32Array(this.#arena.buffer, xp, chunk), xp };
    counts.fill(0);
    const factor = bins / (max - min);
    for (let at = 0; at < x.length; at += WASM_CHUNK) {
      const n = Math.min(WASM_CHUNK, x.length - at);
      const p = this.#stage(x, { at, n }, place);
      this.#arena.exports.histogram(p, n, bins, min, max, factor, cp);
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
    const resident = this.#resident(x);
    const chunk = Math.min(x.length, WASM_CHUNK);
    const staged = resident === undefined ? chunk : 0;
    const xp = this.#arena.alloc(staged * 4);
    const yp = this.#arena.alloc(chunk);
    const place = { resident, input: new Float32Array(this.#arena.buffer, xp, staged), xp };
    const output = new Int8Array(this.#arena.buffer, yp, chunk);
    const out = new Int8Array(x.length);
    const zeroBelow = log2ZeroBelow(eMin);
    for (let at = 0; at < x.length; at += WASM_CHUNK) {
      const n = Math.min(WASM_CHUNK, x.length - at);
      const p = this.#stage(x, { at, n }, place);
      this.#arena.exports.log2Quantize(p, yp, n, eMin, maxCode, zeroBelow);
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
    const resident = this.#resident(x);
    const staged = resident === undefined ? chunk : 0;
    const xp = this.#arena.alloc(staged * 4);
    const yp = this.#arena.alloc(chunk * (wide ? 2 : 1));
    new Float64Array(this.#arena.buffer, vp, values.length).set(values);
    new Uint16Array(this.#arena.buffer, ip, indices.length).set(indices);
    const place = { resident, input: new Float32Array(this.#arena.buffer, xp, staged), xp };
    const output = wide
      ? new Uint16Array(this.#arena.buffer, yp, chunk)
      : new Uint8Array(this.#arena.buffer, yp, chunk);
    const out = wide ? new Uint16Array(x.length) : new Uint8Array(x.length);
    for (let at = 0; at < x.length; at += WASM_CHUNK) {
      const n = Math.min(WASM_CHUNK, x.length - at);
      const p = this.#stage(x, { at, n }, place);
      this.#arena.exports.codebookEncode(p, yp, n, vp, ip, values.length, wide);
      out.set(output.subarray(0, n), at);
    }
    return out;
  }

  #nmMaskWasm(x: Float32Array, options: NmMaskOptions): Uint8Array {
    const { outer, length, inner, n, m } = nmView(x.length, options);
    if (x.length === 0) return new Uint8Array(0);
    this.#arena.reset();
    const resident = this.#resident(x);
    const xp = resident ?? this.#arena.alloc(x.length * 4);
    const yp = this.#arena.alloc(x.length);
    if (resident === undefined) new Float32Array(this.#arena.buffer, xp, x.length).set(x);
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

  #quantizeWasm(
    x: Float32Array,
    options: QuantizeOptions & OutOptions<QuantizedArray>,
  ): QuantizedArray {
    const p = resolveQuantize(x.length, options);
    checkQuantizeOut(x, options);
    const type = options.type;
    const [kind] = KINDS[type];
    const signed = type.startsWith("int");
    const out = p.bits >= 8 && options.out !== undefined
      ? options.out
      : p.bits === 16
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
    const packed = options.out as Uint8Array | undefined;
    if (p.bits === 4) return packNibbles(out as Int8Array | Uint8Array, packed);
    if (p.bits === 2) return packCrumbs(out as Int8Array | Uint8Array, packed);
    return out;
  }

  #dequantizeWasm(
    q: QuantizedArray,
    options: QuantizeOptions & OutOptions<Float32Array>,
  ): Float32Array {
    const codes = unpackCodes(q, options);
    const p = resolveQuantize(codes.length, options, { verb: "dequantize" });
    checkDequantizeOut(q, codes.length, options);
    const out = options.out ?? new Float32Array(codes.length);
    const [, kind] = KINDS[options.type];
    const inBytes = p.bits === 16 ? 2 : 1;
    this.#affineWasm(p, { kind, input: codes, output: out, inBytes, outBytes: 4 });
    return out;
  }

  /**
   * Runs the affine kernel over `call.input` into `call.output`. An array that lies in pinned
   * WASM memory is read or written where it is; any other goes through scratch in pieces of
   * {@linkcode WASM_CHUNK} elements. When both are pinned the whole tensor is one call.
   */
  #affineWasm(p: ResolvedQuantize, call: AffineCall): void {
    const w = this.#arena.exports;
    this.#arena.reset();
    const { sp, zp } = this.#loadParams(p);
    const layout = paramLayout(p.view);
    const length = call.input.length;
    const xr = this.#resident(call.input);
    const yr = this.#resident(call.output);
    const step = xr !== undefined && yr !== undefined ? Math.max(1, length) : WASM_CHUNK;
    const chunk = Math.min(length, step);
    const xp = xr === undefined ? this.#arena.alloc(chunk * call.inBytes) : 0;
    const yp = yr === undefined ? this.#arena.alloc(chunk * call.outBytes) : 0;
    // Views only after the last allocation: growth detaches a buffer that is not resizable.
    const buffer = this.#arena.buffer;
    const InView = call.input.constructor as Float32ArrayConstructor;
    const OutView = call.output.constructor as Float32ArrayConstructor;
    const input = xr === undefined ? new InView(buffer, xp, chunk) : undefined;
    const output = yr === undefined ? new OutView(buffer, yp, chunk) : undefined;
    for (const s of segments(layout, { chunk: step, block: layout.block })) {
      if (input !== undefined) input.set(call.input.subarray(s.offset, s.offset + s.length));
      const k = s.o * layout.sO + Math.floor(s.c / layout.block) * layout.sC + s.i * layout.sI;
      w.affine(
        call.kind,
        xr === undefined ? xp : xr + s.offset * call.inBytes,
        yr === undefined ? yp : yr + s.offset * call.outBytes,
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
      if (output !== undefined) call.output.set(output.subarray(0, s.length), s.offset);
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
    const places = list.map((t) => ({ resident: this.#resident(t), input, xp }));
    const pass = (run: (p: number, n: number) => void): void => {
      list.forEach((t, i) => {
        for (let at = 0; at < t.length; at += WASM_CHUNK) {
          const n = Math.min(WASM_CHUNK, t.length - at);
          run(this.#stage(t, { at, n }, places[i]!), n);
        }
      });
    };
    hist.fill(0);
    pass((p, n) => w.histHigh(p, n, hp));
    const top = findRank(hist.subarray(0, 1 << 15), k);
    hist.fill(0);
    pass((p, n) => w.histLow(p, n, top.bin, hp));
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
      // A tensor in pinned memory is masked where it is; any other goes through scratch.
      const resident = this.#resident(t);
      for (let at = 0; at < t.length; at += WASM_CHUNK) {
        const n = Math.min(WASM_CHUNK, t.length - at);
        if (resident !== undefined) {
          ties = w.maskBelow(resident + at * 4, n, key, ties, countp);
          continue;
        }
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

/**
 * Two in-range codes per byte, the first in the low nibble (as pack4Bit, without its checks),
 * into `into` when given (of the right length).
 */
function packNibbles(codes: Int8Array | Uint8Array, into?: Uint8Array): Uint8Array {
  const n = codes.length;
  const out = into ?? new Uint8Array((n + 1) >>> 1);
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

/**
 * Four in-range codes per byte, the first in the lowest bits (as pack2Bit, without its checks),
 * into `into` when given (of the right length).
 */
function packCrumbs(codes: Int8Array | Uint8Array, into?: Uint8Array): Uint8Array {
  const n = codes.length;
  const out = into ?? new Uint8Array((n + 3) >>> 2);
  const quads = n >>> 2;
  const u32 = new Uint32Array(codes.buffer, codes.byteOffset, quads);
  for (let j = 0; j < quads; j++) {
    const v = u32[j]!;
    out[j] = (v & 3) | ((v >>> 6) & 0xc) | ((v >>> 12) & 0x30) | ((v >>> 18) & 0xc0);
  }
  // A caller's array may hold anything: start the last, partial byte from zero.
  if (quads * 4 < n) out[quads] = 0;
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
