/**
 * `modelpress quantize IN -o OUT --method linear|dynamic|static|log|kmeans|int4 [--calibration DATA] [--bits N] [--per-channel|--per-tensor|
 * --block-size N] [--symmetric|--asymmetric] [--range minmax|percentile|mse|std] [--recipe FILE]
 * [--report FILE] [--json]`: quantize a model's weights with `quantizeModel` of
 * `@modelpress/quantize` and write the result.
 *
 * Flags map onto a recipe (`QuantizeRecipe`); a `--recipe` JSON file is validated on its own with
 * `validateRecipe` (a bad file fails with exit code 1 and the validator's message), then the flags
 * given replace its top-level settings (its overrides stay). Flags that contradict each other, or
 * that make an invalid recipe, are wrong usage (exit code 2). Settings no flag and no file gives
 * take the library's defaults: 8 bits, signed, symmetric, per channel, min/max range.
 *
 * The text output is a summary for people; `--json` prints the library's `QuantizationReport`
 * instead, and `--report FILE` writes the same JSON to a file. Progress bars for reading,
 * quantizing and writing go to stderr when it is a terminal and the input is large.
 * @module
 */
import {
  type CalibrationMethod,
  type NodeReport,
  type QuantizationReport,
  quantizeModel,
  type QuantizeRecipe,
  resolveSettings,
  validateRecipe,
} from "@modelpress/quantize";
import { formatBytes } from "../byte_size.ts";
import type { CliIo } from "../cli_io.ts";
import { type Command, commandFailure } from "../command.ts";
import { PROGRESS_MIN_BYTES } from "../file_progress.ts";
import { formatTable } from "../format_table.ts";
import {
  type ModelCommandSummary,
  parseModelCommand,
  readModelFile,
  readRecipeFile,
  resolveRecipe,
  writeOutputs,
} from "../model_files.ts";
import { parseWholeNumber, UsageError } from "../parse_args.ts";
import { ProgressBar } from "../progress_bar.ts";
import { readCalibration } from "../read_dataset.ts";
import {
  formatDuration as ms,
  formatPercent as pct,
  labelRows as labelled,
  plural,
} from "../summary_text.ts";

const HELP =
  `Usage: modelpress quantize IN -o OUT --method linear|dynamic|static|log|kmeans|int4 [options]

Quantizes the weights of the ONNX model IN and writes the result to OUT. Every model written
loads and runs in onnxruntime-web.

Methods:
  linear    Weights stored as 2..8 (or 16) bit integers, dequantized before their float
            operators (QDQ). MatMul, Gemm, Conv, ConvTranspose, LSTM, GRU, RNN.
  dynamic   Int8 weights and integer kernels (MatMulInteger, ConvInteger) with activation
            ranges computed per input at run time, as ONNX Runtime's quantize_dynamic.
  static    Weights as linear, and activations quantized and dequantized (QDQ) over ranges
            calibrated on a dataset (--calibration) in onnxruntime-web.
  log       Signed power-of-two codes plus a codebook (3..8 bits), rebuilt with Gather.
  kmeans    A k-means codebook per tensor or channel (2..8 bits): weight sharing.
  int4      Weight-only 4-bit in blocks (default 32) along the input channels: MatMulNBits for
            MatMul/Gemm, DequantizeLinear elsewhere. Shorthand for linear --bits 4 --block-size N.

Options:
  -o, --output OUT       Where to write the quantized model (required)
  --method NAME          linear, dynamic, static, log, kmeans or int4 (required unless the
                         recipe file gives it)
  --bits N               Bits per weight: 2..8 or 16 (dynamic: 8). Default 8
  --per-channel          One range per output channel (the default)
  --per-tensor           One range per weight tensor
  --block-size N         One range per block of N input channels (linear only)
  --symmetric            Symmetric ranges: zero maps to zero (the default)
  --asymmetric           Asymmetric ranges with a zero point (dynamic: with --per-tensor)
  --range NAME           How weight ranges are chosen: minmax (default), percentile, mse, std
                         (their parameters take the defaults; set them in a recipe file)
  --calibration DATA     static: the calibration dataset, mnist or FILE.npz|.npy|.json
  --calibration-method M static: minmax (default), percentile, entropy or mse
  --calibration-samples N
                         static: samples used for calibration (default 500)
  --recipe FILE.json     A recipe (method, bits, signed, symmetric, granularity, blockSize,
                         range, overrides per node); the options above replace its settings
  --report FILE.json     Write the JSON report: per tensor and per node, size, time, kernels
  --json                 Print the JSON report instead of the summary
  -h, --help             Show this help

Examples:
  modelpress quantize model.onnx -o int8.onnx --method dynamic
  modelpress quantize model.onnx -o int4.onnx --method linear --bits 4 --block-size 32
  modelpress quantize model.onnx -o s8.onnx --method static --calibration mnist
  modelpress quantize model.onnx -o q.onnx --recipe recipe.json --report report.json
`;

