/**
 * Reads a whole file into one buffer of exactly its size. Deno.readFile grows its buffer while
 * reading and copies, which briefly needs about twice the file's size: too much for big models.
 * @module
 */

/** Options of {@linkcode readFileExact}. */
export interface ReadFileExactOptions {
  /** Called after each read with the bytes read so far and the file size. */
  readonly onProgress?: (done: number, total: number) => void;
}

/**
 * Reads a whole file into one buffer of exactly its size, without the grow-and-copy of
 * `Deno.readFile`, so that reading a model needs no more memory than the model.
 *
 * @param path The file.
 * @param options `onProgress(done, total)` in bytes.
 * @returns Its bytes.
 * @throws {RangeError} When the file changes size while being read.
 * @example
 * ```ts
 * import { decodeModel, readFileExact } from "@modelpress/onnx";
 * const model = decodeModel(await readFileExact("model.onnx"));
 * ```
 */
export async function readFileExact(
  path: string,
  options: ReadFileExactOptions = {},
): Promise<Uint8Array> {
  using file = await Deno.open(path, { read: true });
  const size = (await file.stat()).size;
  const out = new Uint8Array(size);
  let n = 0;
  while (n < size) {
    // Reads of at most 16 MiB, so that progress moves on big files.
    const r = await file.read(out.subarray(n, Math.min(size, n + (16 << 20))));
    if (r === null) break;
    n += r;
    options.onProgress?.(n, size);
  }
  if (n !== size) throw new RangeError(`Cannot read '${path}': it changed size while being read`);
  return out;
}
