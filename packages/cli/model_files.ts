/**
 * The file work of the commands that rewrite a model (`prune`, `quantize`): read the model with
 * a progress bar, write it back, read a recipe file, and write or print the JSON report, each
 * failure worded by `commandFailure` ("Cannot read 'model.onnx': ...").
 * @module
 */
import { type ModelProto, readModel, writeModel } from "@modelpress/onnx";
import type { CliIo } from "./cli_io.ts";
import { commandFailure, statInputFile } from "./command.ts";
import { FileProgress } from "./file_progress.ts";
import { inputAndOutput, parseArgs, type ParsedArgs, UsageError } from "./parse_args.ts";

/** A model read by {@linkcode readModelFile}. */
export interface ModelFile {
  /** The decoded model. */
  readonly model: ModelProto;
  /** The file's size in bytes. */
  readonly inputBytes: number;
  /** Nodes in the main graph as read (before any rewriting). */
  readonly mainNodes: number;
  /** Milliseconds the read took. */
  readonly readMs: number;
}

/**
 * Checks that the input is a file (failing as "Cannot <verb> '<path>': ..." otherwise), then
 * reads and decodes it with a progress bar on `io.stderr` for large files.
 *
 * @param input The model's path, as the user wrote it.
 * @param io Where the progress bar goes.
 * @param verb What the command does, for a missing file (`prune`, `quantize`).
 * @returns The model, its size, its main graph's node count and the read time.
 * @throws {Error} A command failure naming the file.
 * @example
 * ```ts
 * import { memoryIo } from "./cli_io.ts";
 * import { readModelFile } from "./model_files.ts";
 * const { model, inputBytes } = await readModelFile("test/fixtures/mnist_mlp.onnx", memoryIo(), "prune");
 * console.log(model.graph?.node.length, inputBytes);
 * ```
 */
export async function readModelFile(input: string, io: CliIo, verb: string): Promise<ModelFile> {
  const { size: inputBytes } = await statInputFile(verb, input);
  const started = performance.now();
  let model: ModelProto;
  try {
    using progress = new FileProgress(io.stderr, `read ${input}`);
    model = await readModel(input, { onProgress: progress.onProgress });
  } catch (e) {
    throw commandFailure(e, { verb: "read", path: input });
  }
  return {
    model,
    inputBytes,
    mainNodes: model.graph?.node.length ?? 0,
    readMs: performance.now() - started,
  };
}

/**
 * Encodes and writes a model, with a progress bar on `io.stderr` for large files.
 *
 * @param output Where to write, as the user wrote it.
 * @param model The model.
 * @param io Where the progress bar goes.
 * @throws {Error} A command failure "Cannot write '<output>': ...".
 * @example
 * ```ts
 * import { readModel } from "@modelpress/onnx";
 * import { memoryIo } from "./cli_io.ts";
 * import { writeModelFile } from "./model_files.ts";
 * const model = await readModel("test/fixtures/mnist_mlp.onnx");
 * await writeModelFile("/tmp/copy.onnx", model, memoryIo());
 * ```
 */
export async function writeModelFile(output: string, model: ModelProto, io: CliIo): Promise<void> {
  try {
    using progress = new FileProgress(io.stderr, `write ${output}`);
    await writeModel(output, model, { onProgress: progress.onProgress });
  } catch (e) {
    throw commandFailure(e, { verb: "write", path: output });
  }
}

/**
 * Reads a recipe file as JSON ("Cannot read recipe '<path>': not valid JSON: ..." otherwise);
 * a method given by flag fills in an object that has none. The caller validates the result.
 *
 * @param path The recipe file.
 * @param method The method a flag gives, if any.
 * @returns The file's value (with the method filled in).
 * @throws {Error} A command failure when the file is missing or not JSON.
 * @example
 * ```ts
 * import { readRecipeFile } from "./model_files.ts";
 * await Deno.writeTextFile("/tmp/recipe.json", '{"sparsity":0.5}');
 * await readRecipeFile("/tmp/recipe.json", "magnitude"); // { sparsity: 0.5, method: "magnitude" }
 * ```
 */
export async function readRecipeFile(path: string, method: string | undefined): Promise<unknown> {
  await statInputFile("read recipe", path);
  let value: unknown;
  try {
    value = JSON.parse(await Deno.readTextFile(path));
  } catch (e) {
    const why = e instanceof SyntaxError ? new SyntaxError(`not valid JSON: ${e.message}`) : e;
    throw commandFailure(why, { verb: "read recipe", path });
  }
  if (
    method !== undefined && typeof value === "object" && value !== null &&
    !Array.isArray(value) && !("method" in value)
  ) {
    value = { ...value, method };
  }
  return value;
}

