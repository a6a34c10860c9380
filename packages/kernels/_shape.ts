/**
 * Shape checks and the [outer, channels, inner] view that every per-axis and per-block kernel
 * works on. Imported only from this package.
 * @module
 */
import type { AxisOptions } from "./kernels.ts";

/**
 * A tensor viewed as [outer, channels, inner] around one axis; `blocks` is
 * `ceil(channels / blockSize)`, the length of the parameter axis. Whole-tensor work is
 * `outer = 1, channels = 1, inner = length`.
 */
export interface AxisView {
  readonly outer: number;
  readonly channels: number;
  readonly inner: number;
  readonly blockSize: number;
  readonly blocks: number;
  /** Number of output values (or parameters): 1, channels, or outer * blocks * inner. */
  readonly outputs: number;
  /** Whether parameters vary along outer and inner too (blocked) or only along the axis. */
  readonly blocked: boolean;
  /** Whether there is no axis (one value for everything). */
  readonly whole: boolean;
  /** How the parameter index moves with the inner index: 1 when blocked, else 0. */
  readonly innerStride: number;
}

/** "Cannot <verb> tensor 'name'" or "Cannot <verb> tensor". */
export function subject(verb: string, name: string | undefined): string {
  return name === undefined ? `Cannot ${verb} tensor` : `Cannot ${verb} tensor '${name}'`;
}

function isCount(n: number): boolean {
  return Number.isSafeInteger(n) && n >= 0;
}

/** Checks a shape against a length and returns it (default: `[length]`). */
export function checkShape(
  length: number,
  options: { readonly shape?: readonly number[] | undefined; readonly what: string },
): readonly number[] {
  const { shape, what } = options;
  if (shape === undefined) return [length];
  let count = 1;
  for (const d of shape) {
    if (!isCount(d)) throw new RangeError(`${what}: dimension ${d} is not a non-negative integer`);
    count *= d;
  }
  if (count !== length) {
    throw new RangeError(
      `${what}: shape [${shape.join(", ")}] has ${count} elements but the data has ${length}`,
    );
  }
  return shape;
}

/** Resolves a possibly negative axis. */
export function resolveAxis(
  axis: number,
  options: { readonly rank: number; readonly what: string },
): number {
  const { rank, what } = options;
  if (!Number.isInteger(axis) || axis < -rank || axis >= rank) {
    throw new RangeError(`${what}: axis ${axis} is out of range for rank ${rank}`);
  }
  return axis < 0 ? axis + rank : axis;
}

/** Builds the [outer, channels, inner] view for axis options; `verb` names the work in errors. */
export function axisView(
  length: number,
  options: AxisOptions & { readonly verb: string },
): AxisView {
  const what = subject(options.verb, options.name);
  const shape = checkShape(length, { shape: options.shape, what });
  if (options.axis === undefined) {
    if (options.blockSize !== undefined) {
      throw new RangeError(`${what}: blockSize needs an axis`);
    }
    return {
      outer: 1,
      channels: 1,
      inner: length,
      blockSize: 1,
      blocks: 1,
      outputs: 1,
      blocked: false,
      whole: true,
      innerStride: 0,
    };
  }
  const axis = resolveAxis(options.axis, { rank: shape.length, what });
  let outer = 1;
  let inner = 1;
  for (let d = 0; d < axis; d++) outer *= shape[d]!;
  for (let d = axis + 1; d < shape.length; d++) inner *= shape[d]!;
  const channels = shape[axis]!;
  if (options.blockSize === undefined) {
    return {
      outer,
      channels,
      inner,
      blockSize: 1,
      blocks: channels,
      outputs: channels,
      blocked: false,
      whole: false,
      innerStride: 0,
    };
  }
  const blockSize = options.blockSize;
  if (!Number.isSafeInteger(blockSize) || blockSize < 1) {
    throw new RangeError(`${what}: blockSize ${blockSize} is not a positive integer`);
  }
  const blocks = Math.ceil(channels / blockSize);
  return {
    outer,
    channels,
    inner,
    blockSize,
    blocks,
    outputs: outer * blocks * inner,
    blocked: true,
    whole: false,
    innerStride: 1,
  };
}

/**
 * The index of the parameter (or output) of element (o, c, 0) of a view; element (o, c, i) has
 * it plus `i * view.innerStride`. Whole: 0; per axis: c; blocked: (o * blocks + floor(c /
 * blockSize)) * inner.
 */
export function paramRow(view: AxisView, at: { readonly o: number; readonly c: number }): number {
  if (view.whole) return 0;
  if (!view.blocked) return at.c;
  return (at.o * view.blocks + Math.floor(at.c / view.blockSize)) * view.inner;
}

/** Checks matrix sizes against the lengths of a and b. */
export function checkMatmul(
  lengths: { readonly a: number; readonly b: number },
  sizes: { readonly m: number; readonly k: number; readonly n: number },
): void {
  const { m, k, n } = sizes;
  const aLength = lengths.a;
  const bLength = lengths.b;
  if (!isCount(m) || !isCount(k) || !isCount(n)) {
    throw new RangeError(`Cannot multiply matrices: sizes ${m}, ${k}, ${n} are not counts`);
  }
  if (aLength !== m * k || bLength !== k * n) {
    throw new RangeError(
      `Cannot multiply matrices: a has ${aLength} elements (expected ${m * k}) and b has ` +
        `${bLength} (expected ${k * n})`,
    );
  }
}
