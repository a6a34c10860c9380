/**
 * Plain-text tables with aligned columns, for terminals and logs.
 * @module
 */

/** How a column's cells line up. */
export type ColumnAlign = "left" | "right";

/** Options for {@linkcode formatTable}. */
export interface FormatTableOptions {
  /** Column titles, printed above the rows and underlined. */
  readonly header?: readonly string[];
  /** Alignment per column; columns without an entry are left-aligned. */
  readonly align?: readonly ColumnAlign[];
  /** Text put before every line, such as two spaces. */
  readonly indent?: string;
  /** Text between columns (default two spaces). */
  readonly gap?: string;
}

/**
 * Formats rows as a table with aligned columns. Cells are made printable first: control
 * characters (newlines, tabs, escape sequences from a model's metadata) are shown escaped so they
 * cannot break the layout or drive the terminal. Trailing spaces are never printed.
 *
 * @param rows The cells, row by row; rows may have different lengths.
 * @param options Header, alignment, indent and gap.
 * @returns The table, one line per row, each ending in a newline (empty text for no rows and no
 *   header).
 * @example
 * ```ts
 * import { formatTable } from "@modelpress/cli";
 * const text = formatTable([["Conv", "12"], ["Relu", "10"]], {
 *   header: ["op", "count"],
 *   align: ["left", "right"],
 * });
 * // op    count
 * // ----  -----
 * // Conv     12
 * // Relu     10
 * ```
 */
export function formatTable(
  rows: readonly (readonly string[])[],
  options: FormatTableOptions = {},
): string {
  const gap = options.gap ?? "  ";
  const indent = options.indent ?? "";
  const body = rows.map((row) => row.map(printable));
  const all = options.header ? [options.header.map(printable), ...body] : body;
  const columns = Math.max(0, ...all.map((row) => row.length));
  const widths = Array.from(
    { length: columns },
    (_, c) => Math.max(0, ...all.map((row) => displayWidth(row[c] ?? ""))),
  );
  const line = (row: readonly string[]): string => {
    const cells = widths.map((width, c) => {
      const cell = row[c] ?? "";
      const pad = " ".repeat(width - displayWidth(cell));
      return options.align?.[c] === "right" ? pad + cell : cell + pad;
    });
    return (indent + cells.join(gap)).trimEnd() + "\n";
  };
  let out = "";
  if (options.header) {
    out += line(all[0] ?? []);
    out += line(widths.map((w) => "-".repeat(w)));
  }
  for (const row of body) out += line(row);
  return out;
}

/**
 * Makes text safe to print on one line: control characters become escapes (`\n`, `\t`,
 * `\u001b`).
 *
 * @param text Any text.
 * @returns The text without control characters.
 * @example
 * ```ts
 * import { printable } from "@modelpress/cli";
 * printable("a\nb"); // "a\\nb"
 * ```
 */
export function printable(text: string): string {
  // deno-lint-ignore no-control-regex
  return text.replace(/[\u0000-\u001f\u007f-\u009f]/g, (ch) => {
    if (ch === "\n") return "\\n";
    if (ch === "\t") return "\\t";
    if (ch === "\r") return "\\r";
    return `\\u${ch.charCodeAt(0).toString(16).padStart(4, "0")}`;
  });
}

function displayWidth(text: string): number {
  // Code points, not UTF-16 units, so that an emoji in a name counts once.
  let n = 0;
  for (const _ of text) n++;
  return n;
}
