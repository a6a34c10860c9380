/**
 * The WASM instance and its one linear memory, used as a bump arena that is reset on every call.
 * Imported only from this folder.
 * @module
 */
import { KERNELS_WASM_BASE64 } from "../_wasm/kernels_wasm.ts";

/** The functions the WASM module exports (see wasm/assembly/kernels.ts). */
export interface WasmExports {
  heapBase(): number;
  copy(dst: number, src: number, n: number): void;
  reduceWhole(op: number, x: number, n: number): number;
  reduceAxis(
    op: number,
    x: number,
    outer: number,
    channels: number,
    inner: number,
    out: number,
  ): void;
  reduceBlocked(
    op: number,
    x: number,
    outer: number,
    channels: number,
    inner: number,
    block: number,
    out: number,
    sO: number,
    sC: number,
  ): void;
  affine(
    kind: number,
    x: number,
    y: number,
    outer: number,
    channels: number,
    inner: number,
    block: number,
    sp: number,
    zp: number,
    sO: number,
    sC: number,
    sI: number,
    qmin: number,
    qmax: number,
  ): void;
  histogram(
    x: number,
    n: number,
    bins: number,
    lo: number,
    hi: number,
    factor: number,
    counts: number,
  ): void;
  histHigh(x: number, n: number, hist: number): void;
  log2Quantize(
    x: number,
    y: number,
    n: number,
    eMin: number,
    maxCode: number,
    zeroBelow: number,
  ): void;
  codebookEncode(
    x: number,
    y: number,
    n: number,
    values: number,
    indices: number,
    count: number,
    wide: boolean,
  ): void;
  nmMask(
    x: number,
    y: number,
    outer: number,
    length: number,
    inner: number,
    n: number,
    m: number,
  ): void;
  matmulF32(a: number, b: number, c: number, m: number, k: number, n: number, acc: number): void;
  matmulI8(
    a: number,
    b: number,
    c: number,
    m: number,
    k: number,
    n: number,
    za: number,
    zb: number,
  ): void;
  histLow(x: number, n: number, high: number, hist: number): void;
  maskBelow(x: number, n: number, threshold: number, ties: number, count: number): number;
}

const PAGE = 65536;
const MAX_BYTES = 4 * 1024 * 1024 * 1024 - PAGE;

let compiled: Promise<WebAssembly.Module> | undefined;

function decodeBase64(base64: string): Uint8Array<ArrayBuffer> {
  const binary = atob(base64);
  const bytes = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
  return bytes;
}

/** One instance with its memory; `alloc` hands out 16-byte aligned regions until `reset`. */
export class WasmArena {
  readonly exports: WasmExports;
  readonly #memory: WebAssembly.Memory;
  readonly #base: number;
  #top: number;

  private constructor(instance: WebAssembly.Instance, memory: WebAssembly.Memory) {
    this.exports = instance.exports as unknown as WasmExports;
    this.#memory = memory;
    this.#base = (this.exports.heapBase() + 15) & ~15;
    this.#top = this.#base;
  }

  /** Compiles (once per process) and instantiates the kernels. */
  static async create(): Promise<WasmArena> {
    compiled ??= WebAssembly.compile(decodeBase64(KERNELS_WASM_BASE64));
    const memory = new WebAssembly.Memory({ initial: 1 });
    const instance = await WebAssembly.instantiate(await compiled, { env: { memory } });
    return new WasmArena(instance, memory);
  }

  /** Forgets every region. */
  reset(): void {
    this.#top = this.#base;
  }

  /** Reserves `bytes` bytes, growing the memory if needed; returns the address. */
  alloc(bytes: number): number {
    const at = (this.#top + 15) & ~15;
    const top = at + bytes;
    if (top > MAX_BYTES) {
      throw new RangeError(`Cannot run WASM kernel: ${top} bytes exceed the 4 GiB memory`);
    }
    const have = this.#memory.buffer.byteLength;
    if (top > have) this.#memory.grow(Math.ceil((top - have) / PAGE));
    this.#top = top;
    return at;
  }

  /** The memory's current buffer (a new one after every growth). */
  get buffer(): ArrayBuffer {
    return this.#memory.buffer as ArrayBuffer;
  }

  /** Bytes the memory holds now. */
  get byteLength(): number {
    return this.#memory.buffer.byteLength;
  }
}
