/**
 * The WebGPU backend: every kernel is a WGSL compute program (see `_programs.ts`). Integer
 * results are exact: quantization divides and dequantization multiplies in integer arithmetic,
 * histogram bins and nearest codes are found by comparing ordered u32 keys with edges computed
 * from the reference's own rule, min / max / absmax / selection / masks work on float bits.
 * Float sums, norms and matrix products accumulate in float32 (WebGPU has no float64): terms
 * scaled by powers of two so nothing over- or underflows, summed pairwise in runs of at most
 * 1024, runs added in float64 on the host; the tolerance is documented in the conformance suite.
 * Tensors larger than the device's storage-buffer binding limit go through in chunks (and
 * parameter tables, bin edges, codebooks and matrix tiles in windows). The one case still handed
 * to the WASM backend: N:M masks whose group length m exceeds one binding.
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
import { gather, paramTable } from "./_param_table.ts";
import { type AxisView, axisView, subject } from "../_shape.ts";
import { runChunks } from "./_runs.ts";
import { checkNormOrder } from "../js/norm.ts";
import { checkHistogram } from "../js/histogram.ts";
import { codebookEdges, histogramEdges } from "./_edges.ts";
import { sortCodebook } from "../js/codebook.ts";
import { nmView } from "../js/nm_mask.ts";
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
import {
  checkDequantizeOut,
  checkQuantizeOut,
  type ResolvedQuantize,
  resolveQuantize,
} from "../js/quantize.ts";
import { type ElementArray, HostArrays } from "../_alloc.ts";
import { quantRange } from "../quant_range.ts";
import { log2Params, log2ZeroBelow } from "../js/log2_quantize.ts";
import { checkInt8ZeroPoints } from "../js/matmul.ts";
import { checkMatmul } from "../_shape.ts";
import {
  codebookDecodeProgram,
  codebookEncodeProgram,
  dequantizeProgram,
  fromFloat16Program,
  histogramProgram,
  log2DequantizeProgram,
  log2QuantizeProgram,
  magnitudeHistogramProgram,
  maskProgram,
  matmulTileProgram,
  nmMaskProgram,
  type Program,
  quantizeProgram,
  reduceKeysProgram,
  reduceRunsProgram,
  type RunOp,
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

/** The kernels on one GPU device (WASM only for N:M groups longer than a binding). */
class WebGpuKernels implements Kernels {
  readonly backend = "webgpu";
  readonly #gpu: GpuContext;
  readonly #wasm: Kernels;
  readonly #host = new HostArrays();

  constructor(gpu: GpuContext, wasm: Kernels) {
    this.#gpu = gpu;
    this.#wasm = wasm;
  }

  async reduce(op: ReduceOp, x: Float32Array, options?: AxisOptions): Promise<Float32Array> {
    checkReduceOp(op);
    const outputs = axisView(x.length, { ...options, verb: "reduce" }).outputs;
    // The atomic key reduction keeps one key per output on the GPU: only while they fit a binding.
    if (
      op === "sum" || op === "sumsq" || options?.blockSize !== undefined ||
      outputs > this.#gpu.chunk
    ) {
      return await this.#reduceByRuns(op, x, options);
    }
    return await this.#reduceGpu(op, x, options);
  }

