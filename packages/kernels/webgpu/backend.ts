/**
 * The WebGPU backend. min / max / absmax reductions (whole and per axis), dequantization, log2
 * quantization, magnitude selection and masking, int8 matrix products and float16 conversion run
 * as WGSL compute programs, all on integer bit patterns or correctly rounded float products so
 * that they are exact; the other kernels run on the WASM backend until they are ported. Tensors larger than the device's storage-buffer binding limit go
 * through in chunks.
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
  ReduceOp,
} from "../kernels.ts";
import { axisView } from "../_shape.ts";
import { checkReduceOp, reduceIdentity } from "../js/reduce.ts";
import {
  checkSelectCount,
  findRank,
  NAN_KEY,
  selectionFromKey,
  tensorList,
  thresholdKey,
} from "../js/select_magnitude.ts";
import { createWasmKernels } from "../wasm/backend.ts";
import { GpuContext } from "./_context.ts";
import { resolveQuantize, unpackCodes } from "../js/quantize.ts";
import { log2Params, log2ZeroBelow } from "../js/log2_quantize.ts";
import { checkInt8ZeroPoints } from "../js/matmul.ts";
import { checkMatmul } from "../_shape.ts";
import {
  dequantizeProgram,
  fromFloat16Program,
  log2QuantizeProgram,
  magnitudeHistogramProgram,
  maskProgram,
  matmulInt8Program,
  type Program,
  reduceKeysProgram,
  toFloat16Program,
  WORKGROUP,
} from "./_programs.ts";

/** Options of {@linkcode createWebGpuKernels}. */
export interface WebGpuKernelsOptions {
  /** The adapter (default: `navigator.gpu.requestAdapter()`, a software one included). */
  readonly adapter?: GPUAdapter;
  /**
   * A storage-buffer binding limit in bytes below the device's, so that tests can force
   * chunking. Default: the device's limit.
   */
  readonly maxStorageBufferBindingSize?: number;
}

/**
 * Makes the WebGPU backend on any adapter (use `createKernels` for automatic selection).
 *
 * @param options Adapter and an optional smaller binding limit.
 * @returns Kernels whose `backend` is `"webgpu"`.
 * @throws {Error} When no adapter is available.
 * @example
 * ```ts
 * import { createWebGpuKernels } from "@modelpress/kernels";
 * const k = await createWebGpuKernels();
 * await k.reduce("max", new Float32Array([1, 3, 2])); // Float32Array [3]
 * k.dispose();
 * ```
 */
export async function createWebGpuKernels(options: WebGpuKernelsOptions = {}): Promise<Kernels> {
  const gpu = await GpuContext.create(options);
  return Object.freeze(new WebGpuKernels(gpu, await createWasmKernels()));
}

/** The kernels on one GPU device; what is not ported runs on the WASM backend. */
class WebGpuKernels implements Kernels {
  readonly backend = "webgpu";
  readonly #gpu: GpuContext;
  readonly #wasm: Kernels;

  constructor(gpu: GpuContext, wasm: Kernels) {
    this.#gpu = gpu;
    this.#wasm = wasm;
  }

  reduce(op: ReduceOp, x: Float32Array, options?: AxisOptions): Promise<Float32Array> {
    if (op === "sum" || op === "sumsq" || options?.blockSize !== undefined) {
      return this.#wasm.reduce(op, x, options);
    }
    return this.#reduceGpu(op, x, options);
  }

  histogram(x: Float32Array, options: HistogramOptions): Promise<Uint32Array> {
    return this.#wasm.histogram(x, options);
  }

  quantize(x: Float32Array, options: QuantizeOptions): Promise<QuantizedArray> {
    return this.#wasm.quantize(x, options);
  }

  dequantize(q: QuantizedArray, options: QuantizeOptions): Promise<Float32Array> {
    if (!gpuCanDequantize(options)) return this.#wasm.dequantize(q, options);
    return this.#dequantizeGpu(q, options);
  }

  log2Quantize(x: Float32Array, options: Log2Options): Promise<Int8Array> {
    return this.#log2QuantizeGpu(x, options);
  }

  log2Dequantize(codes: Int8Array, options: Log2Options): Promise<Float32Array> {
    return this.#wasm.log2Dequantize(codes, options);
  }

  codebookEncode(x: Float32Array, codebook: Float32Array): Promise<Uint8Array | Uint16Array> {
    return this.#wasm.codebookEncode(x, codebook);
  }

  codebookDecode(indices: Uint8Array | Uint16Array, codebook: Float32Array): Promise<Float32Array> {
    return this.#wasm.codebookDecode(indices, codebook);
  }

