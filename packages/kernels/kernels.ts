/**
 * The one kernel interface that every backend implements, and the option types of its methods.
 *
 * Every method is `async` and takes and returns plain typed arrays, so a WebGPU backend (which
 * must await a buffer map) and the CPU backends share one signature. Inputs are never modified
 * unless a method says so ({@linkcode Kernels.maskSmallest}); outputs are fresh arrays the caller
 * owns, or the caller's own `out` where a method takes one. {@linkcode Kernels.alloc} hands out
 * arrays that the backend reads and writes where they are (WASM memory), for copy-free calls.
 * Tensors are flat row-major arrays with an optional `shape` (default: one dimension).
 *
 * Results are defined for every input, including NaN, ±Infinity, -0, subnormals, empty tensors
 * and zero ranges; each method's documentation says how. The TypeScript reference (`"js"`) is
 * the specification: other backends return the same integers exactly, and floats within the
 * tolerance named on each method.
 * @module
 */

/** The backends that can run kernels, fastest first. */
export type BackendName = "webgpu" | "wasm" | "js";

/** Which backend {@linkcode createKernels} should use; `"auto"` picks the fastest real one. */
export type BackendChoice = "auto" | BackendName;

/**
 * A reduction: `min`, `max` (NaN propagates, -0 < +0, as `Math.min`/`Math.max`), `absmax`
 * (largest |x|; NaN propagates), `sum` and `sumsq` (sum of squares; IEEE: NaN propagates,
 * Infinity - Infinity is NaN). Empty reductions give the identity: +Infinity, -Infinity, 0, 0, 0.
 */
export type ReduceOp = "min" | "max" | "absmax" | "sum" | "sumsq";

/** The integer element types of affine quantization; 4- and 2-bit ones are packed (ONNX order). */
export type QuantType = "int8" | "uint8" | "int16" | "uint16" | "int4" | "uint4" | "int2" | "uint2";

/** The array that holds quantized values: packed bytes (first element lowest) for 4 and 2 bits. */
export type QuantizedArray = Int8Array | Uint8Array | Int16Array | Uint16Array;

/**
 * Where per-axis and per-block results or parameters go.
 *
 * - no `axis`: the whole tensor, one value;
 * - `axis`: one value per index along `axis` (as ONNX QuantizeLinear's `axis`), the other
 *   dimensions reduced; negative axes count from the end;
 * - `axis` and `blockSize`: the tensor's shape with `shape[axis]` replaced by
 *   `ceil(shape[axis] / blockSize)` (ONNX blocked quantization); the last block may be short.
 */
export interface AxisOptions {
  /** The tensor's dimensions; their product must equal the data's length. Default: `[length]`. */
  readonly shape?: readonly number[];
  /** The axis kept (one value per index along it). Default: none (the whole tensor). */
  readonly axis?: number;
  /** Block length along `axis`; needs `axis`. Default: none (one block spans the axis). */
  readonly blockSize?: number;
  /** The tensor's name, used only in error messages. */
  readonly name?: string;
}

/** Options of {@linkcode Kernels.histogram}. */
export interface HistogramOptions {
  /** Number of bins, a positive integer. */
  readonly bins: number;
  /** Lower edge of the first bin. */
  readonly min: number;
  /** Upper edge of the last bin; `max >= min`. */
  readonly max: number;
}

/**
 * Options of {@linkcode Kernels.quantize} and {@linkcode Kernels.dequantize}: the element type and
 * the affine parameters, laid out as {@linkcode AxisOptions} says.
 */
export interface QuantizeOptions extends AxisOptions {
  /** The integer type. */
  readonly type: QuantType;
  /** Scales, each positive and finite: 1, `shape[axis]` or the blocked shape's product. */
  readonly scale: Float32Array;
  /** Zero points in the type's range, laid out as `scale`. Default: all 0. */
  readonly zeroPoint?: Int32Array;
}

/**
 * Where a kernel writes its result: a caller-provided array (for example one from
 * {@linkcode Kernels.alloc}) instead of a fresh one.
 */
