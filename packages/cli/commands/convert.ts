/**
 * `modelpress convert IN OUT [--external-data-threshold BYTES] [--location NAME]`: decode a model
 * and encode it again, optionally moving large tensors to an external data file.
 *
 * The input's own external data (if any) is read and, without a threshold, written inline, so
 * that OUT never depends on files next to IN. With a threshold, every initializer and Constant
 * node value of the main graph whose raw data has at least that many bytes goes to
 * `<OUT name>.data` (or `--location`) next to OUT, at 64-byte aligned offsets. Tensors inside
 * subgraphs stay inline: onnxruntime-web 1.30 cannot load their external data. What was done is printed on stdout; progress bars for big
 * files go to stderr when it is a terminal.
 * @module
 */
import { basename } from "node:path";
import { formatBytes, parseByteSize } from "../byte_size.ts";
import type { CliIo } from "../cli_io.ts";
import { type Command, commandFailure, statInputFile } from "../command.ts";
import { formatTable } from "../format_table.ts";
import {
  checkDataFileName,
  type LoadedModel,
  loadModelFile,
  type SavedModel,
  saveModelFile,
} from "../model_files.ts";
import { parseArgs, UsageError } from "../parse_args.ts";

const HELP = `Usage: modelpress convert IN OUT [--external-data-threshold BYTES] [--location NAME]

Decodes the ONNX model IN and writes it to OUT. External data that IN refers to is read
and written inline, unless a threshold moves tensors to an external data file again.

Options:
  --external-data-threshold BYTES  Store main-graph initializers and Constant values with at
                                   least BYTES of raw data in an external data file next to
                                   OUT (subgraph tensors stay inline: onnxruntime-web cannot
                                   load them). BYTES: a number with an optional unit, such as
                                   1024, 64KiB, 1MB
  --location NAME                  File name of the external data file
                                   (default: OUT's file name + ".data")
  -h, --help                       Show this help

Examples:
  modelpress convert model.onnx copy.onnx
  modelpress convert model.onnx split.onnx --external-data-threshold 1KiB
`;

/**
 * The `convert` command.
 *
 * @example
 * ```ts
 * import { convertCommand, memoryIo } from "@modelpress/cli";
 * const io = memoryIo();
 * await convertCommand.run(["in.onnx", "out.onnx", "--external-data-threshold", "1KiB"], io);
 * console.log(io.stdout.text());
 * ```
 */
export const convertCommand: Command = Object.freeze({
  name: "convert",
  summary: "Re-encode a model, optionally moving large tensors to external data",
  help: HELP,
  run: runConvert,
});

async function runConvert(args: readonly string[], io: CliIo): Promise<number> {
  const parsed = parseArgs(args, {
    boolean: ["help"],
    string: ["external-data-threshold", "location"],
    alias: { h: "help" },
  });
  if (parsed.booleans.has("help")) {
    io.stdout.write(HELP);
    return 0;
  }
  const [input, output, ...extra] = parsed.positionals;
  if (input === undefined || output === undefined) {
    throw new UsageError(
      input === undefined
        ? "Missing IN and OUT: which model to read and where to write it"
        : "Missing OUT: where to write the model",
    );
  }
  if (extra.length > 0) throw new UsageError(`Unexpected argument '${extra[0]}'`);
  const thresholdText = parsed.strings.get("external-data-threshold");
  const location = parsed.strings.get("location");
  let threshold: number | undefined;
  if (thresholdText !== undefined) {
    try {
      threshold = parseByteSize(thresholdText);
    } catch (e) {
      throw new UsageError(`Option '--external-data-threshold': ${(e as Error).message}`);
    }
  }
  if (location !== undefined) {
    if (threshold === undefined) {
      throw new UsageError("Option '--location' needs '--external-data-threshold'");
    }
    try {
      checkDataFileName(location);
    } catch (e) {
      throw new UsageError(`Option '--location': ${(e as Error).message}`);
    }
  }

  await statInputFile("convert", input);
  let loaded: LoadedModel;
  try {
    loaded = await loadModelFile(input, { inlineExternalData: true, progress: io.stderr });
  } catch (e) {
    throw commandFailure(e, { verb: "read", path: input });
  }
  const rows: string[][] = [[
    "read",
    input,
    formatBytes(loaded.bytes),
    `${loaded.model.graph?.node.length ?? 0} nodes in the main graph`,
  ]];
  for (const file of loaded.externalFiles) {
    rows.push(["read", file.location, formatBytes(file.bytes), "external data, now inline"]);
  }

  let saved: SavedModel;
  try {
    saved = await saveModelFile(output, loaded.model, {
      progress: io.stderr,
      ...(threshold === undefined ? {} : { externalDataThreshold: threshold }),
      ...(location === undefined ? {} : { location }),
    });
  } catch (e) {
    const tooBig = e instanceof RangeError && threshold === undefined && /2 GiB/.test(e.message);
    throw commandFailure(
      tooBig ? new RangeError(`${e.message} (try --external-data-threshold 1KiB)`) : e,
      { verb: "write", path: output },
    );
  }
  if (saved.externalFile) {
    rows.push([
      "wrote",
      saved.externalFile.path,
      formatBytes(saved.externalFile.bytes),
      `${plural(saved.externalFile.tensors, "tensor")} of ${formatBytes(threshold ?? 0)} or more`,
    ]);
  }
  rows.push(["wrote", output, formatBytes(saved.bytes), "model"]);
  io.stdout.write(formatTable(rows, { align: ["left", "left", "right", "left"] }));
  const notes: string[] = [];
  if (threshold !== undefined && !saved.externalFile) {
    notes.push(
      `No main-graph initializer or Constant has ${formatBytes(threshold)} or more of raw ` +
        `data: nothing was moved to '${location ?? `${basename(output)}.data`}'.`,
    );
  }
  if (saved.keptInline.typedFields > 0) {
    notes.push(
      `${plural(saved.keptInline.typedFields, "tensor")} at or over the threshold stay inline: ` +
        "their data is in typed fields (float_data, ...), not raw_data.",
    );
  }
  if (saved.keptInline.subgraphs > 0) {
    notes.push(
      `${plural(saved.keptInline.subgraphs, "tensor")} at or over the threshold stay inline: ` +
        "they are in subgraphs, whose external data onnxruntime-web cannot load.",
    );
  }
  for (const note of notes) io.stdout.write(`${note}\n`);
  return 0;
}

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? "" : "s"}`;
}