  selectMagnitude(
    tensors: Float32Array | readonly Float32Array[],
    k: number,
  ): Promise<MagnitudeSelection> {
    return this.#selectGpu(tensors, k);
  }

  maskSmallest(
    tensors: Float32Array | readonly Float32Array[],
    selection: MagnitudeSelection,
  ): Promise<number> {
    return this.#maskGpu(tensors, selection);
  }

  nmMask(x: Float32Array, options: NmMaskOptions): Promise<Uint8Array> {
    return this.#wasm.nmMask(x, options);
  }

  norm(x: Float32Array, options: NormOptions): Promise<Float32Array> {
    return this.#wasm.norm(x, options);
  }

  matmul(a: Float32Array, b: Float32Array, options: MatmulOptions): Promise<Float32Array> {
    return this.#wasm.matmul(a, b, options);
  }

  matmulInt8(a: Int8Array, b: Int8Array, options: MatmulInt8Options): Promise<Int32Array> {
    if (!this.#gpuCanMatmul({ a: a.length, b: b.length }, options)) {
      return this.#wasm.matmulInt8(a, b, options);
    }
    return this.#matmulInt8Gpu(a, b, options);
  }

  toFloat16(x: Float32Array): Promise<Uint16Array> {
    return this.#toFloat16Gpu(x);
  }

  fromFloat16(bits: Uint16Array): Promise<Float32Array> {
    return this.#fromFloat16Gpu(bits);
  }

  dispose(): void {
    this.#wasm.dispose();
    this.#gpu.destroy();
  }

