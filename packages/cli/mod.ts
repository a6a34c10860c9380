/**
 * `@modelpress/cli`: the `modelpress` command line, and the pieces it is made of (argument
 * parsing, tables, progress bars, model summaries) for other tools to reuse.
 *
 * @example
 * ```ts
 * import { main, memoryIo } from "@modelpress/cli";
 * const io = memoryIo();
 * const code = await main(["inspect", "model.onnx"], io);
 * console.log(code, io.stdout.text());
 * ```
 * @module
 */
export * from "./main.ts";
export * from "./cli_io.ts";
export * from "./command.ts";
export * from "./commands/inspect.ts";
export * from "./commands/convert.ts";
export * from "./commands/eval.ts";
export * from "./commands/quantize.ts";
export * from "./commands/prune.ts";
export * from "./parse_args.ts";
export * from "./format_table.ts";
export * from "./byte_size.ts";
export * from "./progress_bar.ts";
export * from "./file_progress.ts";
export * from "./model_files.ts";
export * from "./summary_text.ts";
export * from "./summarize_model.ts";