/** Options of {@linkcode outputReport}. */
export interface OutputReportOptions {
  /** Where to write the JSON report, if anywhere (`--report FILE`). */
  readonly reportPath?: string | undefined;
  /** Whether to print the JSON report on stdout instead of a summary (`--json`). */
  readonly json: boolean;
}

/**
 * Writes the report as indented JSON to `reportPath` when given, and prints the same JSON on
 * stdout with `json`.
 *
 * @param report The report (JSON-serializable).
 * @param io Where to print.
 * @param options The report file, and whether to print JSON.
 * @returns Whether the JSON was printed (then the command prints no summary).
 * @throws {Error} A command failure "Cannot write report '<path>': ...".
 * @example
 * ```ts
 * import { memoryIo } from "./cli_io.ts";
 * import { outputReport } from "./model_files.ts";
 * const io = memoryIo();
 * await outputReport({ ok: true }, io, { json: true }); // true; io.stdout.text() is the JSON
 * ```
 */
export async function outputReport(
  report: unknown,
  io: CliIo,
  options: OutputReportOptions,
): Promise<boolean> {
  const json = JSON.stringify(report, null, 2) + "\n";
  const { reportPath } = options;
  if (reportPath !== undefined) {
    try {
      await Deno.writeTextFile(reportPath, json);
    } catch (e) {
      throw commandFailure(e, { verb: "write report", path: reportPath });
    }
  }
  if (options.json) io.stdout.write(json);
  return options.json;
}

/** Options of {@linkcode parseModelCommand}. */
export interface ModelCommandSpec {
  /** What the command does, for messages (`prune`). */
  readonly verb: string;
  /** The help text, printed for `-h`/`--help`. */
  readonly help: string;
  /** The command's own boolean flags, besides `help` and `json`. */
  readonly boolean: readonly string[];
  /**
   * The command's own flags with a value, besides `output`, `method`, `recipe`, `report` and
   * `calibration`.
   */
  readonly string: readonly string[];
}

/** The command line of a command that rewrites a model, as {@linkcode parseModelCommand} reads it. */
export interface ModelCommandArgs {
  /** The parsed arguments. */
  readonly parsed: ParsedArgs;
  /** The input model's path. */
  readonly input: string;
  /** The output model's path. */
  readonly output: string;
}

/**
 * Parses the command line of a command that rewrites a model (`prune`, `quantize`): the flags
 * every such command has (`-h`, `--json`, `-o`, `--method`, `--recipe`, `--report`,
 * `--calibration`) and its own; prints the help and answers undefined for `--help`; otherwise
 * checks IN and `-o OUT` (see `inputAndOutput`).
 *
 * @param args The arguments after the command's name.
 * @param io Where the help goes.
 * @param spec The command's verb, help and own flags.
 * @returns The parsed arguments with IN and OUT, or undefined after printing the help.
 * @throws {UsageError} For unknown flags and missing IN or OUT.
 * @example
 * ```ts
 * import { memoryIo } from "./cli_io.ts";
 * import { parseModelCommand } from "./model_files.ts";
 * const args = parseModelCommand(["a.onnx", "-o", "b.onnx", "--global"], memoryIo(), {
 *   verb: "prune",
 *   help: "Usage: ...\n",
 *   boolean: ["global"],
 *   string: ["sparsity"],
 * });
 * args?.output; // "b.onnx"
 * ```
 */
export function parseModelCommand(
  args: readonly string[],
  io: CliIo,
  spec: ModelCommandSpec,
): ModelCommandArgs | undefined {
  const parsed = parseArgs(args, {
    boolean: ["help", "json", ...spec.boolean],
    string: ["output", "method", "recipe", "report", "calibration", ...spec.string],
    alias: { h: "help", o: "output" },
  });
  if (parsed.booleans.has("help")) {
    io.stdout.write(spec.help);
    return undefined;
  }
  return { parsed, ...inputAndOutput(parsed, spec.verb) };
}

/** Options of {@linkcode resolveRecipe}. */
export interface ResolveRecipeOptions<F extends { readonly method?: string }, S, R> {
  /** The recipe file's path (`--recipe`), if given. */
  readonly recipePath: string | undefined;
  /** The settings the flags give. */
  readonly flags: F;
  /** The methods in words, for a missing `--method` ("magnitude, random or nm"). */
  readonly methods: string;
  /** Reads and validates the recipe file (a method given by flag fills one that has none). */
  readonly read: (path: string, method: F["method"] | undefined) => Promise<S>;
  /** The file's settings with the flags' on top, validated. */
  readonly merge: (file: S | undefined, flags: F) => R;
}

