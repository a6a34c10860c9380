/**
 * Tensor data stored outside the model file ("external data"): a tensor with
 * `data_location = EXTERNAL` names a side file and a byte range in its `external_data` entries
 * (`location`, relative to the model file's directory; `offset`, default 0; `length`, default the
 * tensor's size; `checksum`, informational).
 *
 * Locations are checked before any file is opened: absolute paths, paths that leave the model's
 * directory (through `..` or a symbolic link) and byte ranges beyond the end of the side file are
 * rejected with an error that names the tensor.
 * @module
 */
import { isAbsolute, join, posix, relative, sep, win32 } from "node:path";
import {
  type ModelProto,
  type TensorProto,
  TensorProto_DataLocation,
  TensorProto_DataType,
  TensorProtoSchema,
} from "./_gen/onnx_pb.ts";
import { clearField, isMessage } from "@bufbuild/protobuf";
import { EXTERNAL_BASE_DIRS } from "./_external_base_dir.ts";
import { modelTensors } from "./model_tensors.ts";
import { tensorByteLength } from "./tensor.ts";

/** A tensor's parsed and checked `external_data` entries. */
export interface ExternalDataInfo {
  /** The side file, relative to the model file's directory. */
  readonly location: string;
  /** Where the data start in the side file. */
  readonly offset: number;
  /** How many bytes the data take (the tensor's size in raw form). */
  readonly length: number;
  /** The `checksum` entry when present (not verified). */
  readonly checksum?: string;
}

/** Options for reading external data. */
export interface ExternalDataOptions {
  /**
   * The directory `location` is relative to (the model file's directory). Defaults to the one
   * `readModel` recorded for the tensor; required for tensors that did not come from `readModel`.
   */
  readonly baseDir?: string;
}

/**
 * Parses and checks a tensor's `external_data` entries.
 *
 * @param tensor A tensor with `data_location = EXTERNAL`.
 * @returns Location, offset, length and checksum.
 * @throws {TypeError} When the tensor is not external, `location` is missing, absolute or leaves
 *   the model's directory, or `offset`/`length` is not a decimal integer.
 * @throws {RangeError} When `length` does not match the tensor's dims and type.
 * @example
 * ```ts
 * import { externalDataInfo, readModel } from "@modelpress/onnx";
 * const model = await readModel("model.onnx", { externalData: "lazy" });
 * const w = model.graph!.initializer[0]!;
 * console.log(externalDataInfo(w)); // { location: "model.onnx.data", offset: 0, length: 4096 }
 * ```
 */
export function externalDataInfo(tensor: TensorProto): ExternalDataInfo {
  const name = tensor.name;
  if (tensor.dataLocation !== TensorProto_DataLocation.EXTERNAL) {
    throw new TypeError(`Cannot read external data of tensor '${name}': its data are not external`);
  }
  if (tensor.dataType === TensorProto_DataType.STRING) {
    throw new TypeError(`Cannot read tensor '${name}': STRING tensors cannot have external data`);
  }
  let location: string | undefined;
  let offset = 0;
  let length: number | undefined;
  let checksum: string | undefined;
  for (const { key, value } of tensor.externalData) {
    if (key === "location") location = value;
    else if (key === "offset") offset = parseSize(name, key, value);
    else if (key === "length") length = parseSize(name, key, value);
    else if (key === "checksum") checksum = value;
  }
  if (location === undefined || location === "") {
    throw new TypeError(`Cannot read tensor '${name}': external_data has no 'location'`);
  }
  checkLocation(`Cannot read tensor '${name}'`, location);
  const size = tensorByteLength(tensor);
  if (length !== undefined && length !== size) {
    throw new RangeError(
      `Cannot read tensor '${name}': external length ${length} does not match its ` +
        `dims [${tensor.dims.join(", ")}], which need ${size} bytes`,
    );
  }
  const info = { location, offset, length: size };
  return checksum === undefined ? info : { ...info, checksum };
}

