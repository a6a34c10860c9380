/**
 * Where the command line writes: standard output and standard error as injectable text sinks, so
 * that tests run commands in-process and read what they printed.
 * @module
 */

/** A place to write text to, such as standard output. */
export interface TextSink {
  /**
   * Writes `text` as is (no newline is added).
   *
   * @param text The text.
   */
  write(text: string): void;
  /** Whether the sink is an interactive terminal; progress bars are drawn only then. */
  readonly isTerminal: boolean;
  /** Width of the terminal in columns, when it is one and the width is known. */
  readonly columns?: number | undefined;
}

/** The two output streams of a command. */
export interface CliIo {
  /** Results: tables, JSON. */
  readonly stdout: TextSink;
  /** Diagnostics: errors, progress bars. */
  readonly stderr: TextSink;
}

/** A {@linkcode TextSink} that keeps what was written, for tests. */
export interface MemorySink extends TextSink {
  /** Everything written so far. */
  text(): string;
}

/** Options for {@linkcode memorySink}. */
export interface MemorySinkOptions {
  /** Pretend to be a terminal (default false). */
  readonly isTerminal?: boolean;
  /** Terminal width to report. */
  readonly columns?: number;
}

const encoder = new TextEncoder();

/**
 * Makes a sink that writes synchronously to a Deno stream, all of the text even when the
 * operating system takes it in parts.
 *
 * @param stream `Deno.stdout` or `Deno.stderr`.
 * @returns The sink.
 * @example
 * ```ts
 * import { denoSink } from "@modelpress/cli";
 * denoSink(Deno.stdout).write("hello\n");
 * ```
 */
export function denoSink(stream: typeof Deno.stdout | typeof Deno.stderr): TextSink {
  const isTerminal = stream.isTerminal();
  return {
    isTerminal,
    get columns(): number | undefined {
      if (!isTerminal) return undefined;
      try {
        return Deno.consoleSize().columns;
      } catch {
        return undefined;
      }
    },
    write(text: string): void {
      let bytes = encoder.encode(text);
      while (bytes.length > 0) {
        const n = stream.writeSync(bytes);
        bytes = bytes.subarray(n);
      }
    },
  };
}

/**
 * The process's real standard output and standard error.
 *
 * @returns The IO pair.
 * @example
 * ```ts
 * import { denoIo, main } from "@modelpress/cli";
 * Deno.exitCode = await main(["inspect", "model.onnx"], denoIo());
 * ```
 */
export function denoIo(): CliIo {
  return { stdout: denoSink(Deno.stdout), stderr: denoSink(Deno.stderr) };
}

/**
 * Makes a sink that keeps everything written to it in memory.
 *
 * @param options Whether it claims to be a terminal, and how wide.
 * @returns The sink; `text()` returns what was written.
 * @example
 * ```ts
 * import { memorySink } from "@modelpress/cli";
 * const sink = memorySink();
 * sink.write("a");
 * sink.text(); // "a"
 * ```
 */
export function memorySink(options: MemorySinkOptions = {}): MemorySink {
  const parts: string[] = [];
  const sink: MemorySink = {
    isTerminal: options.isTerminal ?? false,
    write(text: string): void {
      parts.push(text);
    },
    text(): string {
      return parts.join("");
    },
  };
  return options.columns === undefined ? sink : { ...sink, columns: options.columns };
}

/**
 * Makes an IO pair of memory sinks, for running commands in tests.
 *
 * @param options Options for the stderr sink (stdout is never a terminal).
 * @returns The IO pair, with `stdout.text()` and `stderr.text()`.
 * @example
 * ```ts
 * import { main, memoryIo } from "@modelpress/cli";
 * const io = memoryIo();
 * const code = await main(["--help"], io);
 * console.log(code, io.stdout.text());
 * ```
 */
export function memoryIo(
  options: MemorySinkOptions = {},
): { readonly stdout: MemorySink; readonly stderr: MemorySink } {
  return { stdout: memorySink(), stderr: memorySink(options) };
}
