/**
 * `modelpress inspect MODEL [--json]`: what is in an ONNX model.
 *
 * The text output is a set of aligned tables for people. `--json` prints one JSON document (two
 * spaces of indent, trailing newline) for programs; its shape is {@linkcode ModelSummary} and is
 * stable within one `schema` tag:
 *
 * ```jsonc
 * {
 *   "schema": "modelpress.inspect/1",
 *   "file": { "path": "model.onnx", "bytes": 2327524 },        // model file only
 *   "irVersion": 8,
 *   "producer": { "name": "pytorch", "version": "1.12.0" },
 *   "domain": "", "modelVersion": 0, "docString": "", "graphName": "main_graph",
 *   "opsets": [{ "domain": "ai.onnx", "version": 16 }],         // "" is written "ai.onnx"
 *   "inputs": [                                                 // initializer-backed inputs left out
 *     { "name": "input", "type": "tensor(float)", "elemType": "float", "shape": ["batch", 512] }
 *   ],                                                          // shape: number | name | null (unknown);
 *   "outputs": [ ... same ... ],                                // shape null: rank unknown / not a tensor
 *   "nodes": { "total": 1234, "mainGraph": 5, "subgraphs": 1229, "functions": 0, "training": 0 },
 *   "operators": [{ "domain": "ai.onnx", "opType": "Conv", "count": 12 }],  // most frequent first
 *   "parameters": {
 *     "total":              { "tensors": 345, "elements": 309633, "bytes": 1238532 },
 *     "initializers":       { "tensors": 0, "elements": 0, "bytes": 0 },
 *     "sparseInitializers": { "tensors": 0, "elements": 0, "bytes": 0 },  // elements: non-zeros
 *     "constants":          { "tensors": 345, "elements": 309633, "bytes": 1238532 },
 *     "byDtype": [{ "dtype": "float", "tensors": 40, "elements": 309000, "bytes": 1236000 }]
 *   },
 *   "externalData": [                                           // sorted by location
 *     { "location": "model.onnx.data", "tensors": 12, "bytes": 1048576, "fileBytes": 1048640 }
 *   ],                                                          // fileBytes null: file missing
 *   "subgraphs": [                                              // depth first, in node order
 *     { "path": "main/If_0.then_branch/Loop_1.body", "name": "Loop_1.body", "depth": 2,
 *       "nodes": 7, "initializers": 0 }
 *   ],
 *   "functions": [{ "domain": "custom", "name": "Gelu", "nodes": 8 }],
 *   "metadata": [{ "key": "author", "value": "me" }]
 * }
 * ```
 *
 * Parameters are counted in every graph (main, subgraphs, function bodies, training graphs):
 * dense initializers, sparse initializers and the values of Constant nodes. Bytes are the size of
 * the element data wherever it is stored (inline or external).
 * @module
 */
import { dirname, join } from "node:path";
import { checkLocation, decodeModel, readFileExact } from "@modelpress/onnx";
import { formatBytes } from "../byte_size.ts";
import type { CliIo } from "../cli_io.ts";
import { type Command, commandFailure, statInputFile } from "../command.ts";
import { FileProgress } from "../file_progress.ts";
import { formatTable, printable } from "../format_table.ts";
import { parseArgs, UsageError } from "../parse_args.ts";
import {
  externalDataLocations,
  type ModelSummary,
  summarizeModel,
  type Tally,
  type ValueSummary,
} from "../summarize_model.ts";

const HELP = `Usage: modelpress inspect MODEL [--json]

Shows what is in an ONNX model: IR version, producer, opsets, inputs and outputs (element
types and shapes, symbolic dimensions by name, ? when unknown), node counts, operators by
domain, parameters (initializers, sparse initializers and Constant nodes, in every graph) by
element type, external data files, subgraphs and metadata.

Options:
  --json      Print one JSON document (schema "modelpress.inspect/1") instead of tables
  -h, --help  Show this help

Examples:
  modelpress inspect model.onnx
  modelpress inspect model.onnx --json > summary.json
`;

/** Longest metadata value or doc string shown in text output (JSON has them whole). */
const MAX_TEXT_VALUE = 100;

/**
 * The `inspect` command. Its JSON output is a {@linkcode ModelSummary}; the module
 * documentation above shows the document's shape.
 *
 * @example
 * ```ts
 * import { inspectCommand, memoryIo } from "@modelpress/cli";
 * const io = memoryIo();
 * await inspectCommand.run(["model.onnx", "--json"], io);
 * const summary = JSON.parse(io.stdout.text());
 * ```
 */