export interface OutOptions<T> {
  /**
   * The array to write into and return. It must be of the class and length the kernel would
   * allocate, and must not overlap the input. Default: a fresh array.
   */
  readonly out?: T;
}

/**
 * The element types of the arrays {@linkcode Kernels.alloc} hands out: float32, int32 (zero
 * points) and every {@linkcode QuantType} (packed bytes for 4 and 2 bits, as
 * {@linkcode Kernels.quantize} returns them).
 */
export type ElementType = "float32" | "int32" | QuantType;

/** The array class of each {@linkcode ElementType}. */
export interface ElementArrays {
  /** 32-bit floats. */
  readonly float32: Float32Array;
  /** 32-bit signed integers. */
  readonly int32: Int32Array;
  /** int8 codes. */
  readonly int8: Int8Array;
  /** uint8 codes. */
  readonly uint8: Uint8Array;
  /** int16 codes. */
  readonly int16: Int16Array;
  /** uint16 codes (also float16 bit patterns). */
  readonly uint16: Uint16Array;
  /** int4 codes, two per byte. */
  readonly int4: Uint8Array;
  /** uint4 codes, two per byte. */
  readonly uint4: Uint8Array;
  /** int2 codes, four per byte. */
  readonly int2: Uint8Array;
  /** uint2 codes, four per byte. */
  readonly uint2: Uint8Array;
}

/** Options of {@linkcode Kernels.log2Quantize} and {@linkcode Kernels.log2Dequantize}. */
export interface Log2Options {
  /** Bits per code including the sign, 2..8; codes are `-(2^(bits-1)-1) .. 2^(bits-1)-1`. */
  readonly bits: number;
  /** The largest exponent e (value 2^e) a code stands for, an integer. */
  readonly maxExponent: number;
}

/**
 * The k-th smallest magnitude of one or many tensors, and how to pick exactly k elements:
 * every element with |x| < `threshold` and the first `ties` elements (in tensor order, then index
 * order) with |x| equal to it. Magnitudes compare as |x|, with -0 equal to 0 and every NaN equal
 * to every other and larger than Infinity.
 */
export interface MagnitudeSelection {
  /** How many elements are selected. */
  readonly k: number;
  /** The k-th smallest magnitude (0 when k is 0; NaN when the k-th is a NaN). */
  readonly threshold: number;
  /** How many elements have a magnitude strictly below `threshold`. */
  readonly below: number;
  /** How many elements equal to `threshold` are selected: `k - below`. */
  readonly ties: number;
}

/** Options of {@linkcode Kernels.nmMask}. */
export interface NmMaskOptions {
  /** Elements kept per group, 0..m. */
  readonly n: number;
  /** Group length along `axis`, which must divide `shape[axis]`. */
  readonly m: number;
  /** The tensor's dimensions. Default: `[length]`. */
  readonly shape?: readonly number[];
  /** The axis the groups run along. Default: the last. */
  readonly axis?: number;
}

/** Options of {@linkcode Kernels.norm}. */
export interface NormOptions extends Omit<AxisOptions, "blockSize"> {
  /** 1 for the L1 norm (sum of |x|), 2 for the L2 norm (square root of the sum of squares). */
  readonly ord: 1 | 2;
}

/** Options of {@linkcode Kernels.matmul}: `a` is [m, k] and `b` is [k, n], row-major. */
export interface MatmulOptions {
  /** Rows of the result. */
  readonly m: number;
  /** The shared dimension. */
  readonly k: number;
  /** Columns of the result. */
  readonly n: number;
  /** `a` is stored as [k, m] (for X^T X pass `x` twice with this set). */
  readonly transposeA?: boolean;
  /** `b` is stored as [n, k]. */
  readonly transposeB?: boolean;
}

