/**
 * Loading and saving model files with their external data, with progress bars for big files.
 * Reading external data goes through `@modelpress/onnx` (`externalDataInfo`,
 * `readExternalData`: entry checks, files kept inside the model's folder, symbolic links
 * included); this module adds the progress bar and the report of what was read and written.
 *
 * TODO(onnx): once `writeModel` can keep subgraph tensors inline (see {@linkcode saveModelFile})
 * and `readModel`/`writeModel` take a progress callback and report what they wrote, make these
 * two functions thin wrappers over them.
 * @module
 */
import { clearField, create } from "@bufbuild/protobuf";
import {
  checkLocation as checkOnnxLocation,
  decodeModel,
  encodeModel,
  externalDataInfo,
  isFixedSizeDataType,
  type ModelProto,
  modelTensors,
  readExternalData,
  type StringStringEntryProto,
  StringStringEntryProtoSchema,
  tensorByteLength,
  type TensorProto,
  TensorProto_DataLocation,
  TensorProtoSchema,
} from "@modelpress/onnx";
import { basename, dirname, join, normalize } from "node:path";
import type { TextSink } from "./cli_io.ts";
import {
  PROGRESS_MIN_BYTES,
  readFileWithProgress,
  writeFileWithProgress,
} from "./file_progress.ts";
import { ProgressBar } from "./progress_bar.ts";
import { type TensorVisit, walkTensors } from "./_walk_tensors.ts";

/**
 * Offsets of tensors in an external data file are multiples of this (a memory page, as
 * `writeModel` of `@modelpress/onnx` does), so a reader can map a tensor or view it as a typed
 * array without copying.
 */
export const EXTERNAL_DATA_ALIGNMENT = 4096;

/** Options for {@linkcode loadModelFile}. */
export interface LoadModelFileOptions {
  /**
   * Read the external data files that tensors refer to and put their bytes into `raw_data`
   * (default false: external references are left as they are and no data file is read).
   */
  readonly inlineExternalData?: boolean;
  /** Where to draw progress bars for large files (normally stderr). */
  readonly progress?: TextSink;
}

/** A model read by {@linkcode loadModelFile}. */
export interface LoadedModel {
  /** The decoded model. */
  readonly model: ModelProto;
  /** Size of the model file itself. */
  readonly bytes: number;
  /** External data files that were read, with their sizes (empty unless inlining). */
  readonly externalFiles: readonly { readonly location: string; readonly bytes: number }[];
  /** Number of tensors whose external data was put into `raw_data`. */
  readonly inlinedTensors: number;
}

/** Options for {@linkcode saveModelFile}. */
export interface SaveModelFileOptions {
  /**
   * Store initializers and Constant node values of the main graph whose `raw_data` has at
   * least this many bytes in an external data file next to the model. Without it everything is
   * written inline.
   */
  readonly externalDataThreshold?: number;
  /** File name of the external data file, relative to the model (default `<model name>.data`). */
  readonly location?: string;
  /** Where to draw progress bars for large files (normally stderr). */
  readonly progress?: TextSink;
}

/** What {@linkcode saveModelFile} wrote. */
export interface SavedModel {
  /** Size of the model file. */
  readonly bytes: number;
  /** The external data file, when tensors were moved there. */
  readonly externalFile: {
    readonly location: string;
    readonly path: string;
    readonly bytes: number;
    readonly tensors: number;
  } | null;
  /** Tensors at or over the threshold that stayed inline, by reason. */
  readonly keptInline: {
    /** Their data is in typed fields (`float_data`, ...) rather than `raw_data`. */
    readonly typedFields: number;
    /** They are in subgraphs, functions or training graphs (see {@linkcode saveModelFile}). */
    readonly subgraphs: number;
  };
}

