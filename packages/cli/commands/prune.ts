/**
 * `modelpress prune IN -o OUT --method magnitude|random|nm|wanda|neuron|channel --sparsity K
 * [--global] [--pattern 2:4] [--importance l1|l2|random|activation] [--recovery batchnorm,bias]
 * [--calibration DATA] [--recipe FILE] [--report FILE] [--storage auto|dense|sparse] [--steps N]
 * [--seed N] [--json]`:
 * prune a model with `pruneModel` of `@modelpress/prune` and write the result.
 *
 * Flags map onto a recipe (`PruneRecipe`); a `--recipe` JSON file is validated on its own with
 * `validatePruneRecipe` (a bad file fails with exit code 1 and the validator's message), then the
 * flags given replace its settings. Flags that make an invalid recipe are wrong usage (exit code
 * 2). The sparsity K is always the fraction REMOVED (default 0.5; for `nm` the pattern implies
 * it).
 *
 * The text output is a summary for people; `--json` prints the library's `PruneReport` instead,
 * and `--report FILE` writes the same JSON to a file. Progress bars go to stderr when it is a
 * terminal and the input is large (or calibration data is run).
 * @module
 */
import {
  type Importance,
  type NmPattern,
  notPrunedNodes,
  pruneModel,
  type PruneRecipe,
  type PruneReport,
  type StorageMode,
  validatePruneRecipe,
} from "@modelpress/prune";
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
  formatCount as count,
  formatDuration as ms,
  formatPercent as pct,
  labelRows as labelled,
  plural,
} from "../summary_text.ts";

const HELP =
  `Usage: modelpress prune IN -o OUT --method magnitude|random|nm|wanda|neuron|channel [options]

Prunes the ONNX model IN and writes the result to OUT. The sparsity K is always the fraction of
weights (or units) REMOVED. Every model written loads and runs in onnxruntime-web.

Methods:
  magnitude  Remove the weights of smallest |w|, per layer or over all layers (--global).
  random     Remove seeded random weights: a baseline to compare with, never to ship.
  nm         N:M semi-structured: keep n of every m consecutive inputs (--pattern 2:4|4:8).
  wanda      Remove the smallest |w| times input-activation norm per output row; needs
             --calibration data.
  neuron     Remove the least important output units of Gemm/MatMul and the matching inputs
             of their consumers: the model becomes smaller.
  channel    Remove Conv filters with their BatchNorm channels and the next layers' inputs
             (coupled channels together).
Unstructured methods (magnitude, random, nm, wanda) store pruned weights sparsely where that
makes the file smaller (--storage).

Options:
  -o, --output OUT       Where to write the pruned model (required)
  --method NAME          magnitude, random, nm, wanda, neuron or channel (required unless the
                         recipe file gives it)
  --sparsity K           The fraction removed, in [0, 1). Default 0.5 (nm: implied by the pattern)
  --global               One threshold over every layer (magnitude, random)
  --pattern N:M          nm: 2:4 (default) or 4:8
  --importance NAME      neuron, channel: how units are ranked: l1, l2 (default), random,
                         activation (needs --calibration)
  --recovery LIST        neuron, channel: recovery without training, comma-separated:
                         batchnorm (re-estimate BatchNorm statistics), bias (bias correction);
                         needs --calibration
  --calibration DATA     Calibration data, mnist (its train split) or FILE.npz|.npy|.json:
                         needed by wanda, activation importance and recovery
  --storage MODE         auto (sparse where smaller, the default), dense (to quantize later) or
                         sparse
  --steps N              Iterative pruning: the sparsity rises over N steps (1..100)
  --seed N               Seed of random pruning and random importance (default 0)
  --recipe FILE.json     A recipe (method, sparsity, global, pattern, importance, include,
                         exclude, bounds, seed, storage, calibration, recovery, schedule); the options
                         above replace its settings
  --report FILE.json     Write the JSON report: per layer, totals, storage, steps, time
  --json                 Print the JSON report instead of the summary
  -h, --help             Show this help

Examples:
  modelpress prune model.onnx -o pruned.onnx --method magnitude --sparsity 0.5 --global
  modelpress prune model.onnx -o nm.onnx --method nm --pattern 2:4
  modelpress prune model.onnx -o wanda.onnx --method wanda --sparsity 0.6 --calibration mnist
  modelpress prune model.onnx -o small.onnx --method neuron --sparsity 0.5 --importance l1
  modelpress prune cnn.onnx -o c.onnx --method channel --sparsity 0.3 --recovery batchnorm \
    --calibration mnist
  modelpress prune model.onnx -o p.onnx --recipe recipe.json --report report.json
`;