const RANGES = ["minmax", "percentile", "mse", "std"];
const METHODS = ["linear", "dynamic", "static", "log", "kmeans", "int4"];
const CALIBRATION_METHODS = ["minmax", "percentile", "entropy", "mse"];

/**
 * The `quantize` command.
 *
 * @example
 * ```ts
 * import { memoryIo, quantizeCommand } from "@modelpress/cli";
 * const io = memoryIo();
 * await quantizeCommand.run(["model.onnx", "-o", "int8.onnx", "--method", "dynamic"], io);
 * console.log(io.stdout.text());
 * ```
 */
export const quantizeCommand: Command = Object.freeze({
  name: "quantize",
  summary: "Quantize a model's weights (linear QDQ or dynamic int8), with a report",
  help: HELP,
  run: runQuantize,
});

async function runQuantize(args: readonly string[], io: CliIo): Promise<number> {
  const command = parseModelCommand(args, io, {
    verb: "quantize",
    help: HELP,
    boolean: ["per-channel", "per-tensor", "symmetric", "asymmetric"],
    string: ["bits", "block-size", "range", "calibration-method", "calibration-samples"],
  });
  if (command === undefined) return 0;
  const { parsed, input, output } = command;
  const flags = flagSettings(parsed.strings, parsed.booleans);
  const recipe = await resolveRecipe({
    recipePath: parsed.strings.get("recipe"),
    flags,
    methods: "linear, dynamic, static, log, kmeans or int4",
    read: readRecipe,
    merge: mergeRecipe,
  });
  const reportPath = parsed.strings.get("report");
  const usesStatic = recipe.method === "static" ||
    (recipe.overrides ?? []).some((o) => o.method === "static");
  const dataset = await readCalibration(parsed.strings.get("calibration"), {
    neededBy: usesStatic ? "static quantization" : undefined,
    usedBy: "--method static",
  });

  const file = await readModelFile(input, io, "quantize");
  const { model, inputBytes } = file;
  const read = performance.now();

  let report: QuantizationReport;
  const bar = inputBytes >= PROGRESS_MIN_BYTES
    ? { current: undefined as ProgressBar | undefined }
    : undefined;
  try {
    ({ report } = await quantizeModel(model, recipe, {
      ...(dataset === undefined ? {} : { dataset }),
      onProgress: (done, total) => {
        if (bar === undefined) return;
        bar.current ??= new ProgressBar(io.stderr, { total, label: "quantize", unit: "count" });
        bar.current.update(done);
      },
    }));
  } catch (e) {
    throw commandFailure(e, { verb: "quantize", path: input });
  } finally {
    bar?.current?.finish();
  }
  const quantized = performance.now();

  return await writeOutputs(io, {
    file,
    report,
    input,
    output,
    reportPath,
    json: parsed.booleans.has("json"),
    workMs: quantized - read,
    format: formatSummary,
  });
}