  async histogram(x: Float32Array, options: HistogramOptions): Promise<Uint32Array> {
    checkHistogram(options);
    const { bins } = options;
    const counts = new Uint32Array(bins);
    if (x.length === 0) return counts;
    const edges = histogramEdges(options);
    // Windows of bins that fit a binding, each a pass over the data.
    const width = Math.min(bins, this.#gpu.chunk);
    const cap = Math.min(x.length, this.#gpu.chunk);
    const chunk = this.#gpu.storage(cap * 4);
    const edgeBuffer = this.#gpu.storage(width * 4);
    const countBuffer = this.#gpu.storage(width * 4);
    const uniforms: GPUBuffer[] = [];
    try {
      for (let b0 = 0; b0 < bins; b0 += width) {
        const w = Math.min(width, bins - b0);
        this.#gpu.write(edgeBuffer, edges.subarray(b0, b0 + w));
        this.#gpu.write(countBuffer, new Uint32Array(w));
        for (let at = 0; at < x.length; at += this.#gpu.chunk) {
          const n = Math.min(this.#gpu.chunk, x.length - at);
          this.#gpu.write(chunk, bits(x, { from: at, to: at + n }));
          const params = this.#gpu.uniform([n, w, edges[b0 + w]!]);
          uniforms.push(params);
          this.#gpu.dispatch(histogramProgram(), {
            buffers: [chunk, edgeBuffer, countBuffer, params],
            invocations: n,
          });
        }
        counts.set(new Uint32Array(await this.#gpu.read(countBuffer, w * 4)), b0);
      }
      return counts;
    } finally {
      for (const b of [chunk, edgeBuffer, countBuffer, ...uniforms]) b.destroy();
    }
  }

  quantize(
    x: Float32Array,
    options: QuantizeOptions & OutOptions<QuantizedArray>,
  ): Promise<QuantizedArray> {
    return this.#quantizeGpu(x, options);
  }

  dequantize(
    q: QuantizedArray,
    options: QuantizeOptions & OutOptions<Float32Array>,
  ): Promise<Float32Array> {
    return this.#dequantizeGpu(q, options);
  }

  log2Quantize(x: Float32Array, options: Log2Options): Promise<Int8Array> {
    return this.#log2QuantizeGpu(x, options);
  }

  async log2Dequantize(codes: Int8Array, options: Log2Options): Promise<Float32Array> {
    const { eMin, maxCode } = log2Params(options);
    const out = new Float32Array(codes.length);
    if (codes.length === 0) return out;
    const bad = await this.#decode(codes, out, {
      windows: [{ data: undefined, lo: 0 }],
      program: () => log2DequantizeProgram(),
      params: (at, n) => [n, at, eMin, maxCode],
    });
    if (bad !== undefined) {
      throw new RangeError(
        `Cannot log2-dequantize tensor: code ${codes[bad]} at ${bad} exceeds ${maxCode}`,
      );
    }
    return out;
  }

  async codebookEncode(
    x: Float32Array,
    codebook: Float32Array,
  ): Promise<Uint8Array | Uint16Array> {
    const sorted = sortCodebook(codebook);
    const out = codebook.length <= 256 ? new Uint8Array(x.length) : new Uint16Array(x.length);
    if (x.length === 0) return out;
    const edges = codebookEdges(sorted);
    const codes = Uint32Array.from(sorted.indices);
    const positions = codes.length;
    // Windows of sorted positions that fit a binding.
    const width = Math.min(positions, this.#gpu.chunk);
    const cap = Math.min(x.length, this.#gpu.chunk);
    const chunk = this.#gpu.storage(cap * 4);
    const result = this.#gpu.storage(cap * 4);
    const edgeBuffer = this.#gpu.storage(width * 4);
    const codeBuffer = this.#gpu.storage(width * 4);
    const uniforms: GPUBuffer[] = [];
    try {
      for (let at = 0; at < x.length; at += this.#gpu.chunk) {
        const n = Math.min(this.#gpu.chunk, x.length - at);
        this.#gpu.write(chunk, bits(x, { from: at, to: at + n }));
        this.#gpu.write(result, new Uint32Array(n));
        for (let p0 = 0; p0 < positions; p0 += width) {
          const w = Math.min(width, positions - p0);
          if (at === 0 || width < positions) {
            this.#gpu.write(edgeBuffer, edges.subarray(p0, p0 + w));
            this.#gpu.write(codeBuffer, codes.subarray(p0, p0 + w));
          }
          const params = this.#gpu.uniform([n, w, edges[p0 + w]!]);
          uniforms.push(params);
          this.#gpu.dispatch(codebookEncodeProgram(), {
            buffers: [chunk, edgeBuffer, codeBuffer, result, params],
            invocations: n,
          });
        }
        out.set(new Uint32Array(await this.#gpu.read(result, n * 4)), at);
      }
      return out;
    } finally {
      for (const b of [chunk, result, edgeBuffer, codeBuffer, ...uniforms]) b.destroy();
    }
  }

  async codebookDecode(
    indices: Uint8Array | Uint16Array,
    codebook: Float32Array,
  ): Promise<Float32Array> {
    const out = new Float32Array(indices.length);
    if (indices.length === 0) return out;
    const book = new Uint32Array(codebook.buffer, codebook.byteOffset, codebook.length);
    const width = Math.max(1, Math.min(book.length, this.#gpu.chunk));
    const windows: { data: Uint32Array | undefined; lo: number }[] = [];
    for (let lo = 0; lo < book.length || lo === 0; lo += width) {
      windows.push({ data: book.subarray(lo, lo + width), lo });
    }
    const wide = indices instanceof Uint16Array ? 16 : 8;
    const bad = await this.#decode(indices, out, {
      windows,
      program: () => codebookDecodeProgram(wide),
      params: (at, n, window) => [n, at, window.lo, window.data?.length ?? 0, book.length],
    });
    if (bad !== undefined) {
      throw new RangeError(
        `Cannot decode with codebook: index ${
          indices[bad]
        } at ${bad} is not below ${codebook.length}`,
      );
    }
    return out;
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

  async nmMask(x: Float32Array, options: NmMaskOptions): Promise<Uint8Array> {
    const { outer, length, inner, n: keep, m } = nmView(x.length, options);
    const out = new Uint8Array(x.length);
    if (x.length === 0) return out;
    if (m > this.#gpu.chunk) return this.#wasm.nmMask(x, options);
    const slab = m * inner;
    const cap = Math.min(x.length, this.#gpu.chunk);
    const chunk = this.#gpu.storage(cap * 4);
    const result = this.#gpu.storage(cap * 4);
    const uniforms: GPUBuffer[] = [];
    const run = async (piece: Uint32Array, strideInner: number): Promise<Uint32Array> => {
      this.#gpu.write(chunk, piece);
      const params = this.#gpu.uniform([piece.length, m, strideInner, keep]);
      uniforms.push(params);
      this.#gpu.dispatch(nmMaskProgram(), {
        buffers: [chunk, result, params],
        invocations: piece.length,
      });
      return new Uint32Array(await this.#gpu.read(result, piece.length * 4));
    };
    try {
      const u = new Uint32Array(x.buffer, x.byteOffset, x.length);
      if (slab <= cap) {
        // Chunks of whole group slabs, as they lie.
        const step = Math.floor(cap / slab) * slab;
        for (let at = 0; at < x.length; at += step) {
          out.set(await run(u.subarray(at, Math.min(x.length, at + step)), inner), at);
        }
        return out;
      }
      // A slab is wider than a binding: gather groups into contiguous runs of m, then scatter.
      const perChunk = Math.floor(cap / m);
      const starts: number[] = [];
      for (let o = 0; o < outer; o++) {
        for (let g = 0; g < length; g += m) {
          for (let i = 0; i < inner; i++) starts.push((o * length + g) * inner + i);
        }
      }
      for (let s0 = 0; s0 < starts.length; s0 += perChunk) {
        const group = starts.slice(s0, s0 + perChunk);
        const piece = new Uint32Array(group.length * m);
        group.forEach((base, t) => {
          for (let j = 0; j < m; j++) piece[t * m + j] = u[base + j * inner]!;
        });
        const mask = await run(piece, 1);
        group.forEach((base, t) => {
          for (let j = 0; j < m; j++) out[base + j * inner] = mask[t * m + j]!;
        });
      }
      return out;
    } finally {
      for (const b of [chunk, result, ...uniforms]) b.destroy();
    }
  }

  async norm(x: Float32Array, options: NormOptions): Promise<Float32Array> {
    checkNormOrder(options.ord);
    const { ord, ...axis } = options;
    if (ord === 1) return this.#reduceByRuns("sumabs", x, axis);
    const view = axisView(x.length, { ...axis, verb: "reduce" });
    const { values, flags } = await this.#sumRuns("sumsq", x, view);
    return Float32Array.from(values, (v, j) => finishSum(Math.sqrt(v), flags[j]!));
  }

  async matmul(a: Float32Array, b: Float32Array, options: MatmulOptions): Promise<Float32Array> {
    checkMatmul({ a: a.length, b: b.length }, options);
    const { m, k, n } = options;
    const values = new Float64Array(m * n);
    const flags = new Uint8Array(m * n);
    const f32 = new Float32Array(1);
    const u32 = new Uint32Array(f32.buffer);
    await this.#matmulTiles("f32", {
      a: options.transposeA === true ? transpose(a, { rows: m, cols: k }) : a,
      b: options.transposeB === true ? transpose(b, { rows: k, cols: n }) : b,
      sizes: { m, k, n },
      zeroPoints: [0, 0],
      take: (at, words) => {
        u32[0] = words[0]!;
        values[at]! += f32[0]! * 2 ** -((words[1]! & 0xffff) - 1024);
        flags[at]! |= words[1]! >>> 16;
      },
    });
    return Float32Array.from(values, (v, j) => finishSum(v, flags[j]!));
  }

  async matmulInt8(a: Int8Array, b: Int8Array, options: MatmulInt8Options): Promise<Int32Array> {
    checkMatmul({ a: a.length, b: b.length }, options);
    const { m, k, n } = options;
    const za = options.aZeroPoint ?? 0;
    const zb = options.bZeroPoint ?? 0;
    checkInt8ZeroPoints(za, zb);
    const out = new Int32Array(m * n);
    await this.#matmulTiles("int8", {
      a: options.transposeA === true ? transpose(a, { rows: m, cols: k }) : a,
      b: options.transposeB === true ? transpose(b, { rows: k, cols: n }) : b,
      sizes: { m, k, n },
      zeroPoints: [za, zb],
      take: (at, words) => {
        out[at] = (out[at]! + words[0]!) | 0;
      },
    });
    return out;
  }

  /**
   * Runs a matrix product in tiles that fit a binding: [rows, ks] of A times [ks, cols] of B per
   * dispatch; `take` gets each output's two words per k-slice (the host adds the slices).
   */
  async #matmulTiles(kind: "f32" | "int8", product: MatmulTiles): Promise<void> {
    const { a, b, sizes: { m, k, n } } = product;
    if (m * n === 0 || k === 0) return;
    const width = kind === "f32" ? 4 : 1;
    const room = (this.#gpu.chunk * 4) / width;
    const ks = Math.min(k, MATMUL_SLICE, room);
    let rows = Math.max(1, Math.min(m, Math.floor(room / ks)));
    let cols = Math.max(1, Math.min(n, Math.floor(room / ks)));
    while (rows * cols * 2 > this.#gpu.chunk) {
      if (rows >= cols) rows = Math.ceil(rows / 2);
      else cols = Math.ceil(cols / 2);
    }
    const Tile = kind === "f32" ? Float32Array : Int8Array;
    const aBuffer = this.#gpu.storage(rows * ks * width);
    const bBuffer = this.#gpu.storage(ks * cols * width);
    const results = this.#gpu.storage(rows * cols * 8);
    const uniforms: GPUBuffer[] = [];
    try {
      for (let i0 = 0; i0 < m; i0 += rows) {
        const r = Math.min(rows, m - i0);
        for (let p0 = 0; p0 < k; p0 += ks) {
          const s = Math.min(ks, k - p0);
          const aTile = new Tile(r * s);
          for (let i = 0; i < r; i++) {
            aTile.set(a.subarray((i0 + i) * k + p0, (i0 + i) * k + p0 + s), i * s);
          }
          this.#gpu.write(aBuffer, aTile);
          for (let j0 = 0; j0 < n; j0 += cols) {
            const c = Math.min(cols, n - j0);
            const bTile = new Tile(s * c);
            for (let q = 0; q < s; q++) {
              bTile.set(b.subarray((p0 + q) * n + j0, (p0 + q) * n + j0 + c), q * c);
            }
            this.#gpu.write(bBuffer, bTile);
            const [za, zb] = product.zeroPoints;
            const params = this.#gpu.uniform([r, c, s, za, zb]);
            uniforms.push(params);
            this.#gpu.dispatch(matmulTileProgram(kind), {
              buffers: [aBuffer, bBuffer, results, params],
              invocations: r * c,
            });
            const words = new Uint32Array(await this.#gpu.read(results, r * c * 8));
            for (let i = 0; i < r; i++) {
              for (let j = 0; j < c; j++) {
                const t = i * c + j;
                product.take((i0 + i) * n + j0 + j, words.subarray(2 * t, 2 * t + 2));
              }
            }
          }
        }
      }
    } finally {
      for (const buffer of [aBuffer, bBuffer, results, ...uniforms]) buffer.destroy();
    }
  }

  toFloat16(x: Float32Array): Promise<Uint16Array> {
    return this.#toFloat16Gpu(x);
  }

  fromFloat16(bits: Uint16Array): Promise<Float32Array> {
    return this.#fromFloat16Gpu(bits);
  }

  /** Ordinary arrays: every input is copied to the device anyway. */
  alloc<T extends ElementType>(type: T, count: number): ElementArrays[T] {
    return this.#host.alloc(type, count) as ElementArrays[T];
  }

  free(array: ElementArray): void {
    this.#host.free(array);
  }

  dispose(): void {
    this.#host.clear();
    this.#wasm.dispose();
    this.#gpu.destroy();
  }

  /** Sums (float32 pairwise on the GPU, runs added in float64) and blocked min / max / absmax. */
  async #reduceByRuns(
    op: RunOp,
    x: Float32Array,
    options: AxisOptions = {},
  ): Promise<Float32Array> {
    const view = axisView(x.length, { ...options, verb: "reduce" });
    if (op === "min" || op === "max" || op === "absmax") {
      const out = new Float32Array(view.outputs).fill(reduceIdentity(op));
      const identity = op === "min" ? 0xffffffff : 0;
      const keys = new Uint32Array(view.outputs).fill(identity);
      const nans = new Uint8Array(view.outputs);
      const seen = new Uint8Array(view.outputs);
      await this.#runs(op, x, view, (output, words) => {
        const key = words[0]!;
        keys[output] = op === "min" ? Math.min(keys[output]!, key) : Math.max(keys[output]!, key);
        nans[output]! |= words[1]!;
        seen[output] = 1;
      });
      for (let j = 0; j < view.outputs; j++) {
        if (nans[j] !== 0) out[j] = NaN;
        else if (seen[j] !== 0) out[j] = decodeKey(op, keys[j]!);
      }
      return out;
    }
    const { values, flags } = await this.#sumRuns(op, x, view);
    return Float32Array.from(values, (v, j) => finishSum(v, flags[j]!));
  }

  /** The float64 totals of a sum over runs and the NaN / infinity flags of each output. */
  async #sumRuns(
    op: "sum" | "sumsq" | "sumabs",
    x: Float32Array,
    view: AxisView,
  ): Promise<{ values: Float64Array; flags: Uint8Array }> {
    const values = new Float64Array(view.outputs);
    const flags = new Uint8Array(view.outputs);
    const f32 = new Float32Array(1);
    const u32 = new Uint32Array(f32.buffer);
    await this.#runs(op, x, view, (output, words) => {
      u32[0] = words[0]!;
      const k = (words[1]! & 0xffff) - 512;
      values[output]! += f32[0]! * 2 ** (op === "sumsq" ? -2 * k : -k);
      flags[output]! |= words[1]! >>> 16;
    });
    return { values, flags };
  }

  /** Runs the runs program of `op` over every chunk; `take` gets each run's two result words. */
  async #runs(
    op: RunOp,
    x: Float32Array,
    view: AxisView,
    take: (output: number, words: Uint32Array) => void,
  ): Promise<void> {
    if (x.length === 0) return;
    const cap = Math.min(x.length, this.#gpu.chunk);
    // Every run has an element: at most min(length, chunk / 3) runs per dispatch.
    const maxRuns = Math.min(x.length, Math.floor(this.#gpu.chunk / 3));
    const chunk = this.#gpu.storage(cap * 4);
    const runs = this.#gpu.storage(maxRuns * 12);
    const results = this.#gpu.storage(maxRuns * 8);
    const uniforms: GPUBuffer[] = [];
    try {
      for (const c of runChunks(view, x.length, this.#gpu.chunk)) {
        const count = c.outputs.length;
        this.#gpu.write(chunk, bits(x, { from: c.at, to: c.at + c.length }));
        this.#gpu.write(runs, c.runs);
        const params = this.#gpu.uniform([count]);
        uniforms.push(params);
        this.#gpu.dispatch(reduceRunsProgram(op), {
          buffers: [chunk, runs, results, params],
          invocations: count,
        });
        const words = new Uint32Array(await this.#gpu.read(results, count * 8));
        for (let r = 0; r < count; r++) take(c.outputs[r]!, words.subarray(2 * r, 2 * r + 2));
      }
    } finally {
      for (const b of [chunk, runs, results, ...uniforms]) b.destroy();
    }
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

  /**
   * Runs one histogram pass over every tensor, chunk by chunk, and returns its `bins` counts:
   * in windows of bins that fit a binding, each window a pass over the data.
   */
  async #histogramPass(
    list: readonly Float32Array[],
    pass: HistogramPass,
  ): Promise<Uint32Array> {
    const { buffers, bins } = pass;
    const program = magnitudeHistogramProgram(pass.which);
    const counts = new Uint32Array(bins);
    const width = Math.min(bins, this.#gpu.chunk);
    for (let base = 0; base < bins; base += width) {
      this.#gpu.write(buffers.hist, new Uint32Array(width));
      for (const t of list) {
        for (let at = 0; at < t.length; at += this.#gpu.chunk) {
          const n = Math.min(this.#gpu.chunk, t.length - at);
          this.#gpu.write(buffers.chunk, bits(t, { from: at, to: at + n }));
          const params = this.#gpu.uniform([n, pass.high, base, width]);
          buffers.uniforms.push(params);
          this.#gpu.dispatch(program, {
            buffers: [buffers.chunk, buffers.hist, params],
            invocations: n,
          });
        }
      }
      const w = Math.min(width, bins - base);
      counts.set(new Uint32Array(await this.#gpu.read(buffers.hist, w * 4)), base);
    }
    return counts;
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
    const hist = this.#gpu.storage(Math.min(1 << 16, this.#gpu.chunk) * 4);
    const chunk = this.#gpu.storage(Math.min(largest, this.#gpu.chunk) * 4);
    const uniforms: GPUBuffer[] = [];
    const buffers = { hist, chunk, uniforms };
    try {
      const high = await this.#histogramPass(list, {
        buffers,
        which: "high",
        high: 0,
        bins: 1 << 15,
      });
      const top = findRank(high, k);
      const low = await this.#histogramPass(list, {
        buffers,
        which: "low",
        high: top.bin,
        bins: 1 << 16,
      });
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

  /**
   * One chunk's quantization parameters, the same for quantize and dequantize: the scales and
   * zero points of the elements [at, at + n) written to their buffers, and the uniform {n, at,
   * layout, table window, ...extra}.
   */
  #chunkParams(
    p: ResolvedQuantize,
    buffers: { readonly scales: GPUBuffer; readonly zeros: GPUBuffer },
    chunk: { readonly at: number; readonly n: number; readonly extra?: readonly number[] },
  ): GPUBuffer {
    const { view } = p;
    const { at, n } = chunk;
    const table = paramTable(view, { at, n });
    this.#gpu.write(buffers.scales, gather(p.scale, table.indices));
    this.#gpu.write(buffers.zeros, gather(p.zeroPoint, table.indices));
    return this.#gpu.uniform([
      n,
      at,
      view.inner,
      view.channels,
      view.blocks,
      view.blockSize,
      table.mode,
      table.lo,
      ...(chunk.extra ?? []),
    ]);
  }

  async #dequantizeGpu(
    q: QuantizedArray,
    options: QuantizeOptions & OutOptions<Float32Array>,
  ): Promise<Float32Array> {
    const count = codeCount(q, options);
    const p = resolveQuantize(count, options, { verb: "dequantize" });
    checkDequantizeOut(q, count, options);
    const out = options.out ?? new Float32Array(count);
    if (count === 0) return out;
    const width = p.bits as 2 | 4 | 8 | 16;
    const program = dequantizeProgram(width, p.min < 0);
    const cap = Math.min(count, this.#gpu.chunk);
    const input = this.#gpu.storage(Math.ceil((cap * width) / 8));
    const output = this.#gpu.storage(cap * 4);
    const scales = this.#gpu.storage(cap * 4);
    const zeros = this.#gpu.storage(cap * 4);
    const uniforms: GPUBuffer[] = [];
    const bytes = new Uint8Array(q.buffer, q.byteOffset, q.byteLength);
    // One map for the whole result when it fits one buffer, else one per chunk.
    const collector = count * 4 <= this.#gpu.maxBufferSize
      ? this.#gpu.collector(count * 4)
      : undefined;
    try {
      for (let at = 0; at < count; at += this.#gpu.chunk) {
        const n = Math.min(this.#gpu.chunk, count - at);
        this.#gpu.write(
          input,
          bytes.subarray((at * width) / 8, Math.ceil(((at + n) * width) / 8)),
        );
        const params = this.#chunkParams(p, { scales, zeros }, { at, n });
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

  async #quantizeGpu(
    x: Float32Array,
    options: QuantizeOptions & OutOptions<QuantizedArray>,
  ): Promise<QuantizedArray> {
    const p = resolveQuantize(x.length, options);
    checkQuantizeOut(x, options);
    const codes = await this.#quantizeCodes(x, { p, type: options.type });
    if (options.out === undefined) return codes;
    // The result comes back from one map: copying it into the caller's array is the one way in.
    (options.out as Uint8Array).set(codes as Uint8Array);
    return options.out;
  }

  async #quantizeCodes(
    x: Float32Array,
    job: { readonly p: ResolvedQuantize; readonly type: QuantType },
  ): Promise<QuantizedArray> {
    const { p, type } = job;
    const width = p.bits as 2 | 4 | 8 | 16;
    const outBytes = Math.ceil((x.length * width) / 8);
    const result = new Uint8Array(Math.ceil(outBytes / 4) * 4);
    const out = quantizedStorage(type, result.buffer, x.length);
    if (x.length === 0) return out;
    const cap = Math.min(x.length, this.#gpu.chunk);
    const input = this.#gpu.storage(cap * 4);
    const output = this.#gpu.storage(Math.ceil((cap * width) / 8));
    const scales = this.#gpu.storage(cap * 4);
    const zeros = this.#gpu.storage(cap * 4);
    const uniforms: GPUBuffer[] = [];
    const collector = result.length <= this.#gpu.maxBufferSize
      ? this.#gpu.collector(result.length)
      : undefined;
    try {
      for (let at = 0; at < x.length; at += this.#gpu.chunk) {
        const n = Math.min(this.#gpu.chunk, x.length - at);
        this.#gpu.write(input, bits(x, { from: at, to: at + n }));
        const params = this.#chunkParams(p, { scales, zeros }, { at, n, extra: [p.min, p.max] });
        uniforms.push(params);
        this.#gpu.dispatch(quantizeProgram(width), {
          buffers: [input, output, scales, zeros, params],
          invocations: Math.ceil((n * width) / 32),
        });
        const range = { at: (at * width) / 8, length: Math.ceil((n * width) / 8) };
        if (collector !== undefined) collector.copy(output, range);
        else result.set(new Uint8Array(await this.#gpu.read(output, range.length)), range.at);
      }
      if (collector !== undefined) result.set(new Uint8Array(await collector.finish()));
      return out;
    } finally {
      collector?.destroy();
      for (const b of [input, output, scales, zeros, ...uniforms]) b.destroy();
    }
  }

  /**
   * Decodes 8- or 16-bit inputs to float32 `out` chunk by chunk, one dispatch per table window
   * (bound as the second buffer when it has data); returns the first position the program
   * flagged as invalid, if any.
   */
  async #decode(
    input: Int8Array | Uint8Array | Uint16Array,
    out: Float32Array,
    decode: {
      readonly windows: readonly { readonly data: Uint32Array | undefined; readonly lo: number }[];
      readonly program: () => Program;
      readonly params: (
        at: number,
        n: number,
        window: { readonly data: Uint32Array | undefined; readonly lo: number },
      ) => number[];
    },
  ): Promise<number | undefined> {
    const width = input.BYTES_PER_ELEMENT;
    const bytes = new Uint8Array(input.buffer, input.byteOffset, input.byteLength);
    const cap = Math.min(input.length, this.#gpu.chunk);
    const source = this.#gpu.storage(cap * width);
    const result = this.#gpu.storage(cap * 4);
    const bad = this.#gpu.storage(4, new Uint32Array([0xffffffff]));
    const tables = decode.windows.map((w) =>
      w.data === undefined ? undefined : this.#gpu.storage(w.data.byteLength, w.data)
    );
    const uniforms: GPUBuffer[] = [];
    try {
      for (let at = 0; at < input.length; at += this.#gpu.chunk) {
        const n = Math.min(this.#gpu.chunk, input.length - at);
        this.#gpu.write(source, bytes.subarray(at * width, (at + n) * width));
        decode.windows.forEach((window, w) => {
          const params = this.#gpu.uniform(decode.params(at, n, window));
          uniforms.push(params);
          const table = tables[w];
          this.#gpu.dispatch(decode.program(), {
            buffers: table === undefined
              ? [source, result, bad, params]
              : [source, table, result, bad, params],
            invocations: n,
          });
        });
        out.set(new Float32Array(await this.#gpu.read(result, n * 4)), at);
      }
      const first = new Uint32Array(await this.#gpu.read(bad, 4))[0]!;
      return first === 0xffffffff ? undefined : first;
    } finally {
      for (const b of [source, result, bad, ...tables, ...uniforms]) b?.destroy();
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
}

/** The codes of `count` elements of a type over `buffer` (packed bytes for 4 and 2 bits). */
function quantizedStorage(type: QuantType, buffer: ArrayBuffer, count: number): QuantizedArray {
  switch (type) {
    case "int8":
      return new Int8Array(buffer, 0, count);
    case "uint8":
      return new Uint8Array(buffer, 0, count);
    case "int16":
      return new Int16Array(buffer, 0, count);
    case "uint16":
      return new Uint16Array(buffer, 0, count);
    case "int4":
    case "uint4":
      return new Uint8Array(buffer, 0, Math.ceil(count / 2));
    default:
      return new Uint8Array(buffer, 0, Math.ceil(count / 4));
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

/** A float64 total as float32, or NaN / ±Infinity as the flags of its run say. */
function finishSum(total: number, flags: number): number {
  if ((flags & 1) !== 0 || (flags & 6) === 6) return NaN;
  if ((flags & 2) !== 0) return Infinity;
  if ((flags & 4) !== 0) return -Infinity;
  return total;
}

/**
 * The number of codes in `q` for the options' type, checked as the reference's `unpackCodes`
 * checks them (same errors), without unpacking.
 */
function codeCount(q: QuantizedArray, options: QuantizeOptions): number {
  const range = quantRange(options.type);
  const what = subject("dequantize", options.name);
  if (range.bits >= 8) {
    const ok = options.type === "int8"
      ? q instanceof Int8Array
      : options.type === "uint8"
      ? q instanceof Uint8Array
      : options.type === "int16"
      ? q instanceof Int16Array
      : q instanceof Uint16Array;
    if (!ok) throw new TypeError(`${what}: ${q.constructor.name} does not hold ${options.type}`);
    return q.length;
  }
  if (options.shape === undefined) throw new RangeError(`${what}: packed types need a shape`);
  let count = 1;
  for (const d of options.shape) count *= d;
  const perByte = 8 / range.bits;
  if (!(q instanceof Uint8Array) || q.length !== Math.ceil(count / perByte)) {
    throw new RangeError(
      `${what}: ${count} ${options.type} values need ${Math.ceil(count / perByte)} packed bytes`,
    );
  }
  return count;
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
  /** Bins in all: 2^15 for the high halves (keys stop at NaN's), 2^16 for the low. */
  readonly bins: number;
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

/** The operands of a tiled matrix product, row-major, and where each result goes. */
interface MatmulTiles {
  readonly a: Float32Array | Int8Array;
  readonly b: Float32Array | Int8Array;
  readonly sizes: { readonly m: number; readonly k: number; readonly n: number };
  readonly zeroPoints: readonly [number, number];
  /** Adds one k-slice's two result words to output `at`. */
  readonly take: (at: number, words: Uint32Array) => void;
}

/** A row-major [rows, cols] copy of a matrix stored as [cols, rows]. */
function transpose<T extends Float32Array | Int8Array>(
  x: T,
  size: { readonly rows: number; readonly cols: number },
): T {
  const { rows, cols } = size;
  const out = x.slice() as T;
  for (let r = 0; r < rows; r++) {
    for (let c = 0; c < cols; c++) out[r * cols + c] = x[c * rows + r]!;
  }
  return out;
}
