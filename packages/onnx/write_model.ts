/**
 * Writing an ONNX model file, optionally with large tensors in a side file: the way to write
 * models over protobuf's 2 GiB message limit.
 * @module
 */
import { create, type MessageInitShape } from "@bufbuild/protobuf";
import { basename, dirname, join } from "node:path";
import {
  type ModelProto,
  StringStringEntryProtoSchema,
  type TensorProto,
  TensorProto_DataLocation,
  TensorProtoSchema,
} from "./_gen/onnx_pb.ts";
import { encodedModelSize, encodeModelTo } from "./codec.ts";
import { isFixedSizeDataType } from "./data_type.ts";
import { checkLocation, readExternalData } from "./external_data.ts";
import { mapModelTensors, type TensorSite } from "./model_tensors.ts";
import { tensorByteLength, tensorData, withTensorData } from "./tensor.ts";

/** Options for {@linkcode writeModel}. */
export interface WriteModelOptions {
  /**
   * Tensors of at least this many bytes go to the side file. Leave it out to write every tensor
   * inline (tensors read lazily from side files are then loaded into the model file).
   */
  readonly externalDataThreshold?: number;
  /** The side file, relative to the model file's directory; default `"<model file name>.data"`. */
  readonly location?: string;
  /** Each tensor's offset in the side file is a multiple of this; default 4096. */
  readonly align?: number;
  /**
   * Which tensors may go to the side file; default `["initializer"]`, as ONNX's own tools do.
   * Add `"attribute"` for Constant values and `"sparse_initializer"` for sparse values and
   * indices.
   */
  readonly externalKinds?: readonly TensorSite["kind"][];
  /**
   * Also move tensors inside subgraphs (If/Loop/Scan bodies), functions and training graphs.
   * Default false: onnxruntime-web (1.30) cannot load external data of subgraph tensors
   * ("external data path could not be canonicalized"), so such a model would not run there.
   */
  readonly externalSubgraphTensors?: boolean;
  /** Called as bytes are written: `done` and `total` over the side file and the model file. */
  readonly onProgress?: (done: number, total: number) => void;
}

/** What {@linkcode writeModel} wrote. */
export interface WriteModelResult {
  /** Bytes of the model file. */
  readonly modelBytes: number;
  /** The side file, when tensors went to one. */
  readonly external: {
    /** Its location as written in the model (relative to the model's directory). */
    readonly location: string;
    /** Its path on disk. */
    readonly path: string;
    /** Its size in bytes, padding included. */
    readonly bytes: number;
    /** How many tensors it holds. */
    readonly tensors: number;
  } | undefined;
  /** Tensors left inline that were external before (loaded from their side files). */
  readonly inlined: number;
  /**
   * Tensors at or over the threshold of a movable kind that stayed inline because they sit in a
   * subgraph, a function or a training graph (see `externalSubgraphTensors`).
   */
  readonly keptInSubgraphs: number;
}

/**
 * Writes a model file. With `externalDataThreshold`, tensors of at least that many bytes are
 * written to a side file, each at an offset aligned to `align`, and referenced from the model file
 * by `location`/`offset`/`length` entries with `data_location = EXTERNAL`. The side file is
 * streamed tensor by tensor (never assembled in memory), tensors left external by
 * `readModel(path, { externalData: "lazy" })` are copied over one at a time, and the caller's
 * model is not changed. Both files are written under temporary names and renamed at the end, so
 * a model may be written over the files it was lazily read from.
 *
 * @param path The model file to write.
 * @param model The model.
 * @param options `externalDataThreshold`, `location`, `align`, `externalKinds`,
 *   `externalSubgraphTensors`, `onProgress`.
 * @returns What was written: sizes, the side file, how many tensors moved.
 * @throws {RangeError} When `align` or `externalDataThreshold` is not a positive integer / a
 *   non-negative number, or a tensor's data do not match its dims.
 * @throws {TypeError} When `location` is absolute, leaves the model's directory or is the model
 *   file itself.
 * @example
 * ```ts
 * import { readModel, writeModel } from "@modelpress/onnx";
 * const model = await readModel("big.onnx", { externalData: "lazy" });
 * await writeModel("out/big.onnx", model, { externalDataThreshold: 1024 });
 * // out/big.onnx.data holds every initializer of 1 KiB or more.
 * ```
 */
