/**
 * `modelpress eval MODEL --dataset mnist|FILE.npz [--reference REF] [--latency-runs N]
 * [--batch-size N] [--limit N] [--json]`: accuracy, output fidelity, latency and size of a
 * model, with `evaluateModel` of `@modelpress/evaluate`.
 *
 * The text output is a few aligned tables for people. `--json` prints the library's
 * `EvaluationReport` as one JSON document (two spaces of indent, trailing newline) with
 * non-finite numbers written as strings (`"sqnrDb": "Infinity"` for identical outputs), as
 * `reportToJson` does; its shape is the library's and is stable with it.
 * @module
 */
import {
  evaluateModel,
  type EvaluateOptions,
  type EvaluationProgress,
  type EvaluationReport,
  reportToJson,
} from "@modelpress/evaluate";
import { decodeModel } from "@modelpress/onnx";
import { formatBytes } from "../byte_size.ts";
import type { CliIo, TextSink } from "../cli_io.ts";
import { type Command, commandFailure, statInputFile } from "../command.ts";
import { formatTable } from "../format_table.ts";
import { parseArgs, UsageError } from "../parse_args.ts";
import { ProgressBar } from "../progress_bar.ts";
import { readDataset } from "../read_dataset.ts";

const HELP = `Usage: modelpress eval MODEL --dataset mnist|FILE.npz [options]

Evaluates an ONNX model in onnxruntime-web: top-1/top-k accuracy on a labelled dataset, output
fidelity against a reference model (top-1 agreement, cosine, MSE, max error, SQNR, KL), latency
(min, p50, p90, p99, mean, throughput) and size (bytes, gzip, parameters, sparsity, MACs).

Options:
  --dataset NAME|FILE   "mnist" (built in, its 2,000-sample test split) or an .npz/.npy/.json file
  --reference REF       A reference model: fidelity of MODEL's outputs against REF's
  --latency-runs N      Timed runs (default 20); 0 skips latency
  --batch-size N        Samples per run of the accuracy pass (default 100)
  --limit N             Evaluate the first N samples only
  --json                Print the report as JSON instead of tables
  -h, --help            Show this help

Examples:
  modelpress eval model.onnx --dataset mnist
  modelpress eval int8.onnx --dataset mnist --reference fp32.onnx --json > report.json
`;

/** Work (samples or runs) at least this large gets a progress bar, on a terminal only. */
const PROGRESS_MIN_UNITS = 500;

/**
 * The `eval` command.
 *
 * @example
 * ```ts
 * import { evalCommand, memoryIo } from "@modelpress/cli";
 * const io = memoryIo();
 * await evalCommand.run(["model.onnx", "--dataset", "mnist", "--json"], io);
 * const report = JSON.parse(io.stdout.text());
 * ```
 */
export const evalCommand: Command = Object.freeze({
  name: "eval",
  summary: "Evaluate a model: accuracy, fidelity to a reference, latency, size",
  help: HELP,
  run: runEval,
});

async function runEval(args: readonly string[], io: CliIo): Promise<number> {
  const parsed = parseArgs(args, {
    boolean: ["json", "help"],
    string: ["dataset", "reference", "latency-runs", "batch-size", "limit"],
    alias: { h: "help" },
  });
  if (parsed.booleans.has("help")) {
    io.stdout.write(HELP);
    return 0;
  }
  if (parsed.positionals.length !== 1) {
    throw new UsageError(
      parsed.positionals.length === 0
        ? "Missing MODEL: which .onnx file to evaluate"
        : `Expected one MODEL, got ${parsed.positionals.length} arguments`,
    );
  }
  const path = parsed.positionals[0] as string;
  const datasetArg = parsed.strings.get("dataset");
  if (datasetArg === undefined) {
    throw new UsageError('Missing --dataset: "mnist" or an .npz file');
  }
  const latencyRuns = count(parsed.strings.get("latency-runs"), "--latency-runs", 0);
  const batchSize = count(parsed.strings.get("batch-size"), "--batch-size", 1);
  const limit = count(parsed.strings.get("limit"), "--limit", 1);
  const referencePath = parsed.strings.get("reference");

  const model = await readModelFile(path);
  const reference = referencePath === undefined ? undefined : await readModelFile(referencePath);
  const dataset = await readDataset(datasetArg, "read dataset");

  const progress = new EvalProgress(io.stderr);
  const options: EvaluateOptions = {
    dataset,
    onProgress: progress.onProgress,
    ...(reference && { reference }),
    ...(batchSize !== undefined && { batchSize }),
    ...(limit !== undefined && { limit }),
    ...(latencyRuns !== undefined &&
      { latency: latencyRuns === 0 ? false : { runs: latencyRuns } }),
  };
  let report: EvaluationReport;
  try {
    report = await evaluateModel(model, options);
  } catch (e) {
    throw commandFailure(e, { verb: "evaluate", path });
  } finally {
    progress.finish();
  }
  io.stdout.write(
    parsed.booleans.has("json")
      ? reportToJson(report, { space: 2 }) + "\n"
      : formatReport(report, { path, ...(referencePath !== undefined && { referencePath }) }),
  );
  return 0;
}

function count(text: string | undefined, flag: string, min: number): number | undefined {
  if (text === undefined) return undefined;
  const n = Number(text);
  if (!/^\d+$/.test(text) || !Number.isSafeInteger(n) || n < min) {
    throw new UsageError(`Option '${flag}' needs a whole number >= ${min}, got '${text}'`);
  }
  return n;
}

