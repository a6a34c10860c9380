/**
 * Reads a whole file into one buffer of exactly its size. Deno.readFile grows its buffer while
 * reading and copies, which briefly needs about twice the file's size: too much for big models.
 * @module
 */

/**
 * Reads a whole file into one buffer of exactly its size, without the grow-and-copy of
 * `Deno.readFile`, so that reading a model needs no more memory than the model.
 *
 * @param path The file.
 * @returns Its bytes.
 * @throws {RangeError} When the file changes size while being read.
 * @example
 * ```ts
 * import { decodeModel, readFileExact } from "@modelpress/onnx";
 * const model = decodeModel(await readFileExact("model.onnx"));
 * ```
 */
export async function readFileExact(path: string): Promise<Uint8Array> {
  using file = await Deno.open(path, { read: true });
  const size = (await file.stat()).size;
  const out = new Uint8Array(size);
  let n = 0;
  while (n < size) {
    const r = await file.read(out.subarray(n));
    if (r === null) break;
    n += r;
  }
  if (n !== size) throw new RangeError(`Cannot read '${path}': it changed size while being read`);
  return out;
}
