/**
 * Decoding and encoding of ONNX ModelProto bytes.
 * @module
 */
import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import { type ModelProto, ModelProtoSchema } from "./_gen/onnx_pb.ts";
import { OnnxParseError } from "./errors.ts";

/**
 * Decodes ONNX model bytes into a ModelProto. Unknown fields are kept, byte arrays such as
 * `raw_data` are views into `bytes` (no copy), so `bytes` must not be modified afterwards.
 *
 * @param bytes The serialized model.
 * @returns The decoded model.
 * @throws {OnnxParseError} When the bytes are not a valid ModelProto.
 * @example
 * ```ts
 * import { decodeModel } from "@modelpress/onnx";
 * const model = decodeModel(await Deno.readFile("model.onnx"));
 * console.log(model.graph?.node.length);
 * ```
 */
export function decodeModel(bytes: Uint8Array): ModelProto {
  try {
    return fromBinary(ModelProtoSchema, bytes);
  } catch (e) {
    throw new OnnxParseError(e instanceof Error ? e.message : String(e), 0, { cause: e });
  }
}

/**
 * Encodes a ModelProto into bytes, unknown fields included.
 *
 * @param model The model.
 * @returns The serialized model.
 * @example
 * ```ts
 * import { decodeModel, encodeModel } from "@modelpress/onnx";
 * const bytes = encodeModel(decodeModel(await Deno.readFile("model.onnx")));
 * ```
 */
export function encodeModel(model: ModelProto): Uint8Array {
  return toBinary(ModelProtoSchema, model);
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