/** Options of {@linkcode Kernels.matmulInt8}: {@linkcode MatmulOptions} plus zero points. */
export interface MatmulInt8Options extends MatmulOptions {
  /** Subtracted from every element of `a` (-128..127). Default 0. */
  readonly aZeroPoint?: number;
  /** Subtracted from every element of `b` (-128..127). Default 0. */
  readonly bZeroPoint?: number;
}

/**
 * The numeric kernels. Get one from {@linkcode createKernels}; call {@linkcode Kernels.dispose}
 * when done to release device memory.
 */
export interface Kernels {
  /** Which backend runs the kernels. */
  readonly backend: BackendName;

  /**
   * Reduces a tensor: whole, per axis or per block (see {@linkcode AxisOptions}).
   * Float sums: the reference accumulates in float64 and rounds once; WASM may differ by
   * `2^-23 * |ref| + count * 2^-50 * sum(|terms|)`. WebGPU has no float64 and sums pairwise in
   * float32 within runs of at most 1024 (runs added in float64 on the host), so it may differ by
   * `2^-23 * |ref| + 2^-19 * sum(|terms|)` (terms: |x| for sum, x^2 for sum of squares).
   * min, max and absmax are exact on every backend.
   * @param op The reduction.
   * @param x The tensor.
   * @param options Shape, axis and block size.
   * @returns One value per output position (a single value for the whole tensor).
   * @example
   * ```ts
   * import { createKernels } from "@modelpress/kernels";
   * const k = await createKernels({ backend: "js" });
   * await k.reduce("max", new Float32Array([1, 5, 2, 3]), { shape: [2, 2], axis: 0 }); // [5, 3]
   * ```
   */
  reduce(op: ReduceOp, x: Float32Array, options?: AxisOptions): Promise<Float32Array>;

  /**
   * Counts values into equal bins over [min, max]: bin `floor((x - min) * (bins / (max - min)))`
   * computed in float64; values below `min` go to the first bin, at or above `max` to the last;
   * NaN is not counted. With `min == max` everything at or below goes to the first bin. Exact.
   * @param x The values.
   * @param options Bins and range.
   * @returns The counts.
   * @example
   * ```ts
   * import { createKernels } from "@modelpress/kernels";
   * const k = await createKernels({ backend: "js" });
   * await k.histogram(new Float32Array([0, 0.5, 1]), { bins: 2, min: 0, max: 1 }); // [1, 2]
   * ```
   */
  histogram(x: Float32Array, options: HistogramOptions): Promise<Uint32Array>;

  /**
   * Affine quantization as ONNX QuantizeLinear: `saturate(roundHalfEven(fround(x / scale)) + zp)`.
   * NaN gives the zero point; ±Infinity saturates. Exact on every backend.
   *
   * With `out` the codes go into that array (the class and length of the result, for example
   * `kernels.alloc(type, x.length)`), which is returned. On WASM, an `x` and an `out` from
   * {@linkcode Kernels.alloc} are read and written where they are, without copies.
   * @param x The tensor.
   * @param options Type, scale, zero point and their layout; optionally `out`.
   * @returns Int8Array, Uint8Array, Int16Array or Uint16Array; packed bytes for 4 and 2 bits.
   * @throws {TypeError} When `out` is not of the result's class.
   * @throws {RangeError} When `out` has the wrong length or overlaps `x`.
   * @example
   * ```ts
   * import { createKernels } from "@modelpress/kernels";
   * const k = await createKernels({ backend: "js" });
   * await k.quantize(new Float32Array([0.5, 1.5, -300]), {
   *   type: "int8",
   *   scale: new Float32Array([1]),
   * }); // Int8Array [0, 2, -128]
   * const x = k.alloc("float32", 3);
   * x.set([0.5, 1.5, -300]);
   * const out = k.alloc("int8", 3);
   * await k.quantize(x, { type: "int8", scale: new Float32Array([1]), out }); // out: [0, 2, -128]
   * ```
   */
  quantize(
    x: Float32Array,
    options: QuantizeOptions & OutOptions<QuantizedArray>,
  ): Promise<QuantizedArray>;

