/**
 * A one-line progress bar for long reads and writes, drawn on standard error only when it is a
 * terminal (never into logs or pipes).
 * @module
 */
import { formatBytes } from "./byte_size.ts";
import type { TextSink } from "./cli_io.ts";

/** Options for {@linkcode ProgressBar}. */
export interface ProgressBarOptions {
  /** The amount of work when done (bytes, unless `unit` says otherwise). */
  readonly total: number;
  /** What is in progress, such as `"read model.onnx"`. */
  readonly label?: string;
  /** How amounts are shown: `"bytes"` (default) as sizes, `"count"` as plain numbers. */
  readonly unit?: "bytes" | "count";
  /** Fewest milliseconds between two redraws (default 100), so a tight loop costs nothing. */
  readonly minIntervalMs?: number;
  /** Draw even when the sink is not a terminal (for tests). */
  readonly force?: boolean;
  /** Clock in milliseconds (for tests; default `performance.now`). */
  readonly now?: () => number;
}

const DEFAULT_COLUMNS = 80;
const MIN_BAR = 10;
const MAX_BAR = 40;

/**
 * A progress bar that redraws one terminal line with `\r`. Does nothing at all when the sink is
 * not a terminal, so callers need no checks of their own.
 *
 * @example
 * ```ts
 * import { denoSink, ProgressBar } from "@modelpress/cli";
 * const bar = new ProgressBar(denoSink(Deno.stderr), { total: 1000, label: "read" });
 * for (let done = 0; done <= 1000; done += 100) bar.update(done);
 * bar.finish();
 * ```
 */
export class ProgressBar {
  readonly #sink: TextSink;
  readonly #options: ProgressBarOptions;
  readonly #now: () => number;
  readonly #enabled: boolean;
  #lastDraw = Number.NEGATIVE_INFINITY;
  #done = 0;
  #drawn = false;
  #finished = false;

  /**
   * Makes a bar; nothing is drawn until the first update.
   *
   * @param sink Where to draw, normally standard error.
   * @param options Total, label, unit and redraw rate.
   */
  constructor(sink: TextSink, options: ProgressBarOptions) {
    if (!(options.total >= 0)) {
      throw new RangeError(`Cannot make a progress bar: total ${options.total} is not >= 0`);
    }
    this.#sink = sink;
    this.#options = Object.freeze({ ...options });
    this.#now = options.now ?? (() => performance.now());
    this.#enabled = sink.isTerminal || options.force === true;
  }

  /** Whether the bar draws anything (the sink is a terminal, or `force` was given). */
  get enabled(): boolean {
    return this.#enabled;
  }

  /**
   * Records progress and redraws if enough time has passed since the last redraw.
   *
   * @param done The amount done so far, clamped to `[0, total]`.
   */
  update(done: number): void {
    if (!this.#enabled || this.#finished) return;
    this.#done = Math.min(Math.max(done, 0), this.#options.total);
    const now = this.#now();
    if (now - this.#lastDraw < (this.#options.minIntervalMs ?? 100)) return;
    this.#lastDraw = now;
    this.#sink.write(`\r${this.render()}\u001b[K`);
    this.#drawn = true;
  }

  /** Clears the bar's line, so that what is printed next starts on a clean line. */
  finish(): void {
    if (!this.#enabled || this.#finished) return;
    this.#finished = true;
    if (this.#drawn) this.#sink.write("\r\u001b[K");
  }

  /**
   * The bar's current text, without control characters.
   *
   * @returns Text such as `read model.onnx [=====>    ]  52%  1.00 MiB / 1.92 MiB`.
   */
  render(): string {
    const { total, label } = this.#options;
    const fraction = total === 0 ? 1 : this.#done / total;
    const percent = `${Math.floor(fraction * 100)}%`.padStart(4);
    const amounts = `${this.#amount(this.#done)} / ${this.#amount(total)}`;
    const prefix = label ? `${label} ` : "";
    const columns = this.#sink.columns ?? DEFAULT_COLUMNS;
    const room = columns - prefix.length - percent.length - amounts.length - 6;
    const width = Math.max(MIN_BAR, Math.min(MAX_BAR, room));
    const filled = Math.floor(fraction * width);
    const bar = filled >= width
      ? "=".repeat(width)
      : "=".repeat(filled) + ">" + " ".repeat(width - filled - 1);
    return `${prefix}[${bar}] ${percent}  ${amounts}`;
  }

  #amount(n: number): string {
    return this.#options.unit === "count" ? String(n) : formatBytes(n);
  }
}
