/**
 * The shape of a CLI command, and the one place that turns failures into messages for people.
 * @module
 */
import { OnnxParseError } from "@modelpress/onnx";
import type { CliIo } from "./cli_io.ts";

/** A subcommand of `modelpress`. */
export interface Command {
  /** The word that selects it: `inspect`. */
  readonly name: string;
  /** One line for the command list. */
  readonly summary: string;
  /** Full help text, starting with the usage line, ending with a newline. */
  readonly help: string;
  /**
   * Runs the command.
   *
   * @param args Arguments after the command name.
   * @param io Where to write.
   * @returns The exit code.
   * @throws {UsageError} When the command line is wrong (exit code 2).
   * @throws {Error} With a message for people when the command fails (exit code 1).
   */
  run(args: readonly string[], io: CliIo): Promise<number>;
}

/** What a command was doing to which file, for {@linkcode commandFailure}. */
export interface FailureContext {
  /** What the command was doing: `inspect`, `read`, `write`. */
  readonly verb: string;
  /** The file, as the user wrote it. */
  readonly path: string;
}

/**
 * Makes the error a command throws when it fails on a file: the message says what could not be
 * done to which file and why, in the form `Cannot inspect 'model.onnx': file not found`. Parse
 * errors keep their byte offset in the message.
 *
 * @param cause What went wrong.
 * @param context The verb and the file.
 * @returns An Error with that message and `cause` set.
 * @example
 * ```ts
 * import { commandFailure } from "@modelpress/cli";
 * const e = commandFailure(new Deno.errors.NotFound("gone"), { verb: "inspect", path: "a.onnx" });
 * e.message; // "Cannot inspect 'a.onnx': gone"
 * ```
 */
export function commandFailure(cause: unknown, context: FailureContext): Error {
  return new Error(`Cannot ${context.verb} '${context.path}': ${reason(cause)}`, { cause });
}

/**
 * Checks that an input file exists and is a regular file, before any work starts.
 *
 * @param verb What the command is about to do: `inspect`, `convert`.
 * @param path The file, as the user wrote it.
 * @returns The file's information.
 * @throws {Error} `Cannot <verb> '<path>': file not found` (or: is a folder, permission denied).
 * @example
 * ```ts
 * import { statInputFile } from "@modelpress/cli";
 * const info = await statInputFile("inspect", "model.onnx");
 * console.log(info.size);
 * ```
 */
export async function statInputFile(verb: string, path: string): Promise<Deno.FileInfo> {
  let info: Deno.FileInfo;
  try {
    info = await Deno.stat(path);
  } catch (e) {
    throw commandFailure(e, { verb, path });
  }
  if (info.isDirectory) throw new Error(`Cannot ${verb} '${path}': it is a folder, not a file`);
  return info;
}

function reason(cause: unknown): string {
  if (cause instanceof OnnxParseError) {
    // The offset is already in the message; drop the generic prefix so it reads as one sentence.
    const detail = cause.message.replace(/^Cannot parse ONNX model at byte \d+: /, "");
    return `not a valid ONNX model (at byte ${cause.offset}: ${detail})`;
  }
  if (cause instanceof Error) {
    // Errors straight from the operating system carry "(os error N): open '...'" that says little
    // to a person; ours (such as a missing external data file) have a message of their own.
    const fromOs = cause.message.includes("(os error");
    if (fromOs && cause instanceof Deno.errors.NotFound) return "file not found";
    if (fromOs && cause instanceof Deno.errors.PermissionDenied) return "permission denied";
    if (fromOs && cause instanceof Deno.errors.IsADirectory) return "it is a folder, not a file";
    // A nested "Cannot read tensor 'w': ..." continues the sentence: "...: cannot read tensor".
    return cause.message.replace(/^Cannot /, "cannot ");
  }
  return String(cause);
}
