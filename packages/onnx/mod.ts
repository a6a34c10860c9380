/**
 * `@modelpress/onnx`: read, write and edit ONNX models losslessly.
 *
 * @example
 * ```ts
 * import { decodeModel, encodeModel } from "@modelpress/onnx";
 * const model = decodeModel(await Deno.readFile("model.onnx"));
 * await Deno.writeFile("copy.onnx", encodeModel(model));
 * ```
 * @module
 */
export * from "./_gen/onnx_pb.ts";
export * from "./errors.ts";
export * from "./codec.ts";
