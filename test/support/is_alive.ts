/**
 * Whether a process still runs, for tests that check children are gone.
 * @module
 */

/**
 * Whether a process with this PID exists and is not a zombie (Linux: reads `/proc`).
 *
 * @param pid The process ID.
 * @returns True while the process runs.
 * @example
 * ```ts
 * import { isAlive } from "./is_alive.ts";
 * console.log(isAlive(Deno.pid)); // true
 * ```
 */
export function isAlive(pid: number): boolean {
  try {
    const stat = Deno.readTextFileSync(`/proc/${pid}/stat`);
    return stat.slice(stat.lastIndexOf(")") + 2, stat.lastIndexOf(")") + 3) !== "Z";
  } catch {
    return false;
  }
}
