/**
 * Test helpers of this package: NPY files and zip archives written byte by byte from their
 * specifications (numpy/lib/format.py "NPY format"; PKWARE APPNOTE 6.3), since tests cannot run
 * NumPy. Imported by this package's tests only.
 * @module
 */
import { crc32 } from "./_zip.ts";

/** Options of {@link npyBytes}. */
export interface NpyBytesOptions {
  /** The format version's major number (default 1). */
  readonly major?: 1 | 2 | 3;
  /** Pad the header so that the data start at a multiple of this (default 64, as NumPy does). */
  readonly align?: number;
}

/**
 * An NPY file: magic, version, header length, the header dict padded with spaces and ending in
 * a newline, then the data.
 *
 * @param header The dict literal, such as `{'descr': '<f4', 'fortran_order': False, 'shape': (2,), }`.
 * @param data The raw data bytes.
 * @param options Version and alignment.
 * @returns The file's bytes.
 */
export function npyBytes(
  header: string,
  data: Uint8Array,
  options: NpyBytesOptions = {},
): Uint8Array {
  const major = options.major ?? 1;
  const align = options.align ?? 64;
  const lengthBytes = major === 1 ? 2 : 4;
  const text = new TextEncoder().encode(header);
  const unpadded = 8 + lengthBytes + text.length + 1;
  const padding = (align - (unpadded % align)) % align;
  const headerLength = text.length + padding + 1;
  const out = new Uint8Array(8 + lengthBytes + headerLength + data.length);
  out.set([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, major, 0]);
  const view = new DataView(out.buffer);
  if (major === 1) view.setUint16(8, headerLength, true);
  else view.setUint32(8, headerLength, true);
  let at = 8 + lengthBytes;
  out.set(text, at);
  at += text.length;
  out.fill(0x20, at, at + padding);
  out[at + padding] = 0x0a;
  out.set(data, 8 + lengthBytes + headerLength);
  return out;
}

/**
 * The bytes of typed array elements in big-endian order.
 *
 * @param array The elements (host order, little-endian).
 * @returns Each element's bytes reversed.
 */
export function bigEndianBytes(array: ArrayBufferView): Uint8Array {
  const size = (array as unknown as { BYTES_PER_ELEMENT: number }).BYTES_PER_ELEMENT;
  const out = new Uint8Array(
    array.buffer.slice(array.byteOffset, array.byteOffset + array.byteLength),
  );
  for (let i = 0; i < out.length; i += size) out.subarray(i, i + size).reverse();
  return out;
}

/**
 * The bytes of typed array elements (host order, little-endian).
 *
 * @param array The elements.
 * @returns A copy of their bytes.
 */
export function littleEndianBytes(array: ArrayBufferView): Uint8Array {
  return new Uint8Array(array.buffer.slice(array.byteOffset, array.byteOffset + array.byteLength));
}

/**
 * Raw deflate (no zlib or gzip wrapper) with CompressionStream.
 *
 * @param data The bytes.
 * @returns The deflated bytes.
 */
export async function deflateRaw(data: Uint8Array): Promise<Uint8Array> {
  const stream = new Blob([data as Uint8Array<ArrayBuffer>]).stream().pipeThrough(
    new CompressionStream("deflate-raw"),
  );
  return new Uint8Array(await new Response(stream).arrayBuffer());
}

/** One entry of {@link zipBytes}. */
export interface ZipInput {
  /** The entry's name. */
  readonly name: string;
  /** The uncompressed data (its CRC and size go into the headers). */
  readonly data: Uint8Array;
  /** The compression method written (default 0, stored). */
  readonly method?: number;
  /** The bytes stored (default `data`; give the deflated bytes for method 8). */
  readonly stored?: Uint8Array;
  /** General-purpose flags (default 0; bit 0 means encrypted). */
  readonly flags?: number;
  /** CRC-32 written (default the data's). */
  readonly crc?: number;
}

/**
 * A zip archive: local headers and data, the central directory, and the end record; with
 * `zip64`, every size and offset is 0xFFFFFFFF in the headers and given in zip64 extra fields,
 * and a zip64 end record and locator precede the end record.
 *
 * @param entries The entries.
 * @param options `zip64`, and a `comment` for the end record.
 * @returns The archive's bytes.
 */
