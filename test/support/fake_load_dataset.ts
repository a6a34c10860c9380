/**
 * A stand-in for `loadDataset` of `@modelpress/evaluate`, for tests of the services.
 * @module
 */
import type { Dataset, DatasetSource } from "@modelpress/evaluate";

/**
 * A stand-in for `loadDataset`: `count` samples of nothing; an upload whose bytes say "bad" is
 * refused as the library refuses a broken file.
 *
 * @param count Samples in the dataset.
 * @returns The loader.
 * @example
 * ```ts
 * import { fakeLoadDataset } from "./fake_load_dataset.ts";
 * const dataset = await fakeLoadDataset(10)("mnist");
 * console.log(dataset.count); // 10
 * ```
 */
export function fakeLoadDataset(count = 100): (source: DatasetSource) => Promise<Dataset> {
  return (source) => {
    if (source instanceof Uint8Array && new TextDecoder().decode(source) === "bad") {
      return Promise.reject(new SyntaxError("Cannot load dataset: not an NPZ, NPY or JSON file"));
    }
    return Promise.resolve({
      name: typeof source === "string" ? source : "npz",
      count,
      inputs: {},
    });
  };
}
