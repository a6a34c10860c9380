/**
 * The WASM instance and its one linear memory: pinned regions (arrays handed out by
 * `Kernels.alloc`) and, above them, a bump arena of scratch that is reset on every call.
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
const MAX_PAGES = 65536;
const MAX_BYTES = MAX_PAGES * PAGE - PAGE;

let compiled: Promise<WebAssembly.Module> | undefined;

function decodeBase64(base64: string): Uint8Array<ArrayBuffer> {
  const binary = atob(base64);
  const bytes = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
  return bytes;
}

/** A region kept across calls (an array from `Kernels.alloc`): [at, at + bytes). */
interface Region {
  readonly at: number;
  readonly bytes: number;
}

/**
 * One instance with its memory. Two kinds of regions live in it, all 16-byte aligned: pinned
 * ones (`pin`/`unpin`, the arrays that `Kernels.alloc` hands out), kept across calls, and above
 * them scratch (`alloc`), handed out until `reset`, which every call does first.
 */
export class WasmArena {
  readonly exports: WasmExports;
  readonly #memory: WebAssembly.Memory;
  readonly #heap: number;
  /** Pinned regions, sorted by address. */
  #regions: Region[] = [];
  /** Where scratch starts: above the heap and every pinned region. */
  #base: number;
  #top: number;
  #resizable = false;

  private constructor(instance: WebAssembly.Instance, memory: WebAssembly.Memory) {
    this.exports = instance.exports as unknown as WasmExports;
    this.#memory = memory;
    this.#heap = (this.exports.heapBase() + 15) & ~15;
    this.#base = this.#heap;
    this.#top = this.#base;
  }

  /** Compiles (once per process) and instantiates the kernels. */
  static async create(): Promise<WasmArena> {
    compiled ??= WebAssembly.compile(decodeBase64(KERNELS_WASM_BASE64));
    // A maximum lets the memory hand out a resizable buffer (see `pinnable`); it is the 4 GiB
    // that wasm32 can address anyway.
    const memory = new WebAssembly.Memory({ initial: 1, maximum: MAX_PAGES });
    const instance = await WebAssembly.instantiate(await compiled, { env: { memory } });
    return new WasmArena(instance, memory);
  }

  /** Forgets every scratch region. */
  reset(): void {
    this.#top = this.#base;
  }

  /** Forgets every region, pinned ones included. */
  clear(): void {
    this.#regions = [];
    this.#base = this.#heap;
    this.#top = this.#base;
  }

  /** Reserves `bytes` bytes of scratch, growing the memory if needed; returns the address. */
  alloc(bytes: number): number {
    const at = (this.#top + 15) & ~15;
    this.#top = this.#reserve(at, bytes);
    return at;
  }

  /**
   * Whether pinned regions can be handed out as typed arrays that survive memory growth: the
   * engine turns the memory's buffer into a resizable one (`toResizableBuffer`), which growth
   * enlarges in place instead of detaching.
   */
  get pinnable(): boolean {
    if (this.#resizable) return true;
    const memory = this.#memory as WebAssembly.Memory & { toResizableBuffer?: () => ArrayBuffer };
    if (typeof memory.toResizableBuffer !== "function") return false;
    memory.toResizableBuffer();
    this.#resizable = true;
    return true;
  }

  /**
   * Reserves `bytes` bytes kept until `unpin` (first fit among the pinned regions), zero-filled;
   * returns the address. Scratch moves above it.
   */
  pin(bytes: number): number {
    let at = this.#heap;
    let index = 0;
    for (; index < this.#regions.length; index++) {
      const r = this.#regions[index]!;
      if (at + bytes <= r.at) break;
      at = (r.at + r.bytes + 15) & ~15;
    }
    this.#reserve(at, bytes);
    this.#regions.splice(index, 0, { at, bytes });
    new Uint8Array(this.buffer, at, bytes).fill(0);
    this.#rebase();
    return at;
  }

  /** Gives back the pinned region [at, at + bytes); returns false when there is none. */
  unpin(at: number, bytes: number): boolean {
    const index = this.#regions.findIndex((r) => r.at === at && r.bytes === bytes);
    if (index < 0) return false;
    this.#regions.splice(index, 1);
    this.#rebase();
    return true;
  }

  /** Whether [at, at + bytes) lies inside one pinned region. */
  pinned(at: number, bytes: number): boolean {
    for (const r of this.#regions) {
      if (at >= r.at && at + bytes <= r.at + r.bytes) return true;
      if (r.at > at) return false;
    }
    return false;
  }

  /** The memory's current buffer (a new one after every growth unless it is resizable). */
  get buffer(): ArrayBuffer {
    return this.#memory.buffer as ArrayBuffer;
  }

  /** Bytes the memory holds now. */
  get byteLength(): number {
    return this.#memory.buffer.byteLength;
  }

  /** Makes [at, at + bytes) addressable; returns its end. */
  #reserve(at: number, bytes: number): number {
    const top = at + bytes;
    if (top > MAX_BYTES) {
      throw new RangeError(`Cannot run WASM kernel: ${top} bytes exceed the 4 GiB memory`);
    }
    const have = this.#memory.buffer.byteLength;
    if (top > have) this.#memory.grow(Math.ceil((top - have) / PAGE));
    return top;
  }

  #rebase(): void {
    const last = this.#regions[this.#regions.length - 1];
    this.#base = last === undefined ? this.#heap : (last.at + last.bytes + 15) & ~15;
    this.#top = this.#base;
  }
}