/**
 * Reads a tensor's external bytes from its side file (only its range; the file is not read
 * whole). The tensor is not changed.
 *
 * @param tensor A tensor with `data_location = EXTERNAL`.
 * @param options `baseDir`.
 * @returns The data bytes, as they would be in `raw_data`.
 * @throws {Deno.errors.NotFound} When the side file is missing ("Cannot read tensor 'w1':
 *   external file 'x.data' is missing").
 * @throws {RangeError} When the range runs past the end of the side file.
 * @throws {TypeError} When the entries are invalid (see {@linkcode externalDataInfo}) or no
 *   `baseDir` is known.
 * @example
 * ```ts
 * import { readExternalData, readModel } from "@modelpress/onnx";
 * const model = await readModel("model.onnx", { externalData: "lazy" });
 * const bytes = await readExternalData(model.graph!.initializer[0]!);
 * ```
 */
export async function readExternalData(
  tensor: TensorProto,
  options: ExternalDataOptions = {},
): Promise<Uint8Array> {
  const files = new SideFiles();
  try {
    return await files.read(tensor, baseDirOf(tensor, options));
  } finally {
    files.close();
  }
}

/**
 * Loads external data into `raw_data`, in place: for one tensor, or for every external tensor of
 * a model (each side file opened once). Loaded tensors become ordinary inline tensors
 * (`data_location` DEFAULT, no `external_data` entries), so `tensorData` reads them.
 *
 * @param target A tensor, or a model.
 * @param options `baseDir`.
 * @throws {Deno.errors.NotFound} When a side file is missing.
 * @throws {RangeError} When a range runs past the end of its side file.
 * @throws {TypeError} When entries are invalid or no `baseDir` is known.
 * @example
 * ```ts
 * import { loadExternalData, readModel, tensorData } from "@modelpress/onnx";
 * const model = await readModel("model.onnx", { externalData: "lazy" });
 * const w = model.graph!.initializer[0]!;
 * await loadExternalData(w);
 * console.log(tensorData(w).length);
 * ```
 */
export async function loadExternalData(
  target: TensorProto | ModelProto,
  options: ExternalDataOptions = {},
): Promise<void> {
  const tensors = isMessage(target, TensorProtoSchema) ? [target] : modelTensors(target);
  const files = new SideFiles();
  try {
    for (const tensor of tensors) {
      if (tensor.dataLocation !== TensorProto_DataLocation.EXTERNAL) continue;
      const bytes = await files.read(tensor, baseDirOf(tensor, options));
      tensor.rawData = bytes;
      tensor.externalData = [];
      clearField(tensor, TensorProtoSchema.field.dataLocation);
    }
  } finally {
    files.close();
  }
}

/**
 * Checks every external tensor of a model without reading its data: entries valid, side files
 * present and inside the model's directory, ranges within the files.
 *
 * @param model The model.
 * @param options `baseDir`.
 * @throws {Deno.errors.NotFound} When a side file is missing.
 * @throws {RangeError} When a range runs past the end of its side file.
 * @throws {TypeError} When entries are invalid or no `baseDir` is known.
 * @example
 * ```ts
 * import { checkExternalData, decodeModel } from "@modelpress/onnx";
 * const model = decodeModel(await Deno.readFile("models/model.onnx"));
 * await checkExternalData(model, { baseDir: "models" });
 * ```
 */
export async function checkExternalData(
  model: ModelProto,
  options: ExternalDataOptions = {},
): Promise<void> {
  const files = new SideFiles();
  try {
    for (const tensor of modelTensors(model)) {
      if (tensor.dataLocation !== TensorProto_DataLocation.EXTERNAL) continue;
      await files.check(tensor, baseDirOf(tensor, options));
    }
  } finally {
    files.close();
  }
}

/**
 * Throws unless `location` is a relative path that stays inside its base directory (lexically;
 * symbolic links are checked when the file is opened).
 *
 * @param context The start of the error message, e.g. "Cannot read tensor 'w'".
 * @param location The path to check.
 * @throws {TypeError} When the path is empty, absolute or leaves the directory.
 * @example
 * ```ts
 * import { checkLocation } from "@modelpress/onnx";
 * checkLocation("Cannot write model", "weights/model.data"); // fine
 * ```
 */