const METHODS = ["magnitude", "random", "nm", "wanda", "neuron", "channel"];
const PATTERNS = ["2:4", "4:8"];
const IMPORTANCES = ["l1", "l2", "random", "activation"];
const STORAGES = ["auto", "dense", "sparse"];
const RECOVERIES = ["batchnorm", "bias"];

/**
 * The `prune` command.
 *
 * @example
 * ```ts
 * import { memoryIo, pruneCommand } from "@modelpress/cli";
 * const io = memoryIo();
 * await pruneCommand.run(["model.onnx", "-o", "pruned.onnx", "--method", "magnitude"], io);
 * console.log(io.stdout.text());
 * ```
 */
export const pruneCommand: Command = Object.freeze({
  name: "prune",
  summary: "Prune a model (magnitude, N:M, Wanda, neurons, channels), with a report",
  help: HELP,
  run: runPrune,
});

async function runPrune(args: readonly string[], io: CliIo): Promise<number> {
  const command = parseModelCommand(args, io, {
    verb: "prune",
    help: HELP,
    boolean: ["global"],
    string: ["sparsity", "pattern", "importance", "recovery", "storage", "steps", "seed"],
  });
  if (command === undefined) return 0;
  const { parsed, input, output } = command;
  const flags = flagSettings(parsed.strings, parsed.booleans);
  const recipe = await resolveRecipe({
    recipePath: parsed.strings.get("recipe"),
    flags,
    methods: "magnitude, random, nm, wanda, neuron or channel",
    read: readRecipe,
    merge: mergeRecipe,
  });
  const reportPath = parsed.strings.get("report");
  const calibrationArg = parsed.strings.get("calibration");
  const needs = recipe.method === "wanda"
    ? "--method wanda"
    : recipe.importance === "activation"
    ? "--importance activation"
    : recipe.recovery?.batchNorm === true || recipe.recovery?.biasCorrection === true
    ? "recovery"
    : undefined;
  // Built-in MNIST calibrates on its train split, so that evaluating on the test split (what
  // `modelpress eval --dataset mnist` reads) stays fair.
  const dataset = await readCalibration(calibrationArg, {
    neededBy: needs,
    usedBy: "--method wanda, --importance activation and --recovery",
  });

  const file = await readModelFile(input, io, "prune");
  const { model, inputBytes } = file;
  const read = performance.now();

  let report: PruneReport;
  // Calibration runs take seconds even on small models: show the bar for them too.
  const bar = inputBytes >= PROGRESS_MIN_BYTES || dataset !== undefined
    ? new ProgressBar(io.stderr, { total: 100, label: "prune", unit: "count" })
    : undefined;
  try {
    ({ report } = await pruneModel(model, {
      recipe,
      ...(dataset === undefined ? {} : { dataset }),
      onProgress: (fraction) => bar?.update(Math.round(fraction * 100)),
    }));
  } catch (e) {
    throw commandFailure(e, { verb: "prune", path: input });
  } finally {
    bar?.finish();
  }
  const pruned = performance.now();
  if (!report.layers.some((l) => l.status === "pruned")) {
    throw new Error(`Cannot prune '${input}': no layer can be pruned: ${unsupported(report)}`);
  }

  return await writeOutputs(io, {
    file,
    report,
    input,
    output,
    reportPath,
    json: parsed.booleans.has("json"),
    workMs: pruned - read,
    format: formatSummary,
  });
}

/** The recipe settings that command-line flags give. */
type FlagSettings = { -readonly [K in keyof PruneRecipe]?: PruneRecipe[K] };

