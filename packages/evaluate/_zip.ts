/**
 * A reader of zip archives (PKWARE APPNOTE 6.3): entries found through the central directory,
 * zip64 sizes and offsets, stored (method 0) and deflated (method 8, through
 * `DecompressionStream("deflate-raw")`) entries, each checked against its CRC-32.
 * @module
 */

/** One file of an archive, its data inflated. */
export interface ZipEntry {
  /** The entry's name (UTF-8 or CP437 as flagged; CP437 read as Latin-1). */
  readonly name: string;
  /** The entry's data. */
  readonly data: Uint8Array;
}

const EOCD = 0x06054b50;
const ZIP64_LOCATOR = 0x07064b50;
const ZIP64_EOCD = 0x06064b50;
const CENTRAL = 0x02014b50;
const LOCAL = 0x04034b50;
const MAX16 = 0xffff;
const MAX32 = 0xffffffff;

let crcTable: Uint32Array | undefined;

/**
 * CRC-32 (ISO-HDLC, the zip and gzip one) of bytes.
 *
 * @param bytes The bytes.
 * @returns The CRC as an unsigned 32-bit number.
 */
export function crc32(bytes: Uint8Array): number {
  crcTable ??= Uint32Array.from({ length: 256 }, (_, n) => {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    return c >>> 0;
  });
  let crc = MAX32;
  for (let i = 0; i < bytes.length; i++) crc = crcTable[(crc ^ bytes[i]!) & 0xff]! ^ (crc >>> 8);
  return (crc ^ MAX32) >>> 0;
}

/**
 * Throws a SyntaxError about a malformed archive.
 *
 * @param what What is wrong.
 */
function malformed(what: string): never {
  throw new SyntaxError(`Cannot read zip archive: ${what}`);
}

/**
 * Reads a little-endian uint64 that must fit a safe integer.
 *
 * @param view The bytes.
 * @param at The offset.
 * @returns The number.
 */
function u64(view: DataView, at: number): number {
  const n = view.getBigUint64(at, true);
  if (n > BigInt(Number.MAX_SAFE_INTEGER)) malformed(`a zip64 field holds ${n}, beyond 2^53`);
  return Number(n);
}

/**
 * Inflates raw deflate data.
 *
 * @param data The compressed bytes.
 * @returns The inflated bytes.
 */
async function inflateRaw(data: Uint8Array): Promise<Uint8Array> {
  const stream = new Blob([data as Uint8Array<ArrayBuffer>]).stream().pipeThrough(
    new DecompressionStream("deflate-raw"),
  );
  return new Uint8Array(await new Response(stream).arrayBuffer());
}

/**
 * Reads every file entry of a zip archive (directories skipped), in central-directory order.
 *
 * @param bytes The archive.
 * @returns The entries.
 * @throws {SyntaxError} When the archive is malformed or a CRC does not match.
 * @throws {TypeError} When an entry is encrypted or compressed with a method other than stored
 * or deflate, or the archive spans several disks.
 */