async function readModelFile(path: string): Promise<Uint8Array> {
  await statInputFile("evaluate", path);
  try {
    const bytes = await Deno.readFile(path);
    decodeModel(bytes); // a parse error names the byte, before any session starts
    return bytes;
  } catch (e) {
    throw commandFailure(e, { verb: "evaluate", path });
  }
}

/** Options for {@linkcode formatReport}. */
export interface FormatReportOptions {
  /** The model's path, as the user wrote it. */
  readonly path?: string;
  /** The reference's path, as the user wrote it. */
  readonly referencePath?: string;
}

/**
 * Formats an evaluation report as the text tables that `eval` prints: model and dataset,
 * accuracy, fidelity per output, latency summary, size.
 *
 * @param report The report.
 * @param options The paths to show.
 * @returns Text with aligned columns, ending with a newline.
 * @example
 * ```ts
 * import { evaluateModel, loadDataset } from "@modelpress/evaluate";
 * import { formatReport } from "@modelpress/cli";
 * const bytes = await Deno.readFile("model.onnx");
 * console.log(formatReport(await evaluateModel(bytes, { dataset: await loadDataset("mnist") })));
 * ```
 */
export function formatReport(report: EvaluationReport, options: FormatReportOptions = {}): string {
  const sections: string[] = [];
  const about: string[][] = [
    ["Model", `${options.path ?? "-"} (${formatBytes(report.model.bytes)})`],
  ];
  if (report.reference) {
    about.push([
      "Reference",
      `${options.referencePath ?? "-"} (${formatBytes(report.reference.bytes)})`,
    ]);
  }
  if (report.dataset) {
    const d = report.dataset;
    about.push([
      "Dataset",
      `${d.name}: ${num(d.evaluated)} of ${num(d.count)} samples, batch ${d.batchSize}` +
      (d.labelled ? "" : ", no labels"),
    ]);
  }
  const b = report.backend;
  about.push(["Runtime", `${b.runtime} ${b.version}, ${b.threads} thread(s)`]);
  sections.push(formatTable(about));

  if (report.accuracy) {
    const a = report.accuracy;
    sections.push(
      `Accuracy (output '${a.output}')\n` +
        formatTable([
          ["top-1", pct(a.top1), `${num(a.correct)} / ${num(a.count)}`],
          ...a.topK.map((
            k,
          ) => [`top-${k.k}`, pct(k.accuracy), `${num(k.correct)} / ${num(a.count)}`]),
        ], {
          header: ["metric", "accuracy", "correct"],
          align: ["left", "right", "right"],
          indent: "  ",
        }),
    );
  }

  if (report.fidelity) {
    const rows = Object.values(report.fidelity).map((f) => [
      f.output,
      pct(f.top1Agreement),
      f.cosineSimilarity.toFixed(6),
      sci(f.mse),
      sci(f.maxAbsError),
      Number.isFinite(f.sqnrDb) ? f.sqnrDb.toFixed(1) : f.sqnrDb > 0 ? "inf" : "-inf",
      sci(f.klDivergence),
    ]);
    sections.push(
      "Fidelity against the reference\n" +
        formatTable(rows, {
          header: ["output", "top-1 agree", "cosine", "MSE", "max |err|", "SQNR dB", "KL"],
          align: ["left", "right", "right", "right", "right", "right", "right"],
          indent: "  ",
        }),
    );
  }

  if (report.latency) {
    const l = report.latency;
    sections.push(
      `Latency (${num(l.runs)} runs of batch ${l.batchSize} after ${l.warmupRuns} warm-up)\n` +
        formatTable([[
          ms(l.minMs),
          ms(l.p50Ms),
          ms(l.p90Ms),
          ms(l.p99Ms),
          ms(l.meanMs),
          ms(l.stddevMs),
          `${num(Math.round(l.samplesPerSecond))}/s`,
        ]], {
          header: ["min", "p50", "p90", "p99", "mean", "stddev", "throughput"],
          align: ["right", "right", "right", "right", "right", "right", "right"],
          indent: "  ",
        }),
    );
  }

  const s = report.size;
  const sizeRows: string[][] = [
    ["file", formatBytes(s.fileBytes)],
    ["gzip", formatBytes(s.gzipBytes)],
    ["parameters", `${num(s.parameters)} (${formatBytes(s.parameterBytes)})`],
    ["sparsity", pct(s.sparsity)],
  ];
  if (s.macs) sizeRows.push(["MACs per sample", num(s.macs.total)]);
  sections.push("Size\n" + formatTable(sizeRows, { indent: "  " }));
  return sections.join("\n");
}

/** A progress bar for the phases of an evaluation, drawn only on a terminal. */
class EvalProgress {
  readonly #sink: TextSink;
  #bar: ProgressBar | undefined;
  #phase: string | undefined;

  constructor(sink: TextSink) {
    this.#sink = sink;
  }

  readonly onProgress = (p: EvaluationProgress): void => {
    if (!this.#sink.isTerminal) return;
    if (p.phase !== this.#phase) {
      this.#bar?.finish();
      this.#phase = p.phase;
      this.#bar = p.total >= PROGRESS_MIN_UNITS || p.phase === "latency" && p.total >= 100
        ? new ProgressBar(this.#sink, { total: p.total, label: p.phase, unit: "count" })
        : undefined;
    }
    this.#bar?.update(p.done);
  };

  finish(): void {
    this.#bar?.finish();
  }
}

function num(n: number): string {
  return n.toLocaleString("en-US");
}

function pct(x: number): string {
  return `${(x * 100).toFixed(2)}%`;
}

function ms(x: number): string {
  return `${x < 10 ? x.toFixed(3) : x.toFixed(1)} ms`;
}

function sci(x: number): string {
  return x === 0 ? "0" : x.toExponential(2);
}