/** The recipe settings that command-line flags give. */
interface FlagSettings {
  method?: "linear" | "dynamic" | "static" | "log" | "kmeans";
  bits?: number;
  symmetric?: boolean;
  granularity?: "tensor" | "channel" | "block";
  blockSize?: number;
  range?: { method: "minmax" | "percentile" | "mse" | "std" };
  calibration?: { method: CalibrationMethod; samples?: number };
}

function flagSettings(
  strings: ReadonlyMap<string, string>,
  booleans: ReadonlySet<string>,
): FlagSettings {
  const out: FlagSettings = {};
  const method = strings.get("method");
  if (method !== undefined) {
    if (!METHODS.includes(method)) {
      throw new UsageError(
        `Option '--method': unknown method '${method}'; use ${METHODS.join(", ")}`,
      );
    }
    out.method = method === "int4"
      ? "linear"
      : method as Exclude<FlagSettings["method"], undefined>;
  }
  const bits = strings.get("bits");
  if (bits !== undefined) out.bits = parseWholeNumber(bits, "--bits");
  if (method === "int4") {
    if (out.bits !== undefined && out.bits !== 4) {
      throw new UsageError(`Option '--bits' ${out.bits} contradicts --method int4`);
    }
    if (booleans.has("per-channel") || booleans.has("per-tensor")) {
      throw new UsageError(
        "--method int4 quantizes in blocks: use --block-size, not per channel/tensor",
      );
    }
    out.bits = 4;
    out.granularity = "block";
    out.blockSize = 32;
  }
  const conflict = (names: string[]): void => {
    const given = names.filter((n) => booleans.has(n) || strings.has(n));
    if (given.length > 1) {
      throw new UsageError(
        `Options ${given.map((n) => `'--${n}'`).join(" and ")} contradict each other: choose one`,
      );
    }
  };
  conflict(["per-channel", "per-tensor", "block-size"]);
  conflict(["symmetric", "asymmetric"]);
  if (booleans.has("per-channel")) out.granularity = "channel";
  if (booleans.has("per-tensor")) out.granularity = "tensor";
  const blockSize = strings.get("block-size");
  if (blockSize !== undefined) {
    out.granularity = "block";
    out.blockSize = parseWholeNumber(blockSize, "--block-size");
  }
  if (booleans.has("symmetric")) out.symmetric = true;
  if (booleans.has("asymmetric")) out.symmetric = false;
  const range = strings.get("range");
  if (range !== undefined) {
    if (!RANGES.includes(range)) {
      throw new UsageError(
        `Option '--range': unknown range method '${range}'; use ${RANGES.join(", ")}`,
      );
    }
    out.range = { method: range as "minmax" | "percentile" | "mse" | "std" };
  }
  const calibrationMethod = strings.get("calibration-method");
  const calibrationSamples = strings.get("calibration-samples");
  if (calibrationMethod !== undefined || calibrationSamples !== undefined) {
    if (calibrationMethod !== undefined && !CALIBRATION_METHODS.includes(calibrationMethod)) {
      throw new UsageError(
        `Option '--calibration-method': unknown method '${calibrationMethod}'; use ${
          CALIBRATION_METHODS.join(", ")
        }`,
      );
    }
    out.calibration = {
      method: (calibrationMethod ?? "minmax") as CalibrationMethod,
      ...(calibrationSamples === undefined
        ? {}
        : { samples: parseWholeNumber(calibrationSamples, "--calibration-samples") }),
    };
  }
  return out;
}

/** Reads and validates a recipe file; a method given by flag fills a file that has none. */
async function readRecipe(
  path: string,
  method: "linear" | "dynamic" | "static" | "log" | "kmeans" | undefined,
): Promise<QuantizeRecipe> {
  const value = await readRecipeFile(path, method);
  try {
    return validateRecipe(value);
  } catch (e) {
    const detail = (e as Error).message.replace(/^Cannot use recipe: /, "");
    throw new Error(`Cannot use recipe '${path}': ${detail}`, { cause: e });
  }
}

