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
export * from "./build.ts";
export * from "./tensor.ts";
export * from "./data_type.ts";
export * from "./float16.ts";
export * from "./pack_bits.ts";
export * from "./model_tensors.ts";
export * from "./external_data.ts";
export * from "./read_model.ts";
export * from "./write_model.ts";
export * from "./read_file_exact.ts";
export * from "./subgraphs.ts";
export * from "./graph_index.ts";
export * from "./graph_edit.ts";
export * from "./topological_sort.ts";
export * from "./unique_names.ts";
export * from "./opset.ts";
export * from "./raise_opset.ts";
export * from "./shapes.ts";
export * from "./infer_shapes.ts";
export * from "./sparse_storage.ts";
