/**
 * `modelpress convert IN OUT [--external-data-threshold BYTES] [--location NAME]`: decode a model
 * and encode it again, optionally moving large tensors to an external data file.
 *
 * The input's own external data (if any) is read and, without a threshold, written inline, so
 * that OUT never depends on files next to IN. With a threshold, `writeModel` of
 * `@modelpress/onnx` puts every main-graph initializer of at least that many bytes into
 * `<OUT name>.data` (or `--location`) next to OUT, at 4096-byte aligned offsets. Tensors inside
 * subgraphs stay inline: onnxruntime-web 1.30 cannot load their external data. What was done is
 * printed on stdout; progress bars for big files go to stderr when it is a terminal.
 * @module
 */
import { basename, dirname, join } from "node:path";
import {
  externalDataInfo,
  loadExternalData,
  type ModelProto,
  modelTensors,
  readModel,
  TensorProto_DataLocation,
  writeModel,
  type WriteModelResult,
} from "@modelpress/onnx";
import { formatBytes, parseByteSize } from "../byte_size.ts";
import type { CliIo, TextSink } from "../cli_io.ts";
import { type Command, commandFailure, statInputFile } from "../command.ts";
import { FileProgress } from "../file_progress.ts";
import { formatTable } from "../format_table.ts";
import { parseArgs, UsageError } from "../parse_args.ts";

const HELP = `Usage: modelpress convert IN OUT [--external-data-threshold BYTES] [--location NAME]

Decodes the ONNX model IN and writes it to OUT. External data that IN refers to is read
and written inline, unless a threshold moves tensors to an external data file again.

Options:
  --external-data-threshold BYTES  Store main-graph initializers with at least BYTES of
                                   data in an external data file next to OUT (subgraph
                                   tensors stay inline: onnxruntime-web cannot load them).
                                   BYTES: a number with an optional unit, such as 1024,
                                   64KiB, 1MB
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
    // A plain file name, so that convert never writes outside OUT's folder.
    if (location === "" || location === "." || location === ".." || /[\\/]/.test(location)) {
      throw new UsageError(
        `Option '--location': '${location}' must be a plain file name (no folders)`,
      );
    }
  }

  const { size: inputBytes } = await statInputFile("convert", input);
  let read: { model: ModelProto; externalFiles: ExternalFile[] };
  try {
    read = await readInlined(input, io.stderr);
  } catch (e) {
    throw commandFailure(e, { verb: "read", path: input });
  }
  const rows: string[][] = [[
    "read",
    input,
    formatBytes(inputBytes),
    `${read.model.graph?.node.length ?? 0} nodes in the main graph`,
  ]];
  for (const file of read.externalFiles) {
    rows.push(["read", file.location, formatBytes(file.bytes), "external data, now inline"]);
  }

  let written: WriteModelResult;
  try {
    using progress = new FileProgress(io.stderr, `write ${output}`);
    written = await writeModel(output, read.model, {
      onProgress: progress.onProgress,
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
  if (written.external) {
    rows.push([
      "wrote",
      written.external.path,
      formatBytes(written.external.bytes),
      `${plural(written.external.tensors, "tensor")} of ${formatBytes(threshold ?? 0)} or more`,
    ]);
  }
  rows.push(["wrote", output, formatBytes(written.modelBytes), "model"]);
  io.stdout.write(formatTable(rows, { align: ["left", "left", "right", "left"] }));
  if (threshold === undefined) return 0;
  if (!written.external) {
    io.stdout.write(
      `No main-graph initializer has ${formatBytes(threshold)} or more of data: nothing was ` +
        `moved to '${location ?? `${basename(output)}.data`}'.\n`,
    );
  }
  const inSubgraphs = written.keptInSubgraphs;
  if (inSubgraphs > 0) {
    io.stdout.write(
      `${plural(inSubgraphs, "tensor")} at or over the threshold stay inline: they are in ` +
        "subgraphs, whose external data onnxruntime-web cannot load.\n",
    );
  }
  return 0;
}

/** An external data file that the input referred to. */
interface ExternalFile {
  readonly location: string;
  readonly bytes: number;
}

/**
 * Reads a model and loads its external data into `raw_data`, with progress bars for big files.
 * Lazily first, then tensor by tensor: `readModel`'s `"load"` reports no progress for side files.
 */
async function readInlined(
  path: string,
  sink: TextSink,
): Promise<{ model: ModelProto; externalFiles: ExternalFile[] }> {
  let model: ModelProto;
  {
    using progress = new FileProgress(sink, `read ${path}`);
    model = await readModel(path, { externalData: "lazy", onProgress: progress.onProgress });
  }
  const external = [...new Set(modelTensors(model))]
    .filter((t) => t.dataLocation === TensorProto_DataLocation.EXTERNAL)
    .map((tensor) => ({ tensor, info: externalDataInfo(tensor) }));
  const total = external.reduce((sum, e) => sum + e.info.length, 0);
  {
    using progress = new FileProgress(sink, `read external data of ${path}`);
    let done = 0;
    for (const { tensor, info } of external) {
      await loadExternalData(tensor);
      done += info.length;
      progress.onProgress(done, total);
    }
  }
  const externalFiles: ExternalFile[] = [];
  for (const location of new Set(external.map((e) => e.info.location))) {
    externalFiles.push({ location, bytes: (await Deno.stat(join(dirname(path), location))).size });
  }
  return { model, externalFiles };
}

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? "" : "s"}`;
}