/**
 * Reads and decodes a model file, optionally with its external data.
 *
 * @param path The `.onnx` file.
 * @param options Whether to read external data, and where to draw progress.
 * @returns The model, its file size and what external data was read.
 * @throws {Deno.errors.NotFound} When the model file or an external data file is missing.
 * @throws {OnnxParseError} When the file is not a valid model.
 * @throws {TypeError} When external entries are invalid or lead out of the model's folder.
 * @throws {RangeError} When external data runs past the end of its file.
 * @example
 * ```ts
 * import { loadModelFile } from "@modelpress/cli";
 * const { model, bytes } = await loadModelFile("model.onnx", { inlineExternalData: true });
 * ```
 */
export async function loadModelFile(
  path: string,
  options: LoadModelFileOptions = {},
): Promise<LoadedModel> {
  const progress = options.progress === undefined ? {} : { progress: options.progress };
  const fileBytes = await readFileWithProgress(path, progress);
  const model = decodeModel(fileBytes);
  if (!options.inlineExternalData) {
    return { model, bytes: fileBytes.length, externalFiles: [], inlinedTensors: 0 };
  }
  const baseDir = dirname(path);
  const external = modelTensors(model)
    .filter((t) => t.dataLocation === TensorProto_DataLocation.EXTERNAL)
    .map((tensor) => ({ tensor, info: externalDataInfo(tensor) }));
  const total = external.reduce((sum, e) => sum + e.info.length, 0);
  const bar = options.progress?.isTerminal && total >= PROGRESS_MIN_BYTES
    ? new ProgressBar(options.progress, { total, label: `read external data of ${path}` })
    : null;
  let done = 0;
  try {
    for (const { tensor, info } of external) {
      tensor.rawData = await readExternalData(tensor, { baseDir });
      tensor.externalData = [];
      clearField(tensor, TensorProtoSchema.field.dataLocation);
      done += info.length;
      bar?.update(done);
    }
  } finally {
    bar?.finish();
  }
  const externalFiles: { location: string; bytes: number }[] = [];
  for (const location of new Set(external.map((e) => e.info.location))) {
    externalFiles.push({ location, bytes: (await Deno.stat(join(baseDir, location))).size });
  }
  return { model, bytes: fileBytes.length, externalFiles, inlinedTensors: external.length };
}

/**
 * Encodes and writes a model, optionally moving large tensors (initializers and Constant node
 * values of the main graph; subgraph tensors stay inline because onnxruntime-web cannot load
 * them from external data) to an external data file
 * (ONNX's external data format: `location`, `offset` and `length` entries, offsets aligned to
 * {@linkcode EXTERNAL_DATA_ALIGNMENT}). Tensors that already refer to external data are written
 * as they are; load with `inlineExternalData` first to rewrite them. The model is changed in
 * place when tensors are moved.
 *
 * @param path The `.onnx` file to write (created or replaced).
 * @param model The model.
 * @param options Threshold and name of the external data file, and where to draw progress.
 * @returns What was written.
 * @throws {RangeError} When the model is over protobuf's 2 GiB limit, or `location` is not a
 *   plain file name; nothing is written then.
 * @example
 * ```ts
 * import { loadModelFile, saveModelFile } from "@modelpress/cli";
 * const { model } = await loadModelFile("big.onnx", { inlineExternalData: true });
 * await saveModelFile("small.onnx", model, { externalDataThreshold: 1024 });
 * ```
 */