function flagSettings(
  strings: ReadonlyMap<string, string>,
  booleans: ReadonlySet<string>,
): FlagSettings {
  const out: FlagSettings = {};
  const method = strings.get("method");
  if (method !== undefined) {
    out.method = oneOf(method, METHODS, "--method", "method") as PruneRecipe["method"];
  }
  const sparsity = strings.get("sparsity");
  if (sparsity !== undefined) {
    const k = Number(sparsity);
    if (sparsity.trim() === "" || !Number.isFinite(k)) {
      throw new UsageError(`Option '--sparsity' needs a number in [0, 1), got '${sparsity}'`);
    }
    out.sparsity = k;
  }
  if (booleans.has("global")) out.global = true;
  const pattern = strings.get("pattern");
  if (pattern !== undefined) {
    out.pattern = oneOf(pattern, PATTERNS, "--pattern", "pattern") as NmPattern;
  }
  const importance = strings.get("importance");
  if (importance !== undefined) {
    out.importance = oneOf(
      importance,
      IMPORTANCES,
      "--importance",
      "importance",
    ) as Importance;
  }
  const recovery = strings.get("recovery");
  if (recovery !== undefined) {
    const parts = recovery.split(",").map((p) => p.trim());
    for (const part of parts) oneOf(part, RECOVERIES, "--recovery", "recovery");
    out.recovery = {
      batchNorm: parts.includes("batchnorm"),
      biasCorrection: parts.includes("bias"),
    };
  }
  const storage = strings.get("storage");
  if (storage !== undefined) {
    out.storage = oneOf(storage, STORAGES, "--storage", "storage mode") as StorageMode;
  }
  const steps = strings.get("steps");
  if (steps !== undefined) out.schedule = { steps: parseWholeNumber(steps, "--steps") };
  const seed = strings.get("seed");
  if (seed !== undefined) out.seed = parseWholeNumber(seed, "--seed");
  return out;
}

function oneOf(value: string, allowed: readonly string[], flag: string, what: string): string {
  if (!allowed.includes(value)) {
    throw new UsageError(`Option '${flag}': unknown ${what} '${value}'; use ${allowed.join(", ")}`);
  }
  return value;
}

/**
 * Reads a recipe file and validates it on its own (a method given by flag fills a file that has
 * none); returns the file's own settings.
 */
async function readRecipe(
  path: string,
  method: PruneRecipe["method"] | undefined,
): Promise<Record<string, unknown>> {
  const value = await readRecipeFile(path, method);
  try {
    validatePruneRecipe(value);
  } catch (e) {
    const detail = (e as Error).message.replace(/^Invalid prune recipe: /, "");
    throw new Error(`Cannot use recipe '${path}': ${detail}`, { cause: e });
  }
  // Merge the file's own settings (not the validated copy, whose filled-in defaults would
  // override what the flags imply, such as nm's sparsity).
  return value as Record<string, unknown>;
}

/** The recipe file's settings with the flags' on top, validated; an invalid result is usage. */
function mergeRecipe(file: Record<string, unknown> | undefined, flags: FlagSettings): PruneRecipe {
  const merged: Record<string, unknown> = { ...file, ...flags };
  // A pattern only means something to nm: a flag that picks another method drops the file's.
  if (flags.method !== undefined && flags.method !== "nm" && flags.pattern === undefined) {
    delete merged.pattern;
  }
  try {
    return validatePruneRecipe(merged);
  } catch (e) {
    const detail = (e as Error).message.replace(/^Invalid prune recipe: /, "");
    throw new UsageError(`These options make no valid recipe: ${detail}`, { cause: e });
  }
}

function unsupported(report: PruneReport): string {
  const nodes = notPrunedNodes(report);
  if (nodes.length === 0) return "it has no Gemm, MatMul or Conv node with a constant weight";
  return nodes.map((n) => `node '${n.node}' (${n.opType}): ${n.reason}`).join("; ");
}