  /**
   * Affine dequantization as ONNX DequantizeLinear: `fround((q - zp) * scale)`. Exact.
   * With `out` (a Float32Array of one element per value) the values go there, as for
   * {@linkcode quantize}.
   * @param q Values as {@linkcode quantize} returns them (packed for 4 and 2 bits; then `shape`
   *   is required).
   * @param options Type, scale, zero point and their layout; optionally `out`.
   * @returns The values.
   * @throws {TypeError} When `out` is not a Float32Array.
   * @throws {RangeError} When `out` has the wrong length or overlaps `q`.
   * @example
   * ```ts
   * import { createKernels } from "@modelpress/kernels";
   * const k = await createKernels({ backend: "js" });
   * await k.dequantize(new Int8Array([0, 2]), { type: "int8", scale: new Float32Array([0.5]) });
   * // Float32Array [0, 1]
   * ```
   */
  dequantize(
    q: QuantizedArray,
    options: QuantizeOptions & OutOptions<Float32Array>,
  ): Promise<Float32Array>;

  /**
   * Power-of-two quantization with sign: code `sign * (e - eMin + 1)` for the power of two
   * 2^e nearest to |x| (ties up), e clamped to [eMin, maxExponent] where
   * `eMin = maxExponent - 2^(bits-1) + 2`; |x| below 2^(eMin-1), and NaN, give code 0. Exact.
   * @param x The values.
   * @param options Bits and largest exponent.
   * @returns One code per value.
   * @example
   * ```ts
   * import { createKernels } from "@modelpress/kernels";
   * const k = await createKernels({ backend: "js" });
   * await k.log2Quantize(new Float32Array([1, -0.25, 0]), { bits: 4, maxExponent: 0 });
   * // Int8Array [7, -5, 0]
   * ```
   */
  log2Quantize(x: Float32Array, options: Log2Options): Promise<Int8Array>;

  /**
   * Decodes power-of-two codes: 0 -> 0, c -> sign(c) * 2^(|c| - 1 + eMin). Exact.
   * @param codes Codes from {@linkcode log2Quantize}.
   * @param options The same bits and largest exponent.
   * @returns The values.
   * @example
   * ```ts
   * import { createKernels } from "@modelpress/kernels";
   * const k = await createKernels({ backend: "js" });
   * await k.log2Dequantize(new Int8Array([7, -5]), { bits: 4, maxExponent: 0 }); // [1, -0.25]
   * ```
   */
  log2Dequantize(codes: Int8Array, options: Log2Options): Promise<Float32Array>;

  /**
   * Replaces each value with the index of the nearest code (distance in float64; ties to the
   * lower index; NaN -> 0). The codebook holds 1..65536 finite values. Exact.
   * @param x The values.
   * @param codebook The codes.
   * @returns Indices: a Uint8Array for up to 256 codes, else a Uint16Array.
   * @example
   * ```ts
   * import { createKernels } from "@modelpress/kernels";
   * const k = await createKernels({ backend: "js" });
   * await k.codebookEncode(new Float32Array([0.9, -3]), new Float32Array([-1, 0, 1])); // [2, 0]
   * ```
   */
  codebookEncode(x: Float32Array, codebook: Float32Array): Promise<Uint8Array | Uint16Array>;

  /**
   * Looks indices up in a codebook. Exact.
   * @param indices Indices into `codebook`.
   * @param codebook The codes.
   * @returns The values.
   * @example
   * ```ts
   * import { createKernels } from "@modelpress/kernels";
   * const k = await createKernels({ backend: "js" });
   * await k.codebookDecode(new Uint8Array([2, 0]), new Float32Array([-1, 0, 1])); // [1, -1]
   * ```
   */
  codebookDecode(indices: Uint8Array | Uint16Array, codebook: Float32Array): Promise<Float32Array>;

