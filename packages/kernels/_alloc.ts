/**
 * What every backend shares for `Kernels.alloc`, `Kernels.free` and `out` arrays: the class and
 * length of each element type, the checks, and the tracker of ordinary (host) arrays that the
 * reference and WebGPU backends hand out. Imported by the backends of this package only.
 * @module
 */
import type { ElementArrays, ElementType, QuantType } from "./kernels.ts";
import { quantRange } from "./quant_range.ts";

/** Any array that `alloc` can return. */
export type ElementArray = ElementArrays[ElementType];

/** A typed-array class that builds arrays over a buffer or of a length. */
export interface ElementClass {
  new (length: number): ElementArray;
  new (buffer: ArrayBufferLike, byteOffset: number, length: number): ElementArray;
  readonly BYTES_PER_ELEMENT: number;
  readonly name: string;
}

/** The class and length of the array that holds `count` elements of a type. */
export interface ElementStorage {
  readonly Class: ElementClass;
  readonly length: number;
}

const CLASSES: Readonly<Record<ElementType, ElementClass>> = {
  float32: Float32Array,
  int32: Int32Array,
  int8: Int8Array,
  uint8: Uint8Array,
  int16: Int16Array,
  uint16: Uint16Array,
  int4: Uint8Array,
  uint4: Uint8Array,
  int2: Uint8Array,
  uint2: Uint8Array,
};

/**
 * The class and length of the array that holds `count` elements of `type` (packed bytes for 4
 * and 2 bits).
 *
 * @param type The element type.
 * @param count The number of elements.
 * @param verb The verb for error messages.
 * @returns Class and length.
 * @throws {TypeError} When the type is unknown.
 * @throws {RangeError} When `count` is not a non-negative safe integer.
 * @example
 * ```ts
 * import { elementStorage } from "./_alloc.ts";
 * elementStorage("int4", 5, "allocate").length; // 3
 * ```
 */
export function elementStorage(type: ElementType, count: number, verb: string): ElementStorage {
  const Class = Object.hasOwn(CLASSES, type) ? CLASSES[type] : undefined;
  if (Class === undefined) throw new TypeError(`Cannot ${verb} array: unknown type '${type}'`);
  if (!Number.isSafeInteger(count) || count < 0) {
    throw new RangeError(`Cannot ${verb} array: count ${count} is not a non-negative integer`);
  }
  if (type === "float32" || type === "int32") return { Class, length: count };
  const bits = quantRange(type as QuantType).bits;
  return { Class, length: bits >= 8 ? count : Math.ceil((count * bits) / 8) };
}

/** Whether two views share any byte. */
export function overlaps(a: ArrayBufferView, b: ArrayBufferView): boolean {
  return a.buffer === b.buffer && a.byteLength > 0 && b.byteLength > 0 &&
    a.byteOffset < b.byteOffset + b.byteLength && b.byteOffset < a.byteOffset + a.byteLength;
}

/**
 * Checks a caller's `out` array: the expected class and length, and no byte shared with the
 * input.
 *
 * @param out The array.
 * @param expected The class and length the kernel would allocate.
 * @param context The input and the start of error messages ("Cannot quantize tensor 'w'").
 * @throws {TypeError} When `out` is of another class.
 * @throws {RangeError} When its length differs or it overlaps the input.
 * @example
 * ```ts
 * import { checkOut } from "./_alloc.ts";
 * checkOut(new Int8Array(2), { Class: Int8Array, length: 2 }, {
 *   input: new Float32Array(2),
 *   what: "Cannot quantize tensor",
 * });
 * ```
 */
export function checkOut(
  out: ArrayBufferView,
  expected: ElementStorage,
  context: { readonly input: ArrayBufferView; readonly what: string },
): void {
  const { what } = context;
  if (out.constructor !== expected.Class) {
    throw new TypeError(
      `${what}: out is a ${out.constructor.name}, expected ${expected.Class.name}`,
    );
  }
  const length = (out as ElementArray).length;
  if (length !== expected.length) {
    throw new RangeError(`${what}: out has ${length} elements, expected ${expected.length}`);
  }
  if (overlaps(out, context.input)) throw new RangeError(`${what}: out overlaps the input`);
}

/**
 * The arrays handed out by a backend whose `alloc` returns ordinary arrays (the reference,
 * WebGPU, and WASM on an engine without resizable WASM buffers): they are tracked only so that
 * `free` answers as on every backend.
 */
export class HostArrays {
  #live = new WeakSet<ElementArray>();

  /**
   * A zero-filled array of `count` elements of `type`.
   *
   * @param type The element type.
   * @param count The number of elements.
   * @returns The array.
   * @example
   * ```ts
   * import { HostArrays } from "./_alloc.ts";
   * new HostArrays().alloc("float32", 3); // Float32Array [0, 0, 0]
   * ```
   */
  alloc(type: ElementType, count: number): ElementArray {
    const { Class, length } = elementStorage(type, count, "allocate");
    const array = new Class(length);
    this.#live.add(array);
    return array;
  }

  /**
   * Forgets an array from {@linkcode alloc}.
   *
   * @param array The array.
   * @throws {RangeError} When it was not allocated here or was freed already.
   * @example
   * ```ts
   * import { HostArrays } from "./_alloc.ts";
   * const arrays = new HostArrays();
   * arrays.free(arrays.alloc("int8", 3));
   * ```
   */
  free(array: ElementArray): void {
    if (!this.#live.delete(array)) throw notAllocated();
  }

  /**
   * Forgets every array.
   *
   * @example
   * ```ts
   * import { HostArrays } from "./_alloc.ts";
   * new HostArrays().clear();
   * ```
   */
  clear(): void {
    this.#live = new WeakSet();
  }
}

/**
 * The error of `free` for an array that is not live.
 *
 * @returns The error.
 * @example
 * ```ts
 * import { notAllocated } from "./_alloc.ts";
 * notAllocated().message; // "Cannot free array: it was not allocated by these kernels or was freed"
 * ```
 */
export function notAllocated(): RangeError {
  return new RangeError("Cannot free array: it was not allocated by these kernels or was freed");
}
