/**
 * Decoding and encoding of ONNX ModelProto bytes (and of any other ONNX message).
 * @module
 */
import { create, type DescMessage, type MessageShape } from "@bufbuild/protobuf";
import { type ModelProto, ModelProtoSchema } from "./_gen/onnx_pb.ts";
import {
  type ChunkSink,
  decodeWith,
  encodedSize,
  encodeWith,
  MAX_PROTOBUF_BYTES,
} from "./_codec.ts";

export type { ChunkSink } from "./_codec.ts";
export { MAX_PROTOBUF_BYTES } from "./_codec.ts";

/** Options of {@linkcode decodeModel}. */
export interface DecodeModelOptions {
  /**
   * Deepest message nesting accepted; deeper input throws OnnxParseError instead of exhausting
   * the stack. Default 100 (a graph in an If inside a Loop inside a graph is about 8 deep).
   */
  readonly maxDepth?: number;
}

/**
 * Decodes ONNX model bytes into a ModelProto. Every field is kept, unknown ones included (as
 * protobuf-es `$unknown` entries), so {@linkcode encodeModel} writes the same bytes back for any
 * canonically encoded input. `bytes` fields such as `raw_data` are views into `bytes` (no copy):
 * do not modify `bytes` while the model is in use.
 *
 * @param bytes The serialized model.
 * @param options Decoding limits.
 * @returns The decoded model.
 * @throws {OnnxParseError} When the bytes are not a valid ModelProto; `offset` says where.
 * @example
 * ```ts
 * import { decodeModel } from "@modelpress/onnx";
 * const model = decodeModel(await Deno.readFile("model.onnx"));
 * console.log(model.graph?.node.length);
 * ```
 */
export function decodeModel(bytes: Uint8Array, options?: DecodeModelOptions): ModelProto {
  return decodeWith<ModelProto>(ModelProtoSchema, bytes, options);
}

/**
 * Decodes any ONNX message (TensorProto, GraphProto, ...) from its wire bytes.
 *
 * @param schema The generated schema, e.g. `TensorProtoSchema`.
 * @param bytes The serialized message.
 * @param options Decoding limits.
 * @returns The decoded message.
 * @throws {OnnxParseError} When the bytes are not a valid message of that type.
 * @example
 * ```ts
 * import { decodeMessage, TensorProtoSchema } from "@modelpress/onnx";
 * const tensor = decodeMessage(TensorProtoSchema, new Uint8Array([0x08, 0x03]));
 * console.log(tensor.dims); // [3n]
 * ```
 */
export function decodeMessage<Desc extends DescMessage>(
  schema: Desc,
  bytes: Uint8Array,
  options?: DecodeModelOptions,
): MessageShape<Desc> {
  return decodeWith<MessageShape<Desc>>(schema, bytes, options);
}

/**
 * Encodes a ModelProto into one buffer of exactly the encoded size. Fields are written in
 * field-number order with unknown fields last, as protobuf's C++ implementation does, so a model
 * decoded from canonical bytes encodes back to the same bytes.
 *
 * @param model The model.
 * @returns The serialized model.
 * @throws {RangeError} When the model exceeds protobuf's 2 GiB limit (move tensors to external
 * data with `writeModel`'s `externalDataThreshold`).
 * @example
 * ```ts
 * import { decodeModel, encodeModel } from "@modelpress/onnx";
 * const bytes = encodeModel(decodeModel(await Deno.readFile("model.onnx")));
 * ```
 */
export function encodeModel(model: ModelProto): Uint8Array {
  checkLimit(encodedModelSize(model));
  return encodeWith(ModelProtoSchema, model).bytes;
}

/**
 * Encodes a ModelProto in chunks to `sink` (for example a file's `writeSync`), so that a large
 * model is never held twice in memory: tensor bytes of 64 KiB or more are handed to the sink
 * as they are. Each chunk is only valid during the call.
 *
 * @param model The model.
 * @param sink Receives the encoded bytes in order.
 * @returns The number of bytes written.
 * @throws {RangeError} When the model exceeds protobuf's 2 GiB limit; nothing is written then.
 * @example
 * ```ts
 * import { decodeModel, encodeModelTo } from "@modelpress/onnx";
 * const model = decodeModel(await Deno.readFile("model.onnx"));
 * using file = await Deno.open("copy.onnx", { write: true, create: true, truncate: true });
 * encodeModelTo(model, (chunk) => {
 *   for (let n = 0; n < chunk.length;) n += file.writeSync(chunk.subarray(n));
 * });
 * ```
 */
export function encodeModelTo(model: ModelProto, sink: ChunkSink): number {
  checkLimit(encodedModelSize(model));
  return encodeWith(ModelProtoSchema, model, sink).size;
}

/**
 * Encodes any ONNX message into bytes.
 *
 * @param schema The generated schema, e.g. `GraphProtoSchema`.
 * @param message The message.
 * @returns The serialized message.
 * @example
 * ```ts
 * import { create } from "@bufbuild/protobuf";
 * import { encodeMessage, TensorProtoSchema } from "@modelpress/onnx";
 * const bytes = encodeMessage(TensorProtoSchema, create(TensorProtoSchema, { dims: [3n] }));
 * ```
 */
export function encodeMessage<Desc extends DescMessage>(
  schema: Desc,
  message: MessageShape<Desc>,
): Uint8Array {
  return encodeWith(schema, message).bytes;
}

/**
 * The number of bytes {@linkcode encodeModel} would produce, computed without encoding.
 *
 * @param model The model.
 * @returns The encoded size in bytes.
 * @example
 * ```ts
 * import { createModel, encodedModelSize } from "@modelpress/onnx";
 * console.log(encodedModelSize(createModel())); // 0
 * ```
 */
export function encodedModelSize(model: ModelProto): number {
  return encodedSize(ModelProtoSchema, model);
}

function checkLimit(size: number): void {
  if (size > MAX_PROTOBUF_BYTES) {
    const gib = (size / 2 ** 30).toFixed(2);
    throw new RangeError(
      `Cannot encode model: ${gib} GiB exceeds protobuf's 2 GiB limit; ` +
        "store large tensors as external data (writeModel's externalDataThreshold)",
    );
  }
}

/**
 * Creates an empty ModelProto (for building models from scratch).
 *
 * @returns A new model with no fields set.
 * @example
 * ```ts
 * import { createModel } from "@modelpress/onnx";
 * const model = createModel();
 * model.irVersion = 10n;
 * ```
 */
export function createModel(): ModelProto {
  return create(ModelProtoSchema);
}