  async #reduceGpu(
    op: ReduceOp,
    x: Float32Array,
    options: AxisOptions = {},
  ): Promise<Float32Array> {
    checkReduceOp(op);
    const view = axisView(x.length, { ...options, verb: "reduce" });
    if (view.blocked || (op !== "min" && op !== "max" && op !== "absmax")) {
      throw new TypeError(`Cannot reduce tensor on webgpu: '${op}' here is not ported`);
    }
    const outputs = view.outputs;
    const out = new Float32Array(outputs).fill(reduceIdentity(op));
    if (x.length === 0) return out;
    const program = reduceKeysProgram(op);
    const init = new Uint32Array(outputs).fill(op === "min" ? 0xffffffff : 0);
    const keys = this.#gpu.storage(outputs * 4, init);
    const nans = this.#gpu.storage(outputs * 4, new Uint32Array(outputs));
    const chunk = this.#gpu.storage(Math.min(x.length, this.#gpu.chunk) * 4);
    const inner = view.whole ? x.length : view.inner;
    const channels = view.whole ? 1 : view.channels;
    const uniforms: GPUBuffer[] = [];
    try {
      for (let at = 0; at < x.length; at += this.#gpu.chunk) {
        const n = Math.min(this.#gpu.chunk, x.length - at);
        this.#gpu.write(chunk, bits(x, { from: at, to: at + n }));
        const params = this.#gpu.uniform([n, at, inner, channels]);
        uniforms.push(params);
        this.#gpu.dispatch(program, { buffers: [chunk, keys, nans, params], invocations: n });
      }
      const k = new Uint32Array(await this.#gpu.read(keys, outputs * 4));
      const nan = new Uint32Array(await this.#gpu.read(nans, outputs * 4));
      for (let j = 0; j < outputs; j++) {
        // Outputs that saw no element keep the identity (the initial key would decode to NaN).
        if (nan[j] !== 0) out[j] = NaN;
        else if (k[j] !== (op === "min" ? 0xffffffff : 0) || op === "absmax") {
          out[j] = decodeKey(op, k[j]!);
        }
      }
      return out;
    } finally {
      for (const b of [keys, nans, chunk, ...uniforms]) b.destroy();
    }
  }

  /** Runs one histogram pass over every tensor, chunk by chunk, into `hist`. */
  #histogramPass(list: readonly Float32Array[], pass: HistogramPass): void {
    const { buffers } = pass;
    const program = magnitudeHistogramProgram(pass.which);
    for (const t of list) {
      for (let at = 0; at < t.length; at += this.#gpu.chunk) {
        const n = Math.min(this.#gpu.chunk, t.length - at);
        this.#gpu.write(buffers.chunk, bits(t, { from: at, to: at + n }));
        const params = this.#gpu.uniform([n, pass.high]);
        buffers.uniforms.push(params);
        this.#gpu.dispatch(program, {
          buffers: [buffers.chunk, buffers.hist, params],
          invocations: n,
        });
      }
    }
  }

  async #selectGpu(
    tensors: Float32Array | readonly Float32Array[],
    k: number,
  ): Promise<MagnitudeSelection> {
    const list = tensorList(tensors);
    let total = 0;
    let largest = 0;
    for (const t of list) {
      total += t.length;
      largest = Math.max(largest, t.length);
    }
    checkSelectCount(total, k);
    if (k === 0) return { k: 0, threshold: 0, below: 0, ties: 0 };
    const hist = this.#gpu.storage(4 << 16, new Uint32Array(1 << 16));
    const chunk = this.#gpu.storage(Math.min(largest, this.#gpu.chunk) * 4);
    const uniforms: GPUBuffer[] = [];
    const buffers = { hist, chunk, uniforms };
    try {
      this.#histogramPass(list, { buffers, which: "high", high: 0 });
      const high = new Uint32Array(await this.#gpu.read(hist, 4 << 15));
      const top = findRank(high, k);
      this.#gpu.write(hist, new Uint32Array(1 << 16));
      this.#histogramPass(list, { buffers, which: "low", high: top.bin });
      const low = new Uint32Array(await this.#gpu.read(hist, 4 << 16));
      const bottom = findRank(low, k - top.before);
      return selectionFromKey((top.bin << 16) | bottom.bin, {
        k,
        below: top.before + bottom.before,
      });
    } finally {
      for (const b of [hist, chunk, ...uniforms]) b.destroy();
    }
  }

  async #maskGpu(
    tensors: Float32Array | readonly Float32Array[],
    selection: MagnitudeSelection,
  ): Promise<number> {
    if (selection.k === 0) return 0;
    const list = tensorList(tensors);
    const threshold = thresholdKey(selection);
    let largest = 0;
    for (const t of list) largest = Math.max(largest, t.length);
    const chunk = this.#gpu.storage(Math.min(largest, this.#gpu.chunk) * 4);
    const groups = Math.ceil(Math.min(largest, this.#gpu.chunk) / WORKGROUP);
    const counts = this.#gpu.storage(groups * 4);
    const zeroed = this.#gpu.storage(4, new Uint32Array(1));
    const uniforms: GPUBuffer[] = [];
    let ties = selection.ties;
    try {
      for (const t of list) {
        for (let at = 0; at < t.length; at += this.#gpu.chunk) {
          const n = Math.min(this.#gpu.chunk, t.length - at);
          const piece = t.subarray(at, at + n);
          this.#gpu.write(chunk, bits(t, { from: at, to: at + n }));
          // Where the ties to take end in this chunk: from the per-workgroup counts, then a scan
          // of one workgroup's elements on the CPU.
          let cut = -1;
          if (ties > 0) {
            this.#gpu.write(counts, new Uint32Array(groups));
            const countParams = this.#gpu.uniform([n, threshold, 0]);
            uniforms.push(countParams);
            this.#gpu.dispatch(maskProgram("count"), {
              buffers: [chunk, counts, countParams],
              invocations: n,
            });
            const c = new Uint32Array(await this.#gpu.read(counts, groups * 4));
            cut = n - 1;
            for (let g = 0; g * WORKGROUP < n; g++) {
              if (c[g]! < ties) {
                ties -= c[g]!;
                continue;
              }
              for (let i = g * WORKGROUP; i < n; i++) {
                if (magnitudeKey(piece[i]!) === threshold && --ties === 0) {
                  cut = i;
                  break;
                }
              }
              break;
            }
          }
          const params = this.#gpu.uniform([n, threshold, cut]);
          uniforms.push(params);
          this.#gpu.dispatch(maskProgram("mask"), {
            buffers: [chunk, zeroed, params],
            invocations: n,
          });
          piece.set(new Float32Array(await this.#gpu.read(chunk, n * 4)));
        }
      }
      return new Uint32Array(await this.#gpu.read(zeroed, 4))[0]!;
    } finally {
      for (const b of [chunk, counts, zeroed, ...uniforms]) b.destroy();
    }
  }

  async #dequantizeGpu(q: QuantizedArray, options: QuantizeOptions): Promise<Float32Array> {
    const codes = unpackCodes(q, options);
    const p = resolveQuantize(codes.length, options, { verb: "dequantize" });
    const out = new Float32Array(codes.length);
    if (codes.length === 0) return out;
    const bits = p.bits === 16 ? 16 : 8;
    const program = dequantizeProgram(bits, p.min < 0);
    const { view } = p;
    const mode = view.whole ? 0 : view.blocked ? 2 : 1;
    const scales = this.#gpu.storage(p.scale.byteLength, p.scale);
    const zeros = this.#gpu.storage(p.zeroPoint.byteLength, p.zeroPoint);
    const chunk = Math.min(codes.length, this.#gpu.chunk);
    const input = this.#gpu.storage((chunk * bits) / 8);
    const output = this.#gpu.storage(chunk * 4);
    const uniforms: GPUBuffer[] = [];
    const bytes = new Uint8Array(codes.buffer, codes.byteOffset, codes.byteLength);
    // One map for the whole result when it fits one buffer, else one per chunk.
    const collector = codes.length * 4 <= this.#gpu.maxBufferSize
      ? this.#gpu.collector(codes.length * 4)
      : undefined;
    try {
      for (let at = 0; at < codes.length; at += this.#gpu.chunk) {
        const n = Math.min(this.#gpu.chunk, codes.length - at);
        this.#gpu.write(input, bytes.subarray((at * bits) / 8, ((at + n) * bits) / 8));
        const params = this.#gpu.uniform([
          n,
          at,
          view.whole ? codes.length : view.inner,
          view.whole ? 1 : view.channels,
          view.blocks,
          view.blockSize,
          mode,
        ]);
        uniforms.push(params);
        this.#gpu.dispatch(program, {
          buffers: [input, output, scales, zeros, params],
          invocations: n,
        });
        if (collector === undefined) {
          out.set(new Float32Array(await this.#gpu.read(output, n * 4)), at);
        } else collector.copy(output, { at: at * 4, length: n * 4 });
      }
      if (collector !== undefined) out.set(new Float32Array(await collector.finish()));
      return out;
    } finally {
      collector?.destroy();
      for (const b of [scales, zeros, input, output, ...uniforms]) b.destroy();
    }
  }

  /** Runs an elementwise program over chunks and returns the output bytes (padded to 4). */
  async #elementwise(pass: ElementwisePass): Promise<ArrayBuffer> {
    const { count, inBytes, outBytes } = pass;
    const bytes = new Uint8Array(pass.input.buffer, pass.input.byteOffset, pass.input.byteLength);
    const chunk = Math.min(count, this.#gpu.chunk);
    const input = this.#gpu.storage(chunk * inBytes);
    const output = this.#gpu.storage(chunk * outBytes);
    const total = count * outBytes;
    const collector = total <= this.#gpu.maxBufferSize ? this.#gpu.collector(total) : undefined;
    const result = new Uint8Array(Math.ceil(total / 4) * 4);
    const uniforms: GPUBuffer[] = [];
    try {
      for (let at = 0; at < count; at += this.#gpu.chunk) {
        const n = Math.min(this.#gpu.chunk, count - at);
        this.#gpu.write(input, bytes.subarray(at * inBytes, (at + n) * inBytes));
        const params = this.#gpu.uniform([n, ...(pass.params ?? [])]);
        uniforms.push(params);
        this.#gpu.dispatch(pass.program, {
          buffers: [input, output, params],
          invocations: Math.ceil(n / pass.perInvocation),
        });
        if (collector !== undefined) {
          collector.copy(output, { at: at * outBytes, length: n * outBytes });
        } else {result.set(
            new Uint8Array(await this.#gpu.read(output, n * outBytes)),
            at * outBytes,
          );}
      }
      if (collector !== undefined) result.set(new Uint8Array(await collector.finish()));
      return result.buffer;
    } finally {
      collector?.destroy();
      for (const b of [input, output, ...uniforms]) b.destroy();
    }
  }

  async #log2QuantizeGpu(x: Float32Array, options: Log2Options): Promise<Int8Array> {
    const { eMin, maxCode } = log2Params(options);
    if (x.length === 0) return new Int8Array(0);
    const out = await this.#elementwise({
      program: log2QuantizeProgram(),
      input: x,
      count: x.length,
      inBytes: 4,
      outBytes: 1,
      perInvocation: 4,
      params: [eMin, maxCode, log2ZeroBelow(eMin)],
    });
    return new Int8Array(out, 0, x.length);
  }

  async #toFloat16Gpu(x: Float32Array): Promise<Uint16Array> {
    if (x.length === 0) return new Uint16Array(0);
    const out = await this.#elementwise({
      program: toFloat16Program(),
      input: x,
      count: x.length,
      inBytes: 4,
      outBytes: 2,
      perInvocation: 2,
    });
    return new Uint16Array(out, 0, x.length);
  }

  async #fromFloat16Gpu(bits: Uint16Array): Promise<Float32Array> {
    if (bits.length === 0) return new Float32Array(0);
    const out = await this.#elementwise({
      program: fromFloat16Program(),
      input: bits,
      count: bits.length,
      inBytes: 2,
      outBytes: 4,
      perInvocation: 1,
    });
    return new Float32Array(out, 0, bits.length);
  }

  /** Whether an int8 product fits one dispatch (else the WASM backend runs it). */
  #gpuCanMatmul(
    lengths: { readonly a: number; readonly b: number },
    options: MatmulOptions,
  ): boolean {
    const bytes = this.#gpu.chunk * 4;
    const outputs = options.m * options.n;
    return lengths.a <= bytes && lengths.b <= bytes && outputs <= this.#gpu.chunk && outputs > 0;
  }

  async #matmulInt8Gpu(
    a: Int8Array,
    b: Int8Array,
    options: MatmulInt8Options,
  ): Promise<Int32Array> {
    checkMatmul({ a: a.length, b: b.length }, options);
    const { m, k, n } = options;
    const za = options.aZeroPoint ?? 0;
    const zb = options.bZeroPoint ?? 0;
    checkInt8ZeroPoints(za, zb);
    const aa = options.transposeA === true ? transposeInt8(a, { rows: m, cols: k }) : a;
    const bb = options.transposeB === true ? transposeInt8(b, { rows: k, cols: n }) : b;
    const ab = this.#gpu.storage(aa.length, aa);
    const bbuf = this.#gpu.storage(bb.length, bb);
    const c = this.#gpu.storage(m * n * 4, new Int32Array(m * n));
    const uniforms: GPUBuffer[] = [];
    try {
      for (let k0 = 0; k0 < k; k0 += MATMUL_SLICE) {
        const params = this.#gpu.uniform([m, k, n, za, zb, k0, Math.min(k, k0 + MATMUL_SLICE)]);
        uniforms.push(params);
        this.#gpu.dispatch(matmulInt8Program(), {
          buffers: [ab, bbuf, c, params],
          invocations: m * n,
        });
      }
      return new Int32Array(await this.#gpu.read(c, m * n * 4));
    } finally {
      for (const buffer of [ab, bbuf, c, ...uniforms]) buffer.destroy();
    }
  }
}