function formatSummary(report: PruneReport, c: ModelCommandSummary): string {
  const r = report.recipe;
  const settings = [
    r.method,
    `${pct(r.sparsity ?? 0)} removed`,
    ...(r.method === "nm" ? [`pattern ${r.pattern}`] : []),
    ...(r.global
      ? ["global"]
      : r.method === "magnitude" || r.method === "random"
      ? ["per layer"]
      : []),
    ...(r.importance === undefined ? [] : [`importance ${r.importance}`]),
    ...(recoveryOf(r) === "" ? [] : [`recovery ${recoveryOf(r)}`]),
    ...(r.schedule === undefined || r.schedule.steps === 1 ? [] : [`${r.schedule.steps} steps`]),
    `storage ${r.storage ?? "auto"}`,
  ];
  const head = formatTable(labelled([
    [
      "Model",
      `${c.input} (${formatBytes(c.inputBytes)}, ${plural(c.mainNodes, "node")} in the main graph)`,
    ],
    ["Recipe", settings.join(", ")],
    ["Kernels", report.backend],
  ]));

  const prunedCount = report.layers.filter((l) => l.status === "pruned").length;
  const withUnits = report.layers.some((l) => l.unitsRemoved !== undefined);
  const layers = `Layers: ${prunedCount} pruned, ${report.layers.length - prunedCount} skipped` +
    (report.skipped.length === 0 ? "" : `, ${report.skipped.length} not prunable`) + "\n" +
    (report.layers.length === 0 ? "" : formatTable(
      report.layers.map((l) => [
        l.node === "" ? "(unnamed)" : l.node,
        l.opType,
        l.shape.join("x"),
        count(l.params),
        count(l.paramsAfter),
        pct(l.sparsity),
        ...(withUnits ? [l.unitsRemoved === undefined ? "-" : count(l.unitsRemoved)] : []),
      ]),
      {
        header: [
          "node",
          "op",
          "shape",
          "params",
          "after",
          "sparsity",
          ...(withUnits ? ["units removed"] : []),
        ],
        align: ["left", "left", "left", "right", "right", "right", "right"],
        indent: "  ",
      },
    ));

  const notes = notPrunedNodes(report);
  const reasons = notes.length === 0 ? "" : "Not pruned\n" + formatTable(
    notes.map((n) => [n.node === "" ? "(unnamed)" : n.node, n.opType, n.reason]),
    { header: ["node", "op", "reason"], indent: "  " },
  );

  const steps = report.steps.length <= 1 ? "" : "Steps\n" + formatTable(
    report.steps.map((s) => [String(s.step), pct(s.sparsity), count(s.zeros)]),
    { header: ["step", "sparsity", "zeros"], align: ["right", "right", "right"], indent: "  " },
  );

  const t = report.totals;
  const ratio = (before: number, after: number): string =>
    before === 0 ? "" : `${pct(after / before)} of before`;
  const rows: string[][] = [
    [
      "params",
      count(t.params.before),
      count(t.params.after),
      ratio(t.params.before, t.params.after),
    ],
    [
      "nonzero",
      count(t.nonzero.before),
      count(t.nonzero.after),
      ratio(t.nonzero.before, t.nonzero.after),
    ],
    [
      "sparsity",
      pct(sparsityOf(t.params.before, t.nonzero.before)),
      pct(sparsityOf(t.params.before, t.nonzero.after)),
      "of the original params gone or zero",
    ],
  ];
  if (t.macs !== undefined) {
    rows.push([
      "MACs",
      count(t.macs.before),
      count(t.macs.after),
      `${ratio(t.macs.before, t.macs.after)}; ${count(t.macs.effective)} on nonzero weights`,
    ]);
  }
  rows.push([
    "bytes",
    formatBytes(t.bytes.before),
    formatBytes(t.bytes.after),
    `${ratio(t.bytes.before, t.bytes.after)} (${
      (t.bytes.before / t.bytes.after).toFixed(2)
    }x smaller)`,
  ]);
  const totals = "Totals\n" + formatTable(rows, {
    header: ["", "before", "after", "change"],
    align: ["left", "right", "right", "left"],
    indent: "  ",
  });

  const total = c.readMs + c.workMs + c.writeMs;
  const tail = formatTable(labelled([
    ["Time", `${ms(total)}: read ${ms(c.readMs)}, prune ${ms(c.workMs)}, write ${ms(c.writeMs)}`],
    ["Wrote", c.output],
    ...(c.reportPath === undefined ? [] : [["Report", c.reportPath]]),
  ]));
  return [head, layers, reasons, steps, totals, tail].filter((s) => s !== "").join("\n");
}

function recoveryOf(r: PruneRecipe): string {
  return [
    ...(r.recovery?.batchNorm ? ["batchnorm"] : []),
    ...(r.recovery?.biasCorrection ? ["bias"] : []),
  ].join("+");
}

function sparsityOf(params: number, nonzero: number): number {
  return params === 0 ? 0 : 1 - nonzero / params;
}