export const inspectCommand: Command = Object.freeze({
  name: "inspect",
  summary: "Show what is in an ONNX model (tables, or JSON with --json)",
  help: HELP,
  run: runInspect,
});

async function runInspect(args: readonly string[], io: CliIo): Promise<number> {
  const parsed = parseArgs(args, { boolean: ["json", "help"], alias: { h: "help" } });
  if (parsed.booleans.has("help")) {
    io.stdout.write(HELP);
    return 0;
  }
  if (parsed.positionals.length !== 1) {
    throw new UsageError(
      parsed.positionals.length === 0
        ? "Missing MODEL: which .onnx file to inspect"
        : `Expected one MODEL, got ${parsed.positionals.length} arguments`,
    );
  }
  const path = parsed.positionals[0] as string;
  await statInputFile("inspect", path);
  let summary: ModelSummary;
  try {
    let bytes: Uint8Array;
    {
      using progress = new FileProgress(io.stderr, `read ${path}`);
      bytes = await readFileExact(path, { onProgress: progress.onProgress });
    }
    // Not readModel: a missing or short side file is something to report, not a failure.
    const model = decodeModel(bytes);
    const externalFileBytes = new Map<string, number>();
    for (const location of externalDataLocations(model)) {
      const size = await fileSize(path, location);
      if (size !== null) externalFileBytes.set(location, size);
    }
    summary = summarizeModel(model, { file: { path, bytes: bytes.length }, externalFileBytes });
  } catch (e) {
    throw commandFailure(e, { verb: "inspect", path });
  }
  io.stdout.write(
    parsed.booleans.has("json") ? formatSummaryJson(summary) : formatSummary(summary),
  );
  return 0;
}

/**
 * Formats a summary as the JSON document that `inspect --json` prints.
 *
 * @param summary The summary.
 * @returns JSON with two-space indent and a trailing newline.
 * @example
 * ```ts
 * import { decodeModel } from "@modelpress/onnx";
 * import { formatSummaryJson, summarizeModel } from "@modelpress/cli";
 * const model = decodeModel(await Deno.readFile("model.onnx"));
 * console.log(formatSummaryJson(summarizeModel(model)));
 * ```
 */
export function formatSummaryJson(summary: ModelSummary): string {
  return JSON.stringify(summary, null, 2) + "\n";
}

/**
 * Formats a summary as the text tables that `inspect` prints.
 *
 * @param summary The summary.
 * @returns Text with aligned columns, ending with a newline.
 * @example
 * ```ts
 * import { decodeModel } from "@modelpress/onnx";
 * import { formatSummary, summarizeModel } from "@modelpress/cli";
 * const model = decodeModel(await Deno.readFile("model.onnx"));
 * console.log(formatSummary(summarizeModel(model)));
 * ```
 */
