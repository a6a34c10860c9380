/**
 * The `modelpress` command line: `deno task cli <command> ...`.
 *
 * `main()` takes its output streams as arguments so that tests run it in-process. Exit codes:
 * 0 success, 1 failure (the message says what and why), 2 wrong usage (unknown option, missing
 * argument). No failure prints a stack trace unless `MODELPRESS_DEBUG=1` is set.
 * @module
 */
import denoJson from "./deno.json" with { type: "json" };
import { type CliIo, denoIo } from "./cli_io.ts";
import type { Command } from "./command.ts";
import { convertCommand } from "./commands/convert.ts";
import { evalCommand } from "./commands/eval.ts";
import { inspectCommand } from "./commands/inspect.ts";
import { pruneCommand } from "./commands/prune.ts";
import { quantizeCommand } from "./commands/quantize.ts";
import { formatTable } from "./format_table.ts";
import { UsageError } from "./parse_args.ts";

/** Every command, in the order `--help` lists them. */
export const COMMANDS: readonly Command[] = Object.freeze([
  inspectCommand,
  convertCommand,
  evalCommand,
  quantizeCommand,
  pruneCommand,
]);

/** Exit code for wrong usage, as in BSD's sysexits and most CLIs. */
export const EXIT_USAGE = 2;

/** Exit code for a failure. */
export const EXIT_FAILURE = 1;

function help(): string {
  return `Usage: modelpress <command> [options]

Commands:
${formatTable(COMMANDS.map((c) => [c.name, c.summary]), { indent: "  " })}
Run 'modelpress <command> --help' for a command's options.
Options: -h, --help (this help), --version
`;
}

/**
 * Runs the command line. Never throws: failures become a message on stderr and an exit code.
 *
 * @param args The arguments after the program name, such as `["inspect", "model.onnx"]`.
 * @param io Where to write; defaults to the process's stdout and stderr.
 * @returns The exit code: 0 success, 1 failure, 2 wrong usage.
 * @example
 * ```ts
 * import { main, memoryIo } from "@modelpress/cli";
 * const io = memoryIo();
 * const code = await main(["inspect", "model.onnx", "--json"], io);
 * if (code === 0) console.log(JSON.parse(io.stdout.text()).irVersion);
 * ```
 */
export async function main(args: readonly string[], io: CliIo = denoIo()): Promise<number> {
  const [name, ...rest] = args;
  if (name === undefined) {
    io.stderr.write(help());
    return EXIT_USAGE;
  }
  if (name === "-h" || name === "--help" || name === "help") {
    const topic = name === "help" ? rest[0] : undefined;
    const command = COMMANDS.find((c) => c.name === topic);
    io.stdout.write(command ? command.help : help());
    return 0;
  }
  if (name === "--version") {
    io.stdout.write(`modelpress ${denoJson.version}\n`);
    return 0;
  }
  const command = COMMANDS.find((c) => c.name === name);
  if (!command) {
    const what = name.startsWith("-") ? `Unknown option '${name}'` : `Unknown command '${name}'`;
    io.stderr.write(`error: ${what}\n\n${help()}`);
    return EXIT_USAGE;
  }
  try {
    return await command.run(rest, io);
  } catch (e) {
    if (e instanceof UsageError) {
      const usage = command.help.split("\n", 1)[0];
      io.stderr.write(
        `error: ${e.message}\n${usage}\nRun 'modelpress ${command.name} --help' for details.\n`,
      );
      return EXIT_USAGE;
    }
    io.stderr.write(`error: ${e instanceof Error ? e.message : String(e)}\n`);
    if (debugEnabled() && e instanceof Error && e.stack) {
      io.stderr.write(`${e.stack}\n`);
    }
    return EXIT_FAILURE;
  }
}

function debugEnabled(): boolean {
  try {
    return Deno.env.get("MODELPRESS_DEBUG") === "1";
  } catch {
    return false; // no --allow-env: no debug output
  }
}

if (import.meta.main) {
  Deno.exitCode = await main(Deno.args);
}
