/**
 * `@modelpress/quantize`: quantization of ONNX models — linear (affine) weight quantization
 * emitted as QDQ, dynamic quantization with integer kernels, and static quantization (QDQ
 * weights and activations, calibrated on data with MinMax, Percentile, Entropy or MSE), log
 * (power-of-two) and k-means codebooks rebuilt by Cast and Gather — with a JSON report.
 *
 * @example
 * ```ts
 * import { decodeModel, encodeModel } from "@modelpress/onnx";
 * import { quantizeModel } from "@modelpress/quantize";
 * const model = decodeModel(await Deno.readFile("test/fixtures/mnist_cnn.onnx"));
 * const { report } = await quantizeModel(model, { method: "dynamic" });
 * const bytes = encodeModel(model); // int8 weights, integer kernels
 * console.log(report.size, report.nodes.map((n) => n.status));
 * ```
 * @module
 */
export * from "./quant_grid.ts";
export * from "./linear_params.ts";
export * from "./weight_range.ts";
export * from "./quantize_tensor.ts";
export * from "./codebook_tensor.ts";
export * from "./log_codebook.ts";
export * from "./kmeans_codebook.ts";
export * from "./recipe.ts";
export * from "./match_node.ts";
export * from "./weight_slots.ts";
export * from "./report.ts";
export * from "./calibrate.ts";
export * from "./calibration_range.ts";
export * from "./quantize_model.ts";
export * from "./mixed_precision.ts";