export function zipBytes(
  entries: readonly ZipInput[],
  options: { readonly zip64?: boolean; readonly comment?: string } = {},
): Uint8Array {
  const zip64 = options.zip64 ?? false;
  const parts: Uint8Array[] = [];
  let offset = 0;
  const push = (bytes: Uint8Array): void => {
    parts.push(bytes);
    offset += bytes.length;
  };
  const header = (size: number, fill: (v: DataView) => void): Uint8Array => {
    const bytes = new Uint8Array(size);
    fill(new DataView(bytes.buffer));
    return bytes;
  };
  const central: Uint8Array[] = [];
  for (const e of entries) {
    const name = new TextEncoder().encode(e.name);
    const stored = e.stored ?? e.data;
    const crc = e.crc ?? crc32(e.data);
    const localOffset = offset;
    const localExtra = zip64 ? 20 : 0;
    push(header(30 + name.length + localExtra, (v) => {
      v.setUint32(0, 0x04034b50, true);
      v.setUint16(4, zip64 ? 45 : 20, true);
      v.setUint16(6, (e.flags ?? 0) | 0x800, true);
      v.setUint16(8, e.method ?? 0, true);
      v.setUint32(14, crc, true);
      v.setUint32(18, zip64 ? 0xffffffff : stored.length, true);
      v.setUint32(22, zip64 ? 0xffffffff : e.data.length, true);
      v.setUint16(26, name.length, true);
      v.setUint16(28, localExtra, true);
      new Uint8Array(v.buffer).set(name, 30);
      if (zip64) {
        const x = 30 + name.length;
        v.setUint16(x, 1, true);
        v.setUint16(x + 2, 16, true);
        v.setBigUint64(x + 4, BigInt(e.data.length), true);
        v.setBigUint64(x + 12, BigInt(stored.length), true);
      }
    }));
    push(stored);
    const centralExtra = zip64 ? 28 : 0;
    central.push(header(46 + name.length + centralExtra, (v) => {
      v.setUint32(0, 0x02014b50, true);
      v.setUint16(4, zip64 ? 45 : 20, true);
      v.setUint16(6, zip64 ? 45 : 20, true);
      v.setUint16(8, (e.flags ?? 0) | 0x800, true);
      v.setUint16(10, e.method ?? 0, true);
      v.setUint32(16, crc, true);
      v.setUint32(20, zip64 ? 0xffffffff : stored.length, true);
      v.setUint32(24, zip64 ? 0xffffffff : e.data.length, true);
      v.setUint16(28, name.length, true);
      v.setUint16(30, centralExtra, true);
      v.setUint32(42, zip64 ? 0xffffffff : localOffset, true);
      new Uint8Array(v.buffer).set(name, 46);
      if (zip64) {
        const x = 46 + name.length;
        v.setUint16(x, 1, true);
        v.setUint16(x + 2, 24, true);
        v.setBigUint64(x + 4, BigInt(e.data.length), true);
        v.setBigUint64(x + 12, BigInt(stored.length), true);
        v.setBigUint64(x + 20, BigInt(localOffset), true);
      }
    }));
  }
  const cdOffset = offset;
  for (const c of central) push(c);
  const cdSize = offset - cdOffset;
  if (zip64) {
    const recordOffset = offset;
    push(header(56, (v) => {
      v.setUint32(0, 0x06064b50, true);
      v.setBigUint64(4, 44n, true);
      v.setUint16(12, 45, true);
      v.setUint16(14, 45, true);
      v.setBigUint64(24, BigInt(entries.length), true);
      v.setBigUint64(32, BigInt(entries.length), true);
      v.setBigUint64(40, BigInt(cdSize), true);
      v.setBigUint64(48, BigInt(cdOffset), true);
    }));
    push(header(20, (v) => {
      v.setUint32(0, 0x07064b50, true);
      v.setBigUint64(8, BigInt(recordOffset), true);
      v.setUint32(16, 1, true);
    }));
  }
  const comment = new TextEncoder().encode(options.comment ?? "");
  push(header(22 + comment.length, (v) => {
    v.setUint32(0, 0x06054b50, true);
    v.setUint16(8, zip64 ? 0xffff : entries.length, true);
    v.setUint16(10, zip64 ? 0xffff : entries.length, true);
    v.setUint32(12, zip64 ? 0xffffffff : cdSize, true);
    v.setUint32(16, zip64 ? 0xffffffff : cdOffset, true);
    v.setUint16(20, comment.length, true);
    new Uint8Array(v.buffer).set(comment, 22);
  }));
  const out = new Uint8Array(offset);
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}
