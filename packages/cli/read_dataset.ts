/**
 * Reading a dataset named on the command line: `mnist` (built in) or a file (NPZ, NPY, JSON).
 * @module
 */
import { type Dataset, loadDataset } from "@modelpress/evaluate";
import { commandFailure, statInputFile } from "./command.ts";

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
