/**
 * Reading a dataset named on the command line: `mnist` (built in) or a file (NPZ, NPY, JSON).
 * @module
 */
import { type Dataset, loadDataset } from "@modelpress/evaluate";
import { commandFailure, statInputFile } from "./command.ts";
import { UsageError } from "./parse_args.ts";

/** Options of {@linkcode readDataset}. */
export interface ReadDatasetOptions {
  /**
   * The split of the built-in `mnist`: calibration reads `"train"` so that evaluating on the
   * test split (the default) stays fair.
   */
  readonly split?: "train" | "test" | "all";
}

/**
 * Loads the dataset a command-line argument names.
 *
 * @param arg `mnist`, or the path of an .npz, .npy or .json file.
 * @param verb What the command is doing, for error messages ("read dataset").
 * @param options The split of the built-in `mnist`.
 * @returns The dataset.
 * @throws {Error} A command failure naming the file and the reason.
 * @example
 * ```ts
 * import { readDataset } from "./read_dataset.ts";
 * const mnist = await readDataset("mnist", "read dataset");
 * console.log(mnist.count); // 2000
 * ```
 */
export async function readDataset(
  arg: string,
  verb: string,
  options: ReadDatasetOptions = {},
): Promise<Dataset> {
  if (arg === "mnist") {
    return await loadDataset("mnist", options.split === undefined ? {} : { split: options.split });
  }
  await statInputFile(verb, arg);
  try {
    const name = arg.split(/[\\/]/).pop() ?? arg;
    return await loadDataset(await Deno.readFile(arg), { name });
  } catch (e) {
    throw commandFailure(e, { verb, path: arg });
  }
}

/** Options of {@linkcode readCalibration}. */
export interface ReadCalibrationOptions {
  /** What needs calibration data with these options, in words (`--method wanda`), or undefined. */
  readonly neededBy: string | undefined;
  /** What uses calibration data at all, in words, for `--calibration` given that nothing needs. */
  readonly usedBy: string;
}

/**
 * Reads the `--calibration` dataset of a command that rewrites a model: required when something
 * needs it, refused when nothing does (both usage errors), and the built-in `mnist` read on its
 * train split, so that evaluating on the test split (what `modelpress eval --dataset mnist`
 * reads) stays fair.
 *
 * @param arg The `--calibration` value, if given.
 * @param options What needs and what uses calibration data.
 * @returns The dataset, or undefined when none is needed.
 * @throws {UsageError} When the option is missing or not used.
 * @throws {Error} A command failure when the file cannot be read.
 * @example
 * ```ts
 * import { readCalibration } from "./read_dataset.ts";
 * const dataset = await readCalibration("mnist", {
 *   neededBy: "static quantization",
 *   usedBy: "--method static",
 * });
 * console.log(dataset?.count);
 * ```
 */
export async function readCalibration(
  arg: string | undefined,
  options: ReadCalibrationOptions,
): Promise<Dataset | undefined> {
  const { neededBy } = options;
  if (neededBy !== undefined && arg === undefined) {
    throw new UsageError(`Missing --calibration: ${neededBy} needs a dataset (mnist or a file)`);
  }
  if (arg === undefined) return undefined;
  if (neededBy === undefined) {
    throw new UsageError(`Option '--calibration' is only used by ${options.usedBy}`);
  }
  return await readDataset(arg, "read calibration dataset", { split: "train" });
}
