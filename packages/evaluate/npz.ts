/**
 * NumPy's `.npz` archives: a zip file whose entries `<name>.npy` are NPY files, stored
 * (`np.savez`) or deflated (`np.savez_compressed`), zip64 sizes included (NumPy writes zip64
 * local headers). Each entry is checked against its CRC-32.
 * @module
 */
import type { DatasetArray } from "./dataset.ts";
import { decodeNpy } from "./npy.ts";
import { readZip } from "./_zip.ts";

/**
 * Decodes a `.npz` archive into its arrays, by entry name without the `.npy` suffix.
 *
 * @param bytes The archive's bytes.
 * @returns The arrays, in the archive's order.
 * @throws {SyntaxError} When the zip container or an NPY entry is malformed.
 * @throws {TypeError} When an entry is encrypted, uses a compression method other than stored
 * or deflate, is not an `.npy` file, or holds an unsupported array (see `decodeNpy`).
 * @example
 * ```ts
 * import { decodeNpz } from "@modelpress/evaluate";
 * const { x, y } = await decodeNpz(await Deno.readFile("data.npz"));
 * ```
 */
export async function decodeNpz(bytes: Uint8Array): Promise<Record<string, DatasetArray>> {
  // No prototype, so that an entry named `__proto__.npy` is just an array.
  const arrays: Record<string, DatasetArray> = Object.create(null);
  for (const entry of await readZip(bytes)) {
    if (!entry.name.endsWith(".npy")) {
      throw new TypeError(`Cannot decode NPZ: entry '${entry.name}' is not an .npy file`);
    }
    const name = entry.name.slice(0, -4);
    try {
      arrays[name] = decodeNpy(entry.data);
    } catch (e) {
      if (!(e instanceof Error)) throw e;
      const Class = e.constructor as new (message: string, options: ErrorOptions) => Error;
      throw new Class(e.message.replace("Cannot decode NPY", `Cannot decode NPZ entry '${name}'`), {
        cause: e,
      });
    }
  }
  return arrays;
}
