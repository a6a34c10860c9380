/**
 * Reading an ONNX model file together with its external data.
 * @module
 */
import { readFileExact } from "./read_file_exact.ts";
import { dirname } from "node:path";
import { type ModelProto, TensorProto_DataLocation } from "./_gen/onnx_pb.ts";
import { EXTERNAL_BASE_DIRS } from "./_external_base_dir.ts";
import { decodeModel } from "./codec.ts";
import { checkExternalData, loadExternalData } from "./external_data.ts";
import { modelTensors } from "./model_tensors.ts";

/** Options for {@linkcode readModel}. */
export interface ReadModelOptions {
  /**
   * What to do with tensors whose data live in side files:
   * - `"load"` (default): read them into `raw_data` now; the model is then self-contained.
   * - `"lazy"`: leave them external (checked, not read); read one with `readExternalData` or
   *   load it with `loadExternalData` when needed, with no `baseDir` to pass. `writeModel` copies
   *   them tensor by tensor. Use this for models larger than memory allows.
   */
  readonly externalData?: "load" | "lazy";
  /** Called as the model file is read, with bytes read and the file size. */
  readonly onProgress?: (done: number, total: number) => void;
}

/**
 * Reads and decodes an ONNX model file, resolving external data relative to the file's directory
 * (initializers, sparse initializers, attribute tensors, subgraphs and functions alike). Inline
 * `raw_data` are views into the file's bytes (see `decodeModel`).
 *
 * @param path The model file.
 * @param options `externalData`: "load" (default) or "lazy".
 * @returns The model.
 * @throws {OnnxParseError} When the file is not a valid model.
 * @throws {Deno.errors.NotFound} When the model file or a side file is missing ("Cannot read
 *   tensor 'w1': external file 'x.data' is missing").
 * @throws {RangeError} When a tensor's range runs past the end of its side file.
 * @throws {TypeError} When external entries are invalid, absolute or leave the model's directory.
 * @example
 * ```ts
 * import { readModel, tensorData } from "@modelpress/onnx";
 * const model = await readModel("model.onnx");
 * for (const t of model.graph!.initializer) console.log(t.name, tensorData(t).length);
 * ```
 */
export async function readModel(path: string, options: ReadModelOptions = {}): Promise<ModelProto> {
  const model = decodeModel(
    await readFileExact(path, options.onProgress ? { onProgress: options.onProgress } : {}),
  );
  const baseDir = dirname(path);
  if ((options.externalData ?? "load") === "load") {
    await loadExternalData(model, { baseDir });
    return model;
  }
  await checkExternalData(model, { baseDir });
  for (const tensor of modelTensors(model)) {
    if (tensor.dataLocation === TensorProto_DataLocation.EXTERNAL) {
      EXTERNAL_BASE_DIRS.set(tensor, baseDir);
    }
  }
  return model;
}
