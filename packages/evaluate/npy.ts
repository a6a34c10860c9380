/**
 * NumPy's `.npy` format (format versions 1.0, 2.0 and 3.0), read per its specification
 * (numpy/lib/format.py, "NPY format"): the magic `\x93NUMPY`, a major and minor version byte, a
 * little-endian header length (2 bytes in 1.0, 4 bytes in 2.0 and 3.0), then an ASCII (1.0, 2.0)
 * or UTF-8 (3.0) Python dict literal with the keys `descr`, `fortran_order` and `shape`, padded
 * with spaces and a newline; the data follow, exactly `count · itemsize` bytes.
 *
 * Supported dtypes: `b1 i1 u1 i2 u2 i4 u4 i8 u8 f2 f4 f8` in either byte order (`<`, `>`, `=`,
 * `|`); big-endian data are converted to host order, float16 is widened to float32. Structured
 * dtypes, objects, strings and complex numbers are refused, and so is Fortran order (the reader
 * does not transpose; save with `np.ascontiguousarray`) unless at most one dim exceeds 1, where
 * both orders lay out the same bytes.
 * @module
 */
import { float16ToFloat32 } from "@modelpress/onnx";
import type { DatasetArray, DatasetDtype, NumericArray } from "./dataset.ts";

const MAGIC = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]; // \x93NUMPY

/** Element kinds by NumPy type code and size. */
const KINDS: Readonly<Record<string, { readonly dtype: DatasetDtype; readonly size: number }>> = {
  b1: { dtype: "bool", size: 1 },
  i1: { dtype: "int8", size: 1 },
  u1: { dtype: "uint8", size: 1 },
  i2: { dtype: "int16", size: 2 },
  u2: { dtype: "uint16", size: 2 },
  i4: { dtype: "int32", size: 4 },
  u4: { dtype: "uint32", size: 4 },
  i8: { dtype: "int64", size: 8 },
  u8: { dtype: "uint64", size: 8 },
  f2: { dtype: "float16", size: 2 },
  f4: { dtype: "float32", size: 4 },
  f8: { dtype: "float64", size: 8 },
};

/** A value of the Python literal subset that NPY headers use. */
type PyValue = string | number | boolean | null | PyValue[] | Map<string, PyValue>;

/**
 * A parser of Python literals (dicts, tuples, lists, strings, integers, True/False/None).
 */
class PyLiteralParser {
  readonly #text: string;
  #pos = 0;

  /**
   * Creates a parser.
   *
   * @param text The literal.
   */
  constructor(text: string) {
    this.#text = text;
  }

  /**
   * Parses the whole text as one value.
   *
   * @returns The value.
   */
  parse(): PyValue {
    const value = this.#value();
    this.#skipSpace();
    if (this.#pos !== this.#text.length) this.#fail("unexpected text after the dict");
    return value;
  }

  #fail(what: string): never {
    throw new SyntaxError(
      `Cannot decode NPY: header ${what} at character ${this.#pos}: ${JSON.stringify(this.#text)}`,
    );
  }

  #skipSpace(): void {
    while (this.#pos < this.#text.length && /\s/.test(this.#text[this.#pos]!)) this.#pos++;
  }

  #value(): PyValue {
    this.#skipSpace();
    const c = this.#text[this.#pos];
    if (c === "{") return this.#dict();
    if (c === "(" || c === "[") return this.#sequence(c === "(" ? ")" : "]");
    if (c === "'" || c === '"') return this.#string();
    const word = /^(?:True|False|None|[+-]?\d+L?)/.exec(this.#text.slice(this.#pos))?.[0];
    if (word === undefined) this.#fail("has an unexpected token");
    this.#pos += word.length;
    if (word === "True") return true;
    if (word === "False") return false;
    if (word === "None") return null;
    return Number(word.replace("L", ""));
  }

  #dict(): Map<string, PyValue> {
    const map = new Map<string, PyValue>();
    this.#pos++;
    for (;;) {
      this.#skipSpace();
      if (this.#text[this.#pos] === "}") {
        this.#pos++;
        return map;
      }
      const key = this.#value();
      if (typeof key !== "string") this.#fail("has a non-string key");
      this.#skipSpace();
      if (this.#text[this.#pos] !== ":") this.#fail("lacks a ':'");
      this.#pos++;
      map.set(key, this.#value());
      this.#skipSpace();
      const c = this.#text[this.#pos];
      if (c === ",") this.#pos++;
      else if (c !== "}") this.#fail("lacks a ',' or '}'");
    }
  }

  #sequence(close: string): PyValue[] {
    const items: PyValue[] = [];
    this.#pos++;
    for (;;) {
      this.#skipSpace();
      if (this.#text[this.#pos] === close) {
        this.#pos++;
        return items;
      }
      items.push(this.#value());
      this.#skipSpace();
      const c = this.#text[this.#pos];
      if (c === ",") this.#pos++;
      else if (c !== close) this.#fail(`lacks a ',' or '${close}'`);
    }
  }

  #string(): string {
    const quote = this.#text[this.#pos]!;
    let out = "";
    for (this.#pos++; this.#pos < this.#text.length; this.#pos++) {
      const c = this.#text[this.#pos]!;
      if (c === quote) {
        this.#pos++;
        return out;
      }
      if (c === "\\") {
        this.#pos++;
        out += this.#text[this.#pos] ?? "";
      } else {
        out += c;
      }
    }
    this.#fail("has an unterminated string");
  }
}

/**
 * Reads the fields of an NPY header dict.
 *
 * @param header The dict literal.
 * @returns The type code, whether it is big-endian, and the shape.
 */