/**
 * The recipe of a command that rewrites a model: a method is needed from `--method` or the
 * recipe file (a usage error otherwise); the file, if any, is read on its own, then the flags'
 * settings go on top.
 *
 * @param options The recipe file, the flags' settings, and how to read and merge them.
 * @returns The recipe.
 * @throws {UsageError} "Missing --method: <methods> (or a --recipe file that sets it)".
 * @example
 * ```ts
 * import { resolveRecipe } from "./model_files.ts";
 * const recipe = await resolveRecipe({
 *   recipePath: undefined,
 *   flags: { method: "magnitude" },
 *   methods: "magnitude or nm",
 *   read: () => Promise.resolve({}),
 *   merge: (file, flags) => ({ ...file, ...flags }),
 * }); // { method: "magnitude" }
 * ```
 */
export async function resolveRecipe<F extends { readonly method?: string }, S, R>(
  options: ResolveRecipeOptions<F, S, R>,
): Promise<R> {
  const { recipePath, flags } = options;
  if (recipePath === undefined && flags.method === undefined) {
    throw new UsageError(
      `Missing --method: ${options.methods} (or a --recipe file that sets it)`,
    );
  }
  const fromFile = recipePath === undefined
    ? undefined
    : await options.read(recipePath, flags.method);
  return options.merge(fromFile, flags);
}

/** What the summary of a command that rewrites a model says besides its report. */
export interface ModelCommandSummary {
  /** The input's path. */
  readonly input: string;
  /** The output's path. */
  readonly output: string;
  /** The input's size in bytes. */
  readonly inputBytes: number;
  /** Nodes in the input's main graph. */
  readonly mainNodes: number;
  /** Milliseconds of reading. */
  readonly readMs: number;
  /** Milliseconds of the command's own work (pruning, quantizing). */
  readonly workMs: number;
  /** Milliseconds of writing. */
  readonly writeMs: number;
  /** The JSON report's path, when written. */
  readonly reportPath?: string;
}

/** Options of {@linkcode writeOutputs}. */
export interface WriteOutputsOptions<R> {
  /** The model as read, rewritten in place. */
  readonly file: ModelFile;
  /** The command's report. */
  readonly report: R;
  /** The input's path. */
  readonly input: string;
  /** The output's path. */
  readonly output: string;
  /** Where to write the JSON report, if anywhere. */
  readonly reportPath: string | undefined;
  /** Whether to print the JSON report instead of the summary. */
  readonly json: boolean;
  /** Milliseconds of the command's own work. */
  readonly workMs: number;
  /** Formats the summary for people. */
  readonly format: (report: R, summary: ModelCommandSummary) => string;
}

/**
 * The end of a command that rewrites a model: writes the model ({@linkcode writeModelFile}),
 * then the report ({@linkcode outputReport}), then, unless the JSON was printed, the summary.
 *
 * @param io Where to print.
 * @param options The model, report, paths and the summary's formatter.
 * @returns The exit code, 0.
 * @throws {Error} A command failure when a file cannot be written.
 * @example
 * ```ts
 * import { memoryIo } from "./cli_io.ts";
 * import { readModelFile, writeOutputs } from "./model_files.ts";
 * const io = memoryIo();
 * const input = "test/fixtures/mnist_mlp.onnx";
 * const file = await readModelFile(input, io, "copy");
 * await writeOutputs(io, {
 *   file, report: {}, input, output: "/tmp/copy.onnx", reportPath: undefined, json: false,
 *   workMs: 0, format: (_report, s) => `Wrote ${s.output}\n`,
 * });
 * ```
 */
export async function writeOutputs<R>(io: CliIo, options: WriteOutputsOptions<R>): Promise<number> {
  const { file, report, output, reportPath } = options;
  const started = performance.now();
  await writeModelFile(output, file.model, io);
  const writeMs = performance.now() - started;
  if (await outputReport(report, io, { reportPath, json: options.json })) return 0;
  io.stdout.write(options.format(report, {
    input: options.input,
    output,
    inputBytes: file.inputBytes,
    mainNodes: file.mainNodes,
    readMs: file.readMs,
    workMs: options.workMs,
    writeMs,
    ...(reportPath === undefined ? {} : { reportPath }),
  }));
  return 0;
}
