/**
 * The WASM `memory.copy` bandwidth baseline for benchmarks.
 * @module
 */
import { WasmArena } from "./_arena.ts";

/**
 * Prepares a copy of `byteLength` bytes inside the kernels' WASM memory (one `memory.copy`).
 *
 * @param byteLength Bytes per copy.
 * @returns A function that performs one copy.
 * @example
 * ```ts
 * import { createWasmCopyBaseline } from "@modelpress/kernels";
 * const copy = await createWasmCopyBaseline(1 << 20);
 * copy();
 * ```
 */
export async function createWasmCopyBaseline(byteLength: number): Promise<() => void> {
  const arena = await WasmArena.create();
  const src = arena.alloc(byteLength);
  const dst = arena.alloc(byteLength);
  return () => arena.exports.copy(dst, src, byteLength);
}