export function checkLocation(context: string, location: string): void {
  if (location === "" || location.includes("\0")) {
    throw new TypeError(`${context}: external location '${location}' is not a file name`);
  }
  if (posix.isAbsolute(location) || win32.isAbsolute(location) || /^[A-Za-z]:/.test(location)) {
    throw new TypeError(
      `${context}: external location '${location}' is absolute; it must be relative to the ` +
        "model's directory",
    );
  }
  let depth = 0;
  for (const part of location.split(/[\\/]/)) {
    if (part === "..") depth--;
    else if (part !== "." && part !== "") depth++;
    if (depth < 0) {
      throw new TypeError(
        `${context}: external location '${location}' leaves the model's directory`,
      );
    }
  }
}

function parseSize(name: string, key: string, value: string): number {
  const n = Number(value);
  if (!/^\d+$/.test(value.trim()) || !Number.isSafeInteger(n)) {
    throw new TypeError(
      `Cannot read tensor '${name}': external ${key} '${value}' is not a non-negative integer`,
    );
  }
  return n;
}

function baseDirOf(tensor: TensorProto, options: ExternalDataOptions): string {
  const dir = options.baseDir ?? EXTERNAL_BASE_DIRS.get(tensor);
  if (dir === undefined) {
    throw new TypeError(
      `Cannot read tensor '${tensor.name}': its external data have no known base directory; ` +
        "pass options.baseDir (the model file's directory)",
    );
  }
  return dir;
}

interface OpenFile {
  readonly file: Deno.FsFile;
  readonly size: number;
}

/** Side files opened once each (by resolved path) and closed together. */
class SideFiles {
  readonly #open = new Map<string, Promise<OpenFile>>();

  /** Checks the tensor's entries, its file and range; returns the open file and the info. */
  async check(tensor: TensorProto, baseDir: string): Promise<[OpenFile, ExternalDataInfo]> {
    const info = externalDataInfo(tensor);
    const path = join(baseDir, info.location);
    let opening = this.#open.get(path);
    if (opening === undefined) {
      opening = openInside(tensor.name, baseDir, info.location, path);
      this.#open.set(path, opening);
    }
    const open = await opening;
    if (info.offset + info.length > open.size) {
      throw new RangeError(
        `Cannot read tensor '${tensor.name}': external file '${info.location}' has ${open.size} ` +
          `bytes, but offset ${info.offset} + length ${info.length} runs past its end`,
      );
    }
    return [open, info];
  }

  async read(tensor: TensorProto, baseDir: string): Promise<Uint8Array> {
    const [{ file }, info] = await this.check(tensor, baseDir);
    const out = new Uint8Array(info.length);
    await file.seek(info.offset, Deno.SeekMode.Start);
    let pos = 0;
    while (pos < out.length) {
      const n = await file.read(out.subarray(pos));
      if (n === null) {
        throw new RangeError(
          `Cannot read tensor '${tensor.name}': external file '${info.location}' ended early`,
        );
      }
      pos += n;
    }
    return out;
  }

  close(): void {
    for (const opening of this.#open.values()) {
      opening.then((o) => o.file.close(), () => {});
    }
    this.#open.clear();
  }
}

async function openInside(
  name: string,
  baseDir: string,
  location: string,
  path: string,
): Promise<OpenFile> {
  let file: Deno.FsFile;
  try {
    file = await Deno.open(path, { read: true });
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) {
      throw new Deno.errors.NotFound(
        `Cannot read tensor '${name}': external file '${location}' is missing`,
        { cause: e },
      );
    }
    throw e;
  }
  try {
    // A symbolic link may still lead out of the model's directory.
    const [real, realBase] = await Promise.all([Deno.realPath(path), Deno.realPath(baseDir)]);
    const rel = relative(realBase, real);
    if (rel === "" || rel === ".." || rel.startsWith(`..${sep}`) || isAbsolute(rel)) {
      throw new TypeError(
        `Cannot read tensor '${name}': external location '${location}' leaves the model's ` +
          "directory through a symbolic link",
      );
    }
    const stat = await file.stat();
    if (!stat.isFile) {
      throw new TypeError(
        `Cannot read tensor '${name}': external location '${location}' is not a file`,
      );
    }
    return { file, size: stat.size };
  } catch (e) {
    file.close();
    throw e;
  }
}
