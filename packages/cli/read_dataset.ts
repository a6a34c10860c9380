/**
 * Reading a dataset named on the command line: `mnist` (built in) or a file (NPZ, NPY, JSON).
 * @module
 */
import { type Dataset, loadDataset } from "@modelpress/evaluate";
import { commandFailure, statInputFile } from "./command.ts";

/**
 * Loads the dataset a command-line argument names.
 *
 * @param arg `mnist`, or the path of an .npz, .npy or .json file.
 * @param verb What the command is doing, for error messages ("read dataset").
 * @returns The dataset.
 * @throws {Error} A command failure naming the file and the reason.
 * @example
 * ```ts
 * import { readDataset } from "./read_dataset.ts";
 * const mnist = await readDataset("mnist", "read dataset");
 * console.log(mnist.count); // 2000
 * ```
 */
export async function readDataset(arg: string, verb: string): Promise<Dataset> {
  if (arg === "mnist") return await loadDataset("mnist");
  await statInputFile(verb, arg);
  try {
    const name = arg.split(/[\\/]/).pop() ?? arg;
    return await loadDataset(await Deno.readFile(arg), { name });
  } catch (e) {
    throw commandFailure(e, { verb, path: arg });
  }
}