export async function writeModel(
  path: string,
  model: ModelProto,
  options: WriteModelOptions = {},
): Promise<WriteModelResult> {
  const threshold = options.externalDataThreshold;
  const subgraphs = options.externalSubgraphTensors ?? false;
  const onProgress = options.onProgress;
  const align = options.align ?? 4096;
  const location = options.location ?? `${basename(path)}.data`;
  const kinds = new Set(options.externalKinds ?? ["initializer"]);
  if (threshold !== undefined && !(threshold >= 0)) {
    throw new RangeError(
      `Cannot write model: externalDataThreshold ${threshold} is not a non-negative number`,
    );
  }
  if (!Number.isSafeInteger(align) || align < 1) {
    throw new RangeError(`Cannot write model: align ${align} is not a positive integer`);
  }
  checkLocation("Cannot write model", location);
  const dir = dirname(path);
  const sidePath = join(dir, location);
  if (join(sidePath) === join(path)) {
    throw new TypeError(`Cannot write model: external location '${location}' is the model file`);
  }

  // Decide first (synchronously), then stream: mapModelTensors cannot await.
  // Sets: a tensor object shared by two sites is written once.
  const external = new Set<TensorProto>();
  let keptInSubgraphs = 0;
  const inline = new Set<TensorProto>();
  mapModelTensors(model, (t, site) => {
    if (external.has(t) || inline.has(t)) return t;
    const size = isFixedSizeDataType(t.dataType) ? tensorByteLength(t) : 0;
    const big = threshold !== undefined && kinds.has(site.kind) && size > 0 && size >= threshold;
    if (big && !site.inMainGraph && !subgraphs) keptInSubgraphs++;
    if (big && (site.inMainGraph || subgraphs)) {
      external.add(t);
    } else if (t.dataLocation === TensorProto_DataLocation.EXTERNAL) {
      inline.add(t);
    }
    return t;
  });

  const suffix = `.tmp-${crypto.randomUUID()}`;
  const replacements = new Map<TensorProto, TensorProto>();
  let sideWritten = false;
  let sideBytes = 0;
  try {
    for (const t of inline) {
      replacements.set(t, copyWith(t, { rawData: await readExternalData(t) }));
    }
    let externalTotal = 0;
    for (const t of external) externalTotal += tensorByteLength(t) + align;
    // Progress total: the side file (upper bound with padding) plus the model, sized once the
    // replacements are known; reported against the final size at the end.
    let done = 0;
    if (external.size > 0) {
      await Deno.mkdir(dirname(sidePath), { recursive: true });
      using file = await Deno.open(sidePath + suffix, { write: true, createNew: true });
      sideWritten = true;
      for (const t of external) {
        const pad = (align - (sideBytes % align)) % align;
        if (pad > 0) {
          await writeAll(file, new Uint8Array(pad));
          sideBytes += pad;
        }
        const bytes = await rawBytes(t);
        await writeAll(file, bytes);
        replacements.set(t, copyWith(t, externalData(location, sideBytes, bytes.length)));
        sideBytes += bytes.length;
        done += pad + bytes.length;
        onProgress?.(done, externalTotal);
      }
    }
    const out = mapModelTensors(model, (t) => replacements.get(t) ?? t);
    await Deno.mkdir(dir === "" ? "." : dir, { recursive: true });
    const modelSize = encodedModelSize(out);
    const total = sideBytes + modelSize;
    {
      // Streamed: tensor bytes go from the model to the file without a second copy in memory.
      using file = await Deno.open(path + suffix, { write: true, createNew: true });
      encodeModelTo(out, (chunk) => {
        for (let n = 0; n < chunk.length;) n += file.writeSync(chunk.subarray(n));
        done += chunk.length;
        onProgress?.(Math.min(done, total), total);
      });
    }
    if (sideWritten) await Deno.rename(sidePath + suffix, sidePath);
    await Deno.rename(path + suffix, path);
    onProgress?.(total, total);
    return {
      modelBytes: modelSize,
      external: sideWritten
        ? { location, path: sidePath, bytes: sideBytes, tensors: external.size }
        : undefined,
      inlined: inline.size,
      keptInSubgraphs,
    };
  } catch (e) {
    await Deno.remove(path + suffix).catch(() => {});
    if (sideWritten) await Deno.remove(sidePath + suffix).catch(() => {});
    throw e;
  }
}

/** The tensor's data as raw little-endian bytes, whichever way they are stored now. */
async function rawBytes(t: TensorProto): Promise<Uint8Array> {
  if (t.dataLocation === TensorProto_DataLocation.EXTERNAL) return await readExternalData(t);
  const size = tensorByteLength(t);
  if (t.rawData.length === size && size > 0) return t.rawData;
  // Typed fields (float_data, int32_data, ...) or an inconsistent raw_data: tensorData checks the
  // sizes and withTensorData re-encodes to raw form.
  return withTensorData(t, tensorData(t)).rawData;
}

/** The entries that make a tensor external. */
function externalData(
  location: string,
  offset: number,
  length: number,
): MessageInitShape<typeof TensorProtoSchema> {
  const entry = (key: string, value: string) =>
    create(StringStringEntryProtoSchema, { key, value });
  return {
    dataLocation: TensorProto_DataLocation.EXTERNAL,
    externalData: [
      entry("location", location),
      entry("offset", String(offset)),
      entry("length", String(length)),
    ],
  };
}

/** A copy of the tensor's metadata with new data fields (the original stays as it is). */
function copyWith(t: TensorProto, data: MessageInitShape<typeof TensorProtoSchema>): TensorProto {
  const copy = create(TensorProtoSchema, {
    name: t.name,
    dataType: t.dataType,
    dims: t.dims,
    metadataProps: t.metadataProps,
    ...data,
  });
  if (t.docString !== "") copy.docString = t.docString;
  if (t.segment !== undefined) copy.segment = t.segment;
  return copy;
}

async function writeAll(file: Deno.FsFile, bytes: Uint8Array): Promise<void> {
  let pos = 0;
  while (pos < bytes.length) pos += await file.write(bytes.subarray(pos));
}