/** The float bits of x[from, to). */
function bits(x: Float32Array, range: { readonly from: number; readonly to: number }): Uint32Array {
  const piece = x.subarray(range.from, range.to);
  return new Uint32Array(piece.buffer, piece.byteOffset, piece.length);
}

function decodeKey(op: "min" | "max" | "absmax", key: number): number {
  const b = op === "absmax" ? key : (key & 0x80000000) !== 0 ? key ^ 0x80000000 : ~key >>> 0;
  return new Float32Array(new Uint32Array([b]).buffer)[0]!;
}

function magnitudeKey(v: number): number {
  return Math.min(new Uint32Array(new Float32Array([v]).buffer)[0]! & 0x7fffffff, NAN_KEY);
}

/** The smallest normal float32: GPUs may flush subnormal products to zero. */
const MIN_NORMAL = 2 ** -126;
/** Scales above this could overflow with 16-bit codes, which WGSL leaves indeterminate. */
const MAX_SAFE_SCALE = 3.4e38 / 131072;

/** Whether the GPU result is certain to equal the reference; otherwise WASM runs it. */
function gpuCanDequantize(options: QuantizeOptions): boolean {
  for (const s of options.scale) if (!(s >= MIN_NORMAL && s <= MAX_SAFE_SCALE)) return false;
  return true;
}