  /**
   * Finds the k-th smallest magnitude over one tensor or many together (global), in O(n) by a
   * radix select on the float bits (no sort). Exact.
   * @param tensors One tensor or several.
   * @param k How many elements to select, 0..total length.
   * @returns The threshold and how to break ties so that exactly k are selected.
   * @example
   * ```ts
   * import { createKernels } from "@modelpress/kernels";
   * const k = await createKernels({ backend: "js" });
   * await k.selectMagnitude(new Float32Array([3, -1, 2, 1]), 2);
   * // { k: 2, threshold: 1, below: 0, ties: 2 }
   * ```
   */
  selectMagnitude(
    tensors: Float32Array | readonly Float32Array[],
    k: number,
  ): Promise<MagnitudeSelection>;

  /**
   * Sets to +0, in place, exactly the elements a {@linkcode selectMagnitude} result selects.
   * @param tensors The tensors the selection was made over, in the same order.
   * @param selection The selection.
   * @returns How many elements were zeroed (`selection.k` when the tensors are unchanged).
   * @example
   * ```ts
   * import { createKernels } from "@modelpress/kernels";
   * const k = await createKernels({ backend: "js" });
   * const w = new Float32Array([3, -1, 2, 1]);
   * await k.maskSmallest(w, await k.selectMagnitude(w, 2)); // w is [3, 0, 2, 0]
   * ```
   */
  maskSmallest(
    tensors: Float32Array | readonly Float32Array[],
    selection: MagnitudeSelection,
  ): Promise<number>;

  /**
   * N:M structured sparsity mask: in every group of m consecutive elements along the axis, keep
   * the n largest magnitudes (NaN largest; ties to the lower index). Exact.
   * @param x The tensor.
   * @param options n, m, shape and axis.
   * @returns 1 for kept elements, 0 for pruned ones.
   * @example
   * ```ts
   * import { createKernels } from "@modelpress/kernels";
   * const k = await createKernels({ backend: "js" });
   * await k.nmMask(new Float32Array([1, -4, 3, 2]), { n: 2, m: 4 }); // [0, 1, 1, 0]
   * ```
   */
  nmMask(x: Float32Array, options: NmMaskOptions): Promise<Uint8Array>;

  /**
   * L1 or L2 norms, whole or per index along an axis (rows of [r, c]: axis 0; columns: axis 1).
   * Tolerance as the sums of {@linkcode reduce}.
   * @param x The tensor.
   * @param options Order, shape and axis.
   * @returns One norm per index along the axis (one for the whole tensor).
   * @example
   * ```ts
   * import { createKernels } from "@modelpress/kernels";
   * const k = await createKernels({ backend: "js" });
   * await k.norm(new Float32Array([3, 4, 0, 1]), { ord: 2, shape: [2, 2], axis: 0 }); // [5, 1]
   * ```
   */
  norm(x: Float32Array, options: NormOptions): Promise<Float32Array>;

  /**
   * Float32 matrix product. The reference accumulates in float64 and rounds once; other
   * backends may differ by `2^-23 * |ref| + k * 2^-22 * sum(|a_ip * b_pj|)`.
   * @param a [m, k] (or [k, m] with `transposeA`).
   * @param b [k, n] (or [n, k] with `transposeB`).
   * @param options Sizes and transposition.
   * @returns [m, n].
   * @example
   * ```ts
   * import { createKernels } from "@modelpress/kernels";
   * const k = await createKernels({ backend: "js" });
   * await k.matmul(new Float32Array([1, 2]), new Float32Array([3, 4]), { m: 1, k: 2, n: 1 });
   * // Float32Array [11]
   * ```
   */
  matmul(a: Float32Array, b: Float32Array, options: MatmulOptions): Promise<Float32Array>;