export async function readZip(bytes: Uint8Array): Promise<ZipEntry[]> {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const inRange = (at: number, length: number): boolean => at >= 0 && at + length <= bytes.length;
  // The end-of-central-directory record: 22 bytes plus a comment of up to 65,535.
  let eocd = -1;
  for (let at = bytes.length - 22; at >= Math.max(0, bytes.length - 22 - MAX16); at--) {
    if (
      view.getUint32(at, true) === EOCD && at + 22 + view.getUint16(at + 20, true) === bytes.length
    ) {
      eocd = at;
      break;
    }
  }
  if (eocd < 0) malformed("no end-of-central-directory record (not a zip file, or truncated)");
  let disk = view.getUint16(eocd + 4, true);
  let entries = view.getUint16(eocd + 10, true);
  let cdSize = view.getUint32(eocd + 12, true);
  let cdOffset = view.getUint32(eocd + 16, true);
  const locator = eocd - 20;
  if (inRange(locator, 20) && view.getUint32(locator, true) === ZIP64_LOCATOR) {
    const at = u64(view, locator + 8);
    if (!inRange(at, 56) || view.getUint32(at, true) !== ZIP64_EOCD) {
      malformed("the zip64 locator points to no zip64 end-of-central-directory record");
    }
    disk = view.getUint32(at + 16, true);
    entries = u64(view, at + 32);
    cdSize = u64(view, at + 40);
    cdOffset = u64(view, at + 48);
  } else if (entries === MAX16 || cdSize === MAX32 || cdOffset === MAX32) {
    malformed("zip64 sizes are flagged but the zip64 locator is missing");
  }
  if (disk !== 0) {
    throw new TypeError("Cannot read zip archive: multi-disk archives are not supported");
  }
  if (!inRange(cdOffset, cdSize)) malformed("the central directory lies outside the file");
  const out: ZipEntry[] = [];
  let at = cdOffset;
  for (let i = 0; i < entries; i++) {
    if (!inRange(at, 46) || view.getUint32(at, true) !== CENTRAL) {
      malformed(`central directory entry ${i} is missing or damaged`);
    }
    const flags = view.getUint16(at + 8, true);
    const method = view.getUint16(at + 10, true);
    const crc = view.getUint32(at + 16, true);
    let compressedSize = view.getUint32(at + 20, true);
    let size = view.getUint32(at + 24, true);
    const nameLength = view.getUint16(at + 28, true);
    const extraLength = view.getUint16(at + 30, true);
    const commentLength = view.getUint16(at + 32, true);
    let localOffset = view.getUint32(at + 42, true);
    if (!inRange(at + 46, nameLength + extraLength + commentLength)) {
      malformed(`central directory entry ${i} runs past the end of the file`);
    }
    const nameBytes = bytes.subarray(at + 46, at + 46 + nameLength);
    const name = new TextDecoder(flags & 0x800 ? "utf-8" : "latin1").decode(nameBytes);
    // The zip64 extra field holds, in this order, those of the sizes and offset set to MAX32.
    let extra = at + 46 + nameLength;
    const extraEnd = extra + extraLength;
    while (extra + 4 <= extraEnd) {
      const id = view.getUint16(extra, true);
      const length = view.getUint16(extra + 2, true);
      if (id === 0x0001) {
        let field = extra + 4;
        const next = (): number => {
          if (field + 8 > extra + 4 + length) malformed(`zip64 extra field of '${name}' is short`);
          const n = u64(view, field);
          field += 8;
          return n;
        };
        if (size === MAX32) size = next();
        if (compressedSize === MAX32) compressedSize = next();
        if (localOffset === MAX32) localOffset = next();
      }
      extra += 4 + length;
    }
    at = extraEnd + commentLength;
    if (name.endsWith("/")) continue;
    if (flags & 0x1 || flags & 0x40 || method === 99) {
      throw new TypeError(`Cannot read zip entry '${name}': it is encrypted`);
    }
    if (method !== 0 && method !== 8) {
      throw new TypeError(
        `Cannot read zip entry '${name}': compression method ${method} is not supported ` +
          "(only 0, stored, and 8, deflate)",
      );
    }
    if (!inRange(localOffset, 30) || view.getUint32(localOffset, true) !== LOCAL) {
      malformed(`the local header of '${name}' is missing`);
    }
    const dataStart = localOffset + 30 + view.getUint16(localOffset + 26, true) +
      view.getUint16(localOffset + 28, true);
    if (!inRange(dataStart, compressedSize)) malformed(`the data of '${name}' run past the end`);
    const raw = bytes.subarray(dataStart, dataStart + compressedSize);
    let data: Uint8Array;
    if (method === 0) {
      data = raw;
    } else {
      try {
        data = await inflateRaw(raw);
      } catch (e) {
        throw new SyntaxError(`Cannot read zip entry '${name}': its deflate data are damaged`, {
          cause: e,
        });
      }
    }
    if (data.length !== size) {
      malformed(`'${name}' inflates to ${data.length} bytes, the directory says ${size}`);
    }
    if (crc32(data) !== crc) malformed(`the CRC-32 of '${name}' does not match its data`);
    out.push({ name, data });
  }
  return out;
}
