/**
 * Size of a model: file and gzip bytes, parameters by element type, sparsity, and MACs.
 *
 * Parameters are the elements of every tensor the model holds (`modelTensors` of
 * `@modelpress/onnx`: initializers, Constant values, subgraphs, functions). Sparsity is the
 * fraction of elements that are exactly zero (`-0` counts as zero; for float16/bfloat16 the bit
 * patterns of ±0); string tensors count as parameters but not towards sparsity.
 * @module
 */
import {
  decodeModel,
  elementCount,
  type ModelProto,
  modelTensors,
  tensorByteLength,
  tensorData,
  type TensorProto,
  TensorProto_DataLocation,
  TensorProto_DataType,
} from "@modelpress/onnx";
import { elementTypeName } from "./_type_names.ts";
import { countMacs, type CountMacsOptions, type MacReport } from "./macs.ts";

/** Size figures of one tensor. */
export interface TensorSize {
  /** The tensor's name. */
  readonly name: string;
  /** Its element type (`float32`, `int8`, ...; ONNX's names in lower case). */
  readonly dataType: string;
  /** Its dims. */
  readonly shape: readonly number[];
  /** Its element count. */
  readonly elements: number;
  /** Its data's bytes (packed). */
  readonly bytes: number;
  /** Elements that are exactly zero. */
  readonly zeros: number;
  /** `zeros / elements` (0 for an empty tensor). */
  readonly sparsity: number;
}

/** Size of a model. */
export interface SizeReport {
  /** Bytes of the serialized model. */
  readonly fileBytes: number;
  /** Bytes of the serialized model after gzip (CompressionStream, default level). */
  readonly gzipBytes: number;
  /** Elements of all tensors. */
  readonly parameters: number;
  /** Bytes of all tensors' data. */
  readonly parameterBytes: number;
  /** Tensor data bytes by element type name. */
  readonly bytesByType: Readonly<Record<string, number>>;
  /** Exactly-zero elements of all tensors. */
  readonly zeros: number;
  /** `zeros / parameters` over numeric tensors. */
  readonly sparsity: number;
  /** Per-tensor figures, in `modelTensors` order. */
  readonly tensors: readonly TensorSize[];
  /** MACs per run at the given shapes (batch 1 by default), absent if not asked for. */
  readonly macs?: MacReport;
}

/** Options of {@link measureModelSize}. */
export interface MeasureModelSizeOptions {
  /** The decoded model, when the caller has it already (default: decoded from the bytes). */
  readonly model?: ModelProto;
  /** MAC counting settings, or `false` to skip MACs (default `{}`: declared shapes, batch 1). */
  readonly macs?: CountMacsOptions | false;
}

const T = TensorProto_DataType;

/**
 * Bytes of data after gzip.
 *
 * @param bytes The data.
 * @returns The compressed length.
 */
async function gzipLength(bytes: Uint8Array): Promise<number> {
  const stream = new Blob([bytes as Uint8Array<ArrayBuffer>]).stream().pipeThrough(
    new CompressionStream("gzip"),
  );
  let length = 0;
  for await (const chunk of stream) length += chunk.byteLength;
  return length;
}

/**
 * Counts the exact zeros of a tensor, or undefined when its values are not numbers to scan
 * (strings, external data).
 *
 * @param tensor The tensor.
 * @returns The count of zero elements.
 */
function countZeros(tensor: TensorProto): number | undefined {
  if (tensor.dataType === T.STRING || tensor.dataLocation === TensorProto_DataLocation.EXTERNAL) {
    return undefined;
  }
  const data = tensorData(tensor) as NumericData;
  // Which bits of a code must be zero for the value to be zero (sign ignored where ±0 exist).
  let mask: number | undefined;
  switch (tensor.dataType) {
    case T.FLOAT16:
    case T.BFLOAT16:
      mask = 0x7fff;
      break;
    case T.FLOAT8E4M3FN:
    case T.FLOAT8E5M2:
      mask = 0x7f;
      break;
    case T.FLOAT8E4M3FNUZ:
    case T.FLOAT8E5M2FNUZ:
      mask = 0xff;
      break;
    case T.FLOAT8E8M0:
      return 0;
    case T.FLOAT4E2M1:
      mask = 0x7;
      break;
  }
  let zeros = 0;
  if (tensor.dataType === T.COMPLEX64 || tensor.dataType === T.COMPLEX128) {
    for (let i = 0; i + 1 < data.length; i += 2) {
      if (data[i] == 0 && data[i + 1] == 0) zeros++;
    }
    return zeros;
  }
  if (mask !== undefined) {
    for (let i = 0; i < data.length; i++) if ((Number(data[i]) & mask) === 0) zeros++;
    return zeros;
  }
  for (let i = 0; i < data.length; i++) if (data[i] == 0) zeros++;
  return zeros;
}

/** Any typed array of tensor data, read element by element. */
type NumericData = ArrayLike<number | bigint>;

/**
 * Measures a model's size: file and gzip bytes, parameters and bytes by element type, sparsity
 * per tensor and overall, and MACs (see the module doc and `countMacs`).
 *
 * @param bytes The serialized model.
 * @param options The decoded model if at hand, and MAC settings.
 * @returns The report.
 * @throws {Error} When the bytes are not an ONNX model (the parser's error).
 * @example
 * ```ts
 * import { measureModelSize } from "@modelpress/evaluate";
 * const size = await measureModelSize(await Deno.readFile("test/fixtures/mnist_mlp.onnx"));
 * console.log(size.parameters, size.sparsity, size.macs?.total); // 235146 0 234752
 * ```
 */
export async function measureModelSize(
  bytes: Uint8Array,
  options: MeasureModelSizeOptions = {},
): Promise<SizeReport> {
  const model = options.model ?? decodeModel(bytes);
  const tensors: TensorSize[] = [];
  const bytesByType: Record<string, number> = {};
  let parameters = 0, parameterBytes = 0, zeros = 0, scanned = 0;
  for (const tensor of modelTensors(model)) {
    const elements = elementCount(tensor);
    const size = tensorByteLength(tensor);
    const dataType = elementTypeName(tensor.dataType);
    const z = countZeros(tensor);
    tensors.push({
      name: tensor.name,
      dataType,
      shape: tensor.dims.map(Number),
      elements,
      bytes: size,
      zeros: z ?? 0,
      sparsity: z === undefined || elements === 0 ? 0 : z / elements,
    });
    parameters += elements;
    parameterBytes += size;
    bytesByType[dataType] = (bytesByType[dataType] ?? 0) + size;
    if (z !== undefined) {
      zeros += z;
      scanned += elements;
    }
  }
  const report: SizeReport = {
    fileBytes: bytes.length,
    gzipBytes: await gzipLength(bytes),
    parameters,
    parameterBytes,
    bytesByType,
    zeros,
    sparsity: scanned === 0 ? 0 : zeros / scanned,
    tensors,
  };
  if (options.macs === false || model.graph === undefined) return report;
  return { ...report, macs: countMacs(model.graph, options.macs ?? {}) };
}