/** The recipe file's settings with the flags' on top, validated; an invalid result is usage. */
function mergeRecipe(file: QuantizeRecipe | undefined, flags: FlagSettings): QuantizeRecipe {
  const merged: Record<string, unknown> = { ...file, ...flags };
  // A block size only means something with block granularity: a flag that changes the
  // granularity drops the file's block size rather than failing on it.
  if (flags.granularity !== undefined && flags.granularity !== "block") delete merged.blockSize;
  // Static quantization calibrates with MinMax unless told otherwise; other methods take none.
  if (merged.method === "static" && merged.calibration === undefined) {
    merged.calibration = { method: "minmax" };
  }
  try {
    return validateRecipe(merged);
  } catch (e) {
    const detail = (e as Error).message.replace(/^Cannot use recipe: (recipe: |recipe\.)?/, "");
    throw new UsageError(`These options make no valid recipe: ${detail}`, { cause: e });
  }
}

function formatSummary(report: QuantizationReport, c: ModelCommandSummary): string {
  const s = resolveSettings(report.recipe, []);
  const granularity = s.granularity === "block"
    ? `blocks of ${s.blockSize}`
    : `per ${s.granularity}`;
  const overrides = report.recipe.overrides?.length ?? 0;
  const opset = report.opset.from === report.opset.to
    ? `opset ${report.opset.to}`
    : `opset ${report.opset.from} -> ${report.opset.to}`;
  const head = formatTable(labelled([
    [
      "Model",
      `${c.input} (${formatBytes(c.inputBytes)}, ${
        plural(c.mainNodes, "node")
      } in the main graph, ${opset})`,
    ],
    [
      "Recipe",
      `${s.method}, ${s.bits} bits, ${s.signed ? "signed" : "unsigned"}, ${
        s.symmetric ? "symmetric" : "asymmetric"
      }, ${granularity}, range ${s.range.method}` +
      (overrides > 0 ? ` (+ ${plural(overrides, "override")})` : ""),
    ],
    ["Kernels", report.backend],
  ]));

  const byOp = new Map<string, [number, number]>();
  for (const n of report.nodes) {
    const counts = byOp.get(n.opType) ?? [0, 0];
    counts[n.status === "quantized" ? 0 : 1]++;
    byOp.set(n.opType, counts);
  }
  const quantizedCount = report.nodes.filter((n) => n.status === "quantized").length;
  const nodes =
    `Nodes with weights: ${quantizedCount} quantized, ${
      report.nodes.length - quantizedCount
    } skipped\n` +
    (byOp.size === 0 ? "" : formatTable(
      [...byOp].map(([op, [q, k]]) => [op, String(q), String(k)]),
      { header: ["op", "quantized", "skipped"], align: ["left", "right", "right"], indent: "  " },
    ));

  const notes = report.nodes.filter((n) => n.reason !== undefined);
  const reasons = notes.length === 0 ? "" : "Skipped or partly quantized\n" + formatTable(
    notes.map((n) => [nodeLabel(n), n.opType, n.status, n.reason ?? ""]),
    { header: ["node", "op", "status", "reason"], indent: "  " },
  );

  const { before, after } = report.size;
  const total = c.readMs + c.workMs + c.writeMs;
  const tail = formatTable(labelled([
    [
      "Size",
      `${formatBytes(before)} -> ${formatBytes(after)}: ${pct(after / before)} of the original (${
        (before / after).toFixed(2)
      }x smaller)`,
    ],
    [
      "Time",
      `${ms(total)}: read ${ms(c.readMs)}, quantize ${ms(c.workMs)} (numeric ${
        ms(report.timeMs.numeric)
      }), write ${ms(c.writeMs)}`,
    ],
    ["Wrote", c.output],
    ...(c.reportPath === undefined ? [] : [["Report", c.reportPath]]),
  ]));
  return [head, nodes, reasons, tail].filter((t) => t !== "").join("\n");
}

function nodeLabel(n: NodeReport): string {
  const name = n.name === "" ? "(unnamed)" : n.name;
  return n.graph === "main" ? name : `${n.graph}: ${name}`;
}