function parseHeader(header: string): { code: string; bigEndian: boolean; shape: number[] } {
  const dict = new PyLiteralParser(header).parse();
  if (!(dict instanceof Map)) {
    throw new SyntaxError(`Cannot decode NPY: header is not a dict: ${JSON.stringify(header)}`);
  }
  const descr = dict.get("descr");
  const fortran = dict.get("fortran_order");
  const shape = dict.get("shape");
  if (typeof descr !== "string") {
    throw typeof descr === "object" && descr !== null
      ? new TypeError("Cannot decode NPY: structured dtypes are not supported")
      : new SyntaxError(`Cannot decode NPY: header has no 'descr' string: ${header.trim()}`);
  }
  if (typeof fortran !== "boolean") {
    throw new SyntaxError(
      `Cannot decode NPY: header has no boolean 'fortran_order': ${header.trim()}`,
    );
  }
  if (!Array.isArray(shape) || !shape.every((d) => Number.isSafeInteger(d) && (d as number) >= 0)) {
    throw new SyntaxError(
      `Cannot decode NPY: header 'shape' is not a tuple of non-negative integers: ${header.trim()}`,
    );
  }
  const match = /^([<>|=]?)([a-zA-Z?]\d*)$/.exec(descr);
  const code = match?.[2] === "?" ? "b1" : match?.[2];
  if (match === null || code === undefined || KINDS[code] === undefined) {
    throw new TypeError(
      `Cannot decode NPY: dtype '${descr}' is not supported (supported: bool, int8 to int64, ` +
        "uint8 to uint64, float16, float32, float64)",
    );
  }
  if (fortran && shape.filter((d) => d !== 1).length > 1) {
    throw new TypeError(
      "Cannot decode NPY: the array is in Fortran order; save it in C order " +
        "(np.ascontiguousarray) first",
    );
  }
  return { code, bigEndian: match[1] === ">", shape: shape as number[] };
}

/**
 * Decodes a `.npy` file of numeric dtype in C order.
 *
 * @param bytes The file's bytes.
 * @returns The array (big-endian data converted to host order, float16 widened to float32).
 * @throws {SyntaxError} When the magic, version or header is malformed.
 * @throws {TypeError} When the dtype is not supported or the array is in Fortran order.
 * @throws {RangeError} When the data's length does not match the shape.
 * @example
 * ```ts
 * import { decodeNpy } from "@modelpress/evaluate";
 * const x = decodeNpy(await Deno.readFile("x.npy"));
 * console.log(x.dtype, x.shape); // float32 [100, 784]
 * ```
 */
export function decodeNpy(bytes: Uint8Array): DatasetArray {
  if (bytes.length < 10 || MAGIC.some((b, i) => bytes[i] !== b)) {
    throw new SyntaxError("Cannot decode NPY: the file does not start with \\x93NUMPY");
  }
  const major = bytes[6]!;
  const minor = bytes[7]!;
  if (major < 1 || major > 3) {
    throw new SyntaxError(
      `Cannot decode NPY: format version ${major}.${minor} is not supported (1.0, 2.0, 3.0)`,
    );
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const lengthBytes = major === 1 ? 2 : 4;
  if (bytes.length < 8 + lengthBytes) throw new SyntaxError("Cannot decode NPY: truncated header");
  const headerLength = major === 1 ? view.getUint16(8, true) : view.getUint32(8, true);
  const dataStart = 8 + lengthBytes + headerLength;
  if (dataStart > bytes.length) {
    throw new SyntaxError(
      `Cannot decode NPY: header of ${headerLength} bytes runs past the end of the file`,
    );
  }
  let header: string;
  try {
    header = new TextDecoder(major === 3 ? "utf-8" : "latin1", { fatal: true }).decode(
      bytes.subarray(8 + lengthBytes, dataStart),
    );
  } catch (e) {
    throw new SyntaxError("Cannot decode NPY: header is not valid text", { cause: e });
  }
  const { code, bigEndian, shape } = parseHeader(header);
  const kind = KINDS[code]!;
  const count = shape.reduce((p, d) => p * d, 1);
  const need = count * kind.size;
  const have = bytes.length - dataStart;
  if (have !== need) {
    throw new RangeError(
      `Cannot decode NPY: shape (${shape.join(", ")}) of ${kind.dtype} needs ${need} data ` +
        `bytes, the file holds ${have}`,
    );
  }
  // A copy, so the array is aligned and owns its memory.
  const raw = bytes.slice(dataStart);
  if (bigEndian && kind.size > 1) {
    for (let i = 0; i < raw.length; i += kind.size) raw.subarray(i, i + kind.size).reverse();
  }
  return { dtype: kind.dtype, shape, data: toArray(kind.dtype, raw.buffer) };
}

/**
 * Views little-endian element bytes as the dtype's array.
 *
 * @param dtype The element type.
 * @param buffer The bytes (owned, aligned).
 * @returns The array.
 */
function toArray(dtype: DatasetDtype, buffer: ArrayBuffer): NumericArray {
  switch (dtype) {
    case "bool":
      return new Uint8Array(buffer).map((b) => (b !== 0 ? 1 : 0));
    case "int8":
      return new Int8Array(buffer);
    case "uint8":
      return new Uint8Array(buffer);
    case "int16":
      return new Int16Array(buffer);
    case "uint16":
      return new Uint16Array(buffer);
    case "int32":
      return new Int32Array(buffer);
    case "uint32":
      return new Uint32Array(buffer);
    case "int64":
      return new BigInt64Array(buffer);
    case "uint64":
      return new BigUint64Array(buffer);
    case "float16":
      return float16ToFloat32(new Uint16Array(buffer));
    case "float32":
      return new Float32Array(buffer);
    case "float64":
      return new Float64Array(buffer);
  }
}
