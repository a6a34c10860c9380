/**
 * A temporary folder that lives for one callback.
 * @module
 */

/**
 * Creates a temporary folder, calls `fn` with its path and removes the folder with everything in
 * it afterwards, also when `fn` throws.
 *
 * @param fn What to do in the folder.
 * @returns What `fn` returns.
 * @example
 * ```ts
 * import { withTempDir } from "./temp_dir.ts";
 * await withTempDir(async (dir) => {
 *   await Deno.writeTextFile(`${dir}/a.txt`, "a");
 * });
 * ```
 */
export async function withTempDir<T>(fn: (dir: string) => T | Promise<T>): Promise<T> {
  const dir = await Deno.makeTempDir({ prefix: "modelpress_test_" });
  try {
    return await fn(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}
