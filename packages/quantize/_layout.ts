/**
 * Where per-channel and per-block parameters go (the layout of `@modelpress/kernels`'
 * AxisOptions and of ONNX DequantizeLinear's scale). Imported only from this folder.
 * @module
 */

/** A checked parameter layout: the kept axis (normalized), block size and parameter shape. */
export interface ParamLayout {
  /** The tensor's dims. */
  readonly shape: readonly number[];
  /** The axis kept, non-negative; undefined for per-tensor. */
  readonly axis: number | undefined;
  /** The block length along `axis`; undefined unless blocked. */
  readonly blockSize: number | undefined;
  /** The parameter tensor's dims: `[]`, `[shape[axis]]` or the blocked shape. */
  readonly paramShape: readonly number[];
  /** How many parameters. */
  readonly count: number;
}

/**
 * Checks and normalizes a layout.
 *
 * @param name The tensor's name, for errors.
 * @param options Shape, axis and block size.
 * @returns The layout.
 */
export function paramLayout(
  name: string,
  options: { shape: readonly number[]; axis?: number | undefined; blockSize?: number | undefined },
): ParamLayout {
  const { shape } = options;
  const rank = shape.length;
  if (options.axis === undefined) {
    if (options.blockSize !== undefined) {
      throw new RangeError(`Cannot quantize tensor '${name}': a block size needs an axis`);
    }
    return { shape, axis: undefined, blockSize: undefined, paramShape: [], count: 1 };
  }
  const axis = options.axis < 0 ? options.axis + rank : options.axis;
  if (!(Number.isInteger(axis) && axis >= 0 && axis < rank)) {
    throw new RangeError(
      `Cannot quantize tensor '${name}': axis ${options.axis} is outside its rank ${rank}`,
    );
  }
  const blockSize = options.blockSize;
  if (blockSize === undefined) {
    return { shape, axis, blockSize, paramShape: [shape[axis]!], count: shape[axis]! };
  }
  if (!(Number.isInteger(blockSize) && blockSize >= 1)) {
    throw new RangeError(
      `Cannot quantize tensor '${name}': block size ${blockSize} is not a positive integer`,
    );
  }
  const paramShape = shape.map((d, i) => (i === axis ? Math.ceil(d / blockSize) : d));
  return { shape, axis, blockSize, paramShape, count: paramShape.reduce((a, b) => a * b, 1) };
}

/**
 * The parameter index of every element, in row-major order.
 *
 * @param layout The layout.
 * @returns One index per element.
 */
export function groupIndex(layout: ParamLayout): Int32Array {
  const { shape, axis, blockSize } = layout;
  const n = shape.reduce((a, b) => a * b, 1);
  const out = new Int32Array(n);
  if (axis === undefined) return out;
  const inner = shape.slice(axis + 1).reduce((a, b) => a * b, 1);
  const dim = shape[axis]!;
  const blocks = blockSize === undefined ? dim : Math.ceil(dim / blockSize);
  for (let i = 0; i < n; i++) {
    const a = Math.floor(i / inner) % dim;
    const outer = Math.floor(i / (inner * dim));
    if (blockSize === undefined) out[i] = a;
    else out[i] = (outer * blocks + Math.floor(a / blockSize)) * inner + (i % inner);
  }
  return out;
}

/**
 * The kernels' axis options for a layout.
 *
 * @param layout The layout.
 * @returns `{ shape, axis?, blockSize? }` without undefined fields.
 */
export function axisOptions(
  layout: ParamLayout,
): { shape: readonly number[]; axis?: number; blockSize?: number } {
  const out: { shape: readonly number[]; axis?: number; blockSize?: number } = {
    shape: layout.shape,
  };
  if (layout.axis !== undefined) out.axis = layout.axis;
  if (layout.blockSize !== undefined) out.blockSize = layout.blockSize;
  return out;
}