export function formatSummary(summary: ModelSummary): string {
  const sections: string[] = [];
  const about: string[][] = [];
  if (summary.file) {
    about.push(["Model", `${summary.file.path} (${formatBytes(summary.file.bytes)})`]);
  }
  about.push(["IR version", String(summary.irVersion)]);
  const producer = [summary.producer.name, summary.producer.version].filter(Boolean).join(" ");
  about.push(["Producer", producer || "-"]);
  if (summary.opsets.length === 0) about.push(["Opsets", "-"]);
  summary.opsets.forEach((o, i) =>
    about.push([i === 0 ? "Opsets" : "", `${o.domain} ${o.version}`])
  );
  if (summary.graphName) about.push(["Graph", summary.graphName]);
  if (summary.domain) about.push(["Domain", summary.domain]);
  if (summary.modelVersion !== 0) about.push(["Model version", String(summary.modelVersion)]);
  if (summary.docString) about.push(["Doc", shorten(summary.docString)]);
  sections.push(formatTable(about));

  sections.push(valuesSection("Inputs", summary.inputs));
  sections.push(valuesSection("Outputs", summary.outputs));

  const n = summary.nodes;
  const where = [`${count(n.mainGraph)} in the main graph`];
  if (summary.subgraphs.length > 0) {
    where.push(`${count(n.subgraphs)} in ${plural(summary.subgraphs.length, "subgraph")}`);
  }
  if (summary.functions.length > 0) {
    where.push(`${count(n.functions)} in ${plural(summary.functions.length, "function")}`);
  }
  if (n.training > 0) where.push(`${count(n.training)} in training graphs`);
  sections.push(`Nodes: ${count(n.total)} (${where.join(", ")})\n`);

  sections.push(
    `Operators: ${count(summary.operators.length)} kinds\n` +
      formatTable(
        summary.operators.map((o) => [o.opType, o.domain, count(o.count)]),
        { header: ["op", "domain", "count"], align: ["left", "left", "right"], indent: "  " },
      ),
  );

  const p = summary.parameters;
  const tallyRow = (label: string, t: Tally): string[] => [
    label,
    count(t.tensors),
    count(t.elements),
    formatBytes(t.bytes),
  ];
  const right = ["left", "right", "right", "right"] as const;
  sections.push(
    `Parameters: ${count(p.total.elements)} elements, ${formatBytes(p.total.bytes)} ` +
      `in ${count(p.total.tensors)} tensors\n` +
      formatTable([
        tallyRow("initializers", p.initializers),
        tallyRow("sparse initializers", p.sparseInitializers),
        tallyRow("Constant nodes", p.constants),
      ], { header: ["source", "tensors", "elements", "bytes"], align: right, indent: "  " }) +
      "\n" +
      formatTable(p.byDtype.map((d) => tallyRow(d.dtype, d)), {
        header: ["dtype", "tensors", "elements", "bytes"],
        align: right,
        indent: "  ",
      }),
  );

  sections.push(
    summary.externalData.length === 0 ? "External data: none\n" : (
      `External data: ${plural(summary.externalData.length, "file")}\n` +
      formatTable(
        summary.externalData.map((e) => [
          e.location,
          count(e.tensors),
          formatBytes(e.bytes),
          e.fileBytes === null ? "MISSING" : formatBytes(e.fileBytes),
        ]),
        {
          header: ["file", "tensors", "bytes", "on disk"],
          align: ["left", "right", "right", "right"],
          indent: "  ",
        },
      )
    ),
  );

  sections.push(
    summary.subgraphs.length === 0 ? "Subgraphs: none\n" : (
      `Subgraphs: ${count(summary.subgraphs.length)}\n` +
      formatTable(
        summary.subgraphs.map((s) => [
          "  ".repeat(s.depth - 1) + s.name,
          count(s.nodes),
          count(s.initializers),
        ]),
        {
          header: ["subgraph (nested by depth)", "nodes", "initializers"],
          align: ["left", "right", "right"],
          indent: "  ",
        },
      )
    ),
  );

  if (summary.functions.length > 0) {
    sections.push(
      `Functions: ${count(summary.functions.length)}\n` +
        formatTable(summary.functions.map((f) => [f.name, f.domain, count(f.nodes)]), {
          header: ["function", "domain", "nodes"],
          align: ["left", "left", "right"],
          indent: "  ",
        }),
    );
  }

  sections.push(
    summary.metadata.length === 0 ? "Metadata: none\n" : (
      `Metadata: ${plural(summary.metadata.length, "entry", "entries")}\n` +
      formatTable(summary.metadata.map((m) => [m.key, shorten(m.value)]), {
        header: ["key", "value"],
        indent: "  ",
      })
    ),
  );
  return sections.join("\n");
}

function valuesSection(title: string, values: readonly ValueSummary[]): string {
  if (values.length === 0) return `${title}: none\n`;
  return `${title}: ${values.length}\n` +
    formatTable(values.map((v) => [v.name, v.type, formatShape(v.shape)]), {
      header: ["name", "type", "shape"],
      indent: "  ",
    });
}

/**
 * Formats a shape as `[batch, 3, ?]`: numbers, symbolic names, `?` for unknown dimensions, and
 * `?` alone when even the rank is unknown.
 *
 * @param shape The shape from a {@linkcode ValueSummary}.
 * @returns The text.
 * @example
 * ```ts
 * import { formatShape } from "@modelpress/cli";
 * formatShape(["batch", 3, null]); // "[batch, 3, ?]"
 * ```
 */
export function formatShape(shape: readonly (number | string | null)[] | null): string {
  if (shape === null) return "?";
  return `[${shape.map((d) => (d === null ? "?" : String(d))).join(", ")}]`;
}

function plural(n: number, word: string, words = `${word}s`): string {
  return `${count(n)} ${n === 1 ? word : words}`;
}

function count(n: number): string {
  return n.toLocaleString("en-US");
}

function shorten(text: string): string {
  const flat = printable(text);
  const chars = [...flat];
  return chars.length <= MAX_TEXT_VALUE ? flat : `${chars.slice(0, MAX_TEXT_VALUE - 1).join("")}…`;
}

async function fileSize(modelPath: string, location: string): Promise<number | null> {
  try {
    // A location outside the model's folder is reported as missing rather than looked at.
    checkLocation("Cannot inspect", location);
    const info = await Deno.stat(join(dirname(modelPath), location));
    return info.isFile ? info.size : null;
  } catch {
    return null;
  }
}