/** One histogram pass of the magnitude select, and the buffers it works in. */
interface HistogramPass {
  readonly buffers: {
    readonly hist: GPUBuffer;
    readonly chunk: GPUBuffer;
    readonly uniforms: GPUBuffer[];
  };
  readonly which: "high" | "low";
  readonly high: number;
}

/** One elementwise pass: input bytes per element, output bytes per element, and the program. */
interface ElementwisePass {
  readonly program: Program;
  readonly input: ArrayBufferView;
  readonly count: number;
  readonly inBytes: number;
  readonly outBytes: number;
  /** Elements each invocation handles (its outputs fill whole u32 words). */
  readonly perInvocation: number;
  /** Uniform words after the chunk's element count. */
  readonly params?: readonly number[];
}

/** Products summed per dispatch: llvmpipe stops loops at 65535 iterations. */
const MATMUL_SLICE = 8192;

/** A row-major [rows, cols] copy of a matrix stored as [cols, rows]. */
function transposeInt8(
  x: Int8Array,
  size: { readonly rows: number; readonly cols: number },
): Int8Array {
  const { rows, cols } = size;
  const out = new Int8Array(x.length);
  for (let r = 0; r < rows; r++) {
    for (let c = 0; c < cols; c++) out[r * cols + c] = x[c * rows + r]!;
  }
  return out;
}
