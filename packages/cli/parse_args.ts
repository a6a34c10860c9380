/**
 * A small, strict command-line argument parser: known flags only, `--name value` and
 * `--name=value`, `--` ends the flags.
 * @module
 */

/**
 * Thrown when the command line itself is wrong (unknown flag, missing value, wrong number of
 * arguments). `main()` catches it by class to print usage help and exit with code 2.
 *
 * @example
 * ```ts
 * import { UsageError } from "@modelpress/cli";
 * throw new UsageError("Unknown option '--fast'");
 * ```
 */
export class UsageError extends Error {
  /**
   * Makes a usage error.
   *
   * @param message What is wrong with the command line.
   * @param options Standard error options (`cause`).
   */
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "UsageError";
  }
}

/** Which flags a command accepts. */
export interface ArgSpec {
  /** Flags that take no value, such as `json` for `--json`. */
  readonly boolean?: readonly string[];
  /** Flags that take a value, such as `external-data-threshold`. */
  readonly string?: readonly string[];
  /** One-letter aliases, such as `{ h: "help" }` for `-h`. */
  readonly alias?: Readonly<Record<string, string>>;
}

/** The result of {@linkcode parseArgs}. */
export interface ParsedArgs {
  /** Arguments that are not flags, in order. */
  readonly positionals: readonly string[];
  /** Boolean flags that were given. */
  readonly booleans: ReadonlySet<string>;
  /** Values of string flags that were given; the last one wins when a flag is repeated. */
  readonly strings: ReadonlyMap<string, string>;
}

/**
 * Parses command-line arguments against a spec. Anything that starts with `-` and is not a known
 * flag is an error, so a typo never silently becomes a file name; after `--` every argument is a
 * positional.
 *
 * @param args The arguments, without the program and command name.
 * @param spec The accepted flags.
 * @returns Positionals, boolean flags and string flag values.
 * @throws {UsageError} For an unknown flag, a missing value or a value given to a boolean flag.
 * @example
 * ```ts
 * import { parseArgs } from "@modelpress/cli";
 * const parsed = parseArgs(["model.onnx", "--json"], { boolean: ["json"] });
 * parsed.positionals; // ["model.onnx"]
 * parsed.booleans.has("json"); // true
 * ```
 */
export function parseArgs(args: readonly string[], spec: ArgSpec): ParsedArgs {
  const booleanFlags = new Set(spec.boolean ?? []);
  const stringFlags = new Set(spec.string ?? []);
  const positionals: string[] = [];
  const booleans = new Set<string>();
  const strings = new Map<string, string>();
  for (let i = 0; i < args.length; i++) {
    const arg = args[i] as string;
    if (arg === "--") {
      positionals.push(...args.slice(i + 1));
      break;
    }
    if (arg === "-" || !arg.startsWith("-")) {
      positionals.push(arg);
      continue;
    }
    const eq = arg.indexOf("=");
    const written = eq === -1 ? arg : arg.slice(0, eq);
    const inline = eq === -1 ? undefined : arg.slice(eq + 1);
    const name = flagName(written, spec);
    if (booleanFlags.has(name)) {
      if (inline !== undefined) {
        throw new UsageError(`Option '${written}' takes no value, but got '${inline}'`);
      }
      booleans.add(name);
    } else if (stringFlags.has(name)) {
      let value = inline;
      if (value === undefined) {
        const next = args[i + 1];
        if (next === undefined || (next.startsWith("-") && next !== "-")) {
          throw new UsageError(`Option '${written}' needs a value`);
        }
        value = next;
        i++;
      }
      strings.set(name, value);
    } else {
      throw new UsageError(`Unknown option '${written}'`);
    }
  }
  return { positionals, booleans, strings };
}

function flagName(written: string, spec: ArgSpec): string {
  if (written.startsWith("--")) return written.slice(2);
  const alias = spec.alias?.[written.slice(1)];
  if (alias === undefined) throw new UsageError(`Unknown option '${written}'`);
  return alias;
}

/**
 * Parses a flag's value as a whole number (digits only, a safe integer).
 *
 * @param text The value as given.
 * @param flag The flag, for the message (`--steps`).
 * @returns The number.
 * @throws {UsageError} "Option '--steps' needs a whole number, got '1.5'".
 * @example
 * ```ts
 * import { parseWholeNumber } from "@modelpress/cli";
 * parseWholeNumber("32", "--block-size"); // 32
 * ```
 */
export function parseWholeNumber(text: string, flag: string): number {
  const n = Number(text);
  if (!/^\d+$/.test(text) || !Number.isSafeInteger(n)) {
    throw new UsageError(`Option '${flag}' needs a whole number, got '${text}'`);
  }
  return n;
}

/**
 * The IN and `-o OUT` of a command that reads one model and writes another: exactly one
 * positional, and the `output` flag.
 *
 * @param parsed The parsed arguments.
 * @param verb What the command does, for the message (`prune`).
 * @returns The input and output paths.
 * @throws {UsageError} When IN or OUT is missing, or there are more positionals.
 * @example
 * ```ts
 * import { inputAndOutput, parseArgs } from "@modelpress/cli";
 * const parsed = parseArgs(["a.onnx", "-o", "b.onnx"], { string: ["output"], alias: { o: "output" } });
 * inputAndOutput(parsed, "prune"); // { input: "a.onnx", output: "b.onnx" }
 * ```
 */
export function inputAndOutput(
  parsed: ParsedArgs,
  verb: string,
): { readonly input: string; readonly output: string } {
  const [input, ...extra] = parsed.positionals;
  if (input === undefined) throw new UsageError(`Missing IN: which model to ${verb}`);
  if (extra.length > 0) throw new UsageError(`Unexpected argument '${extra[0]}'`);
  const output = parsed.strings.get("output");
  if (output === undefined) throw new UsageError("Missing -o OUT: where to write the model");
  return { input, output };
}
