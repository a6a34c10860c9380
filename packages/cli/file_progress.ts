/**
 * Reading and writing whole files in chunks with a progress bar, for model files large enough
 * that a silent terminal would look stuck.
 * @module
 */
import type { TextSink } from "./cli_io.ts";
import { ProgressBar } from "./progress_bar.ts";

/** Files at least this large get a progress bar (when the sink is a terminal). */
export const PROGRESS_MIN_BYTES = 16 * 1024 * 1024;

const CHUNK_BYTES = 4 * 1024 * 1024;

/** Options for {@linkcode readFileWithProgress} and {@linkcode writeFileWithProgress}. */
export interface FileProgressOptions {
  /** Where to draw the bar (normally stderr); without it no bar is drawn. */
  readonly progress?: TextSink;
  /** Label in front of the bar (default: the verb and the path). */
  readonly label?: string;
  /** Smallest file that gets a bar (default {@linkcode PROGRESS_MIN_BYTES}). */
  readonly minBytes?: number;
  /** Bytes per read or write call (default 4 MiB). */
  readonly chunkBytes?: number;
}

/**
 * Reads a whole file. Large files are read in chunks into one buffer, drawing a progress bar.
 *
 * @param path The file.
 * @param options Progress sink, label and thresholds.
 * @returns The file's bytes.
 * @throws {Deno.errors.NotFound} When the file does not exist (and other `Deno.errors`).
 * @example
 * ```ts
 * import { denoSink, readFileWithProgress } from "@modelpress/cli";
 * const bytes = await readFileWithProgress("model.onnx", { progress: denoSink(Deno.stderr) });
 * ```
 */
export async function readFileWithProgress(
  path: string,
  options: FileProgressOptions = {},
): Promise<Uint8Array> {
  using file = await Deno.open(path, { read: true });
  const size = (await file.stat()).size;
  const bar = makeBar(size, `read ${path}`, options);
  try {
    const buffer = new Uint8Array(size);
    const chunk = options.chunkBytes ?? CHUNK_BYTES;
    let offset = 0;
    while (offset < size) {
      const n = await file.read(buffer.subarray(offset, Math.min(size, offset + chunk)));
      if (n === null) break;
      offset += n;
      bar?.update(offset);
    }
    if (offset < size) return buffer.subarray(0, offset);
    // The file may have grown since stat(); keep whatever came after.
    const rest = await readRest(file);
    return rest.length === 0 ? buffer : concat([buffer, rest]);
  } finally {
    bar?.finish();
  }
}

/**
 * Writes bytes to a file (created or truncated), in chunks, drawing a progress bar for large
 * writes. Several parts are written one after the other without joining them in memory first.
 *
 * @param path The file.
 * @param data The bytes, or parts written in order.
 * @param options Progress sink, label and thresholds.
 * @returns The number of bytes written.
 * @example
 * ```ts
 * import { denoSink, writeFileWithProgress } from "@modelpress/cli";
 * await writeFileWithProgress("copy.onnx", new Uint8Array(10), { progress: denoSink(Deno.stderr) });
 * ```
 */
export async function writeFileWithProgress(
  path: string,
  data: Uint8Array | readonly Uint8Array[],
  options: FileProgressOptions = {},
): Promise<number> {
  const parts = data instanceof Uint8Array ? [data] : data;
  const total = parts.reduce((sum, part) => sum + part.length, 0);
  const bar = makeBar(total, `write ${path}`, options);
  const chunk = options.chunkBytes ?? CHUNK_BYTES;
  using file = await Deno.open(path, { write: true, create: true, truncate: true });
  let written = 0;
  try {
    for (const part of parts) {
      for (let offset = 0; offset < part.length; offset += chunk) {
        let piece = part.subarray(offset, Math.min(part.length, offset + chunk));
        while (piece.length > 0) {
          const n = await file.write(piece);
          piece = piece.subarray(n);
          written += n;
        }
        bar?.update(written);
      }
    }
  } finally {
    bar?.finish();
  }
  return written;
}

function makeBar(total: number, label: string, options: FileProgressOptions): ProgressBar | null {
  const sink = options.progress;
  if (!sink?.isTerminal || total < (options.minBytes ?? PROGRESS_MIN_BYTES)) return null;
  return new ProgressBar(sink, { total, label: options.label ?? label });
}

async function readRest(file: Deno.FsFile): Promise<Uint8Array> {
  const parts: Uint8Array[] = [];
  const chunk = new Uint8Array(64 * 1024);
  while (true) {
    const n = await file.read(chunk);
    if (n === null) break;
    parts.push(chunk.slice(0, n));
  }
  return concat(parts);
}

function concat(parts: readonly Uint8Array[]): Uint8Array {
  if (parts.length === 1) return parts[0] as Uint8Array;
  const out = new Uint8Array(parts.reduce((sum, p) => sum + p.length, 0));
  let offset = 0;
  for (const part of parts) {
    out.set(part, offset);
    offset += part.length;
  }
  return out;
}