export async function saveModelFile(
  path: string,
  model: ModelProto,
  options: SaveModelFileOptions = {},
): Promise<SavedModel> {
  const progress = options.progress === undefined ? {} : { progress: options.progress };
  const threshold = options.externalDataThreshold;
  const location = options.location ?? `${basename(path)}.data`;
  checkDataFileName(location);
  const parts: Uint8Array[] = [];
  let dataBytes = 0;
  let moved = 0;
  const keptInline = { typedFields: 0, subgraphs: 0 };
  if (threshold !== undefined) {
    for (const visit of walkTensors(model)) {
      const tensor = visit.tensor;
      const candidate = visit.kind === "initializer" || isConstantValue(visit);
      if (!candidate || tensor.dataLocation === TensorProto_DataLocation.EXTERNAL) continue;
      const raw = tensor.rawData;
      const size = raw.length > 0 ? raw.length : packedBytes(tensor);
      if (size === 0 || size < threshold) continue;
      if (!isMovable(visit)) {
        keptInline.subgraphs++;
        continue;
      }
      if (raw.length === 0) {
        keptInline.typedFields++;
        continue;
      }
      const padding = (EXTERNAL_DATA_ALIGNMENT - (dataBytes % EXTERNAL_DATA_ALIGNMENT)) %
        EXTERNAL_DATA_ALIGNMENT;
      if (padding > 0) parts.push(new Uint8Array(padding));
      dataBytes += padding;
      parts.push(raw);
      tensor.externalData = [
        entry("location", location),
        entry("offset", String(dataBytes)),
        entry("length", String(raw.length)),
      ];
      tensor.dataLocation = TensorProto_DataLocation.EXTERNAL;
      clearField(tensor, TensorProtoSchema.field.rawData);
      dataBytes += raw.length;
      moved++;
    }
  }
  // Encode before writing anything, so that a model over the 2 GiB limit leaves no files behind.
  const encoded = encodeModel(model);
  let externalFile: SavedModel["externalFile"] = null;
  if (moved > 0) {
    const dataPath = join(dirname(path), location);
    const bytes = await writeFileWithProgress(dataPath, parts, progress);
    externalFile = { location, path: dataPath, bytes, tensors: moved };
  }
  const bytes = await writeFileWithProgress(path, encoded, progress);
  return { bytes, externalFile, keptInline };
}

/**
 * Checks that an external data location is a plain file name, so that saving never writes
 * outside the model's folder.
 *
 * @param location The location to check.
 * @throws {RangeError} When it is empty, has a folder part, or is `.` or `..`.
 * @example
 * ```ts
 * import { checkDataFileName } from "@modelpress/cli";
 * checkDataFileName("model.onnx.data"); // ok
 * ```
 */
export function checkDataFileName(location: string): void {
  if (location === "" || location === "." || location === ".." || /[\\/]/.test(location)) {
    throw new RangeError(
      `External data location '${location}' must be a plain file name (no folders)`,
    );
  }
}

/**
 * Resolves an external data location against the model file's folder, refusing locations that
 * leave that folder (as the ONNX checker does), so a model cannot make us read arbitrary files.
 *
 * @param modelPath The model file.
 * @param location The location written in the model.
 * @returns The path of the data file.
 * @throws {TypeError} When the location is absolute or climbs out of the model's folder.
 * @example
 * ```ts
 * import { resolveLocation } from "@modelpress/cli";
 * resolveLocation("models/a.onnx", "a.onnx.data"); // "models/a.onnx.data"
 * ```
 */
export function resolveLocation(modelPath: string, location: string): string {
  checkOnnxLocation("Cannot resolve external data", location);
  return join(dirname(modelPath), normalize(location));
}

function entry(key: string, value: string): StringStringEntryProto {
  return create(StringStringEntryProtoSchema, { key, value });
}

/**
 * Which tensors may live in external data: initializers and the `value` of Constant nodes of the
 * main graph. onnxruntime-web 1.30 cannot load external data of tensors inside subgraphs (If/Loop
 * branches: "external data path could not be canonicalized"), and every model ModelPress writes
 * must run there, so those stay inline; so do sparse tensors and other attributes.
 */
function isMovable(visit: TensorVisit): boolean {
  if (visit.entry.kind !== "main") return false;
  if (visit.kind === "initializer") return true;
  return isConstantValue(visit);
}

function isConstantValue(visit: TensorVisit): boolean {
  return visit.kind === "attribute" && visit.attribute === "value" &&
    visit.node?.opType === "Constant" &&
    (visit.node.domain === "" || visit.node.domain === "ai.onnx");
}

/** Bytes the tensor's elements would take in `raw_data` (0 for strings and unknown types). */
function packedBytes(tensor: TensorProto): number {
  return isFixedSizeDataType(tensor.dataType) ? tensorByteLength(tensor) : 0;
}
