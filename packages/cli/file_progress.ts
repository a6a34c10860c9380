/**
 * Progress bars fed by the `onProgress(done, total)` callbacks of `@modelpress/onnx`
 * (`readFileExact`, `readModel`, `writeModel`), for files large enough that a silent terminal
 * would look stuck.
 * @module
 */
import type { TextSink } from "./cli_io.ts";
import { ProgressBar } from "./progress_bar.ts";

/** Totals at least this large get a progress bar (when the sink is a terminal). */
export const PROGRESS_MIN_BYTES = 16 * 1024 * 1024;

/** Options for {@linkcode FileProgress}. */
export interface FileProgressOptions {
  /** Smallest total that gets a bar (default {@linkcode PROGRESS_MIN_BYTES}). */
  readonly minBytes?: number;
}

/**
 * An `onProgress(done, total)` callback that draws a {@linkcode ProgressBar} on a terminal when
 * the total is large enough, and draws nothing otherwise. Disposing it clears the bar's line, so
 * declare it with `using` and the line is clean whether the work succeeds or throws.
 *
 * @example
 * ```ts
 * import { readFileExact } from "@modelpress/onnx";
 * import { denoSink, FileProgress } from "@modelpress/cli";
 * using progress = new FileProgress(denoSink(Deno.stderr), "read model.onnx");
 * const bytes = await readFileExact("model.onnx", { onProgress: progress.onProgress });
 * ```
 */
export class FileProgress implements Disposable {
  readonly #sink: TextSink;
  readonly #label: string;
  readonly #minBytes: number;
  #bar: ProgressBar | undefined;
  #total: number | undefined;

  /**
   * Makes the callback; nothing is drawn until the first call.
   *
   * @param sink Where to draw, normally standard error.
   * @param label What is in progress, such as `"read model.onnx"`.
   * @param options The smallest total that gets a bar.
   */
  constructor(sink: TextSink, label: string, options: FileProgressOptions = {}) {
    this.#sink = sink;
    this.#label = label;
    this.#minBytes = options.minBytes ?? PROGRESS_MIN_BYTES;
  }

  /**
   * Records progress; pass it as `onProgress` (it needs no `this`).
   *
   * @param done Bytes done so far.
   * @param total Bytes in all, as known now.
   */
  readonly onProgress = (done: number, total: number): void => {
    // writeModel learns its total only once the side file is written: a new total, a new bar.
    if (total !== this.#total) {
      this.#bar?.finish();
      this.#total = total;
      this.#bar = this.#sink.isTerminal && total >= this.#minBytes
        ? new ProgressBar(this.#sink, { total, label: this.#label })
        : undefined;
    }
    this.#bar?.update(done);
  };

  /** Clears the bar's line, so that what is printed next starts on a clean line. */
  [Symbol.dispose](): void {
    this.#bar?.finish();
  }
}