  /**
   * int8 x int8 -> int32 matrix product as ONNX MatMulInteger, wrapping modulo 2^32. Exact.
   * @param a [m, k] (or [k, m] with `transposeA`).
   * @param b [k, n] (or [n, k] with `transposeB`).
   * @param options Sizes, transposition and zero points.
   * @returns [m, n].
   * @example
   * ```ts
   * import { createKernels } from "@modelpress/kernels";
   * const k = await createKernels({ backend: "js" });
   * await k.matmulInt8(new Int8Array([1, 2]), new Int8Array([3, 4]), { m: 1, k: 2, n: 1 });
   * // Int32Array [11]
   * ```
   */
  matmulInt8(a: Int8Array, b: Int8Array, options: MatmulInt8Options): Promise<Int32Array>;

  /**
   * float32 -> IEEE half bit patterns, round to nearest even (as `float32ToFloat16` of
   * `@modelpress/onnx`). Exact.
   * @param x The values.
   * @returns One 16-bit pattern per value.
   * @example
   * ```ts
   * import { createKernels } from "@modelpress/kernels";
   * const k = await createKernels({ backend: "js" });
   * await k.toFloat16(new Float32Array([1])); // Uint16Array [0x3c00]
   * ```
   */
  toFloat16(x: Float32Array): Promise<Uint16Array>;

  /**
   * IEEE half bit patterns -> float32. Exact.
   * @param bits One 16-bit pattern per value.
   * @returns The values.
   * @example
   * ```ts
   * import { createKernels } from "@modelpress/kernels";
   * const k = await createKernels({ backend: "js" });
   * await k.fromFloat16(new Uint16Array([0x3c00])); // Float32Array [1]
   * ```
   */
  fromFloat16(bits: Uint16Array): Promise<Float32Array>;

  /**
   * Allocates a zero-filled array that the kernels read and write without copies: on WASM a view
   * of the module's memory (inputs there skip the copy in, `out` arrays there skip the copy out
   * and the allocation of the result); on the other backends an ordinary array. The array stays
   * valid (memory growth does not detach it) until {@linkcode free} or {@linkcode dispose};
   * afterwards its memory may be handed out again. Where the engine cannot keep views of WASM
   * memory across growth (no `WebAssembly.Memory.prototype.toResizableBuffer`) the WASM backend
   * hands out ordinary arrays too. Any typed array is accepted wherever the kernels take one;
   * these are only faster.
   * @param type The element type; for 4- and 2-bit types the array holds packed bytes.
   * @param count The number of elements (values, for packed types).
   * @returns The array: Float32Array, Int32Array, Int8Array, Uint8Array, Int16Array or
   *   Uint16Array (see {@linkcode ElementArrays}).
   * @throws {RangeError} When `count` is not a non-negative integer or memory runs out.
   * @throws {TypeError} When the type is unknown.
   * @example
   * ```ts
   * import { createKernels } from "@modelpress/kernels";
   * const k = await createKernels({ backend: "wasm" });
   * const w = k.alloc("float32", 4);
   * w.set([0.1, -0.2, 0.3, 0.4]); // fill in place, for example while reading a file
   * const q = k.alloc("int4", 4); // Uint8Array of 2 packed bytes
   * await k.quantize(w, { type: "int4", scale: new Float32Array([0.1]), out: q });
   * k.free(w);
   * k.free(q);
   * ```
   */
  alloc<T extends ElementType>(type: T, count: number): ElementArrays[T];

  /**
   * Gives back an array from {@linkcode alloc}; its memory may then be handed out again, so the
   * array must not be used afterwards.
   * @param array The array, exactly as `alloc` returned it (not a subarray of it).
   * @throws {RangeError} When the array did not come from this object's `alloc` or was freed.
   * @example
   * ```ts
   * import { createKernels } from "@modelpress/kernels";
   * const k = await createKernels();
   * const x = k.alloc("float32", 1024);
   * k.free(x);
   * ```
   */
  free(array: ElementArrays[ElementType]): void;

  /**
   * Releases what the backend holds (device buffers, WASM memory, every array from
   * {@linkcode alloc}). The object must not be used afterwards.
   * @example
   * ```ts
   * import { createKernels } from "@modelpress/kernels";
   * const k = await createKernels();
   * k.dispose();
   * ```
   */
  dispose(): void;
}
