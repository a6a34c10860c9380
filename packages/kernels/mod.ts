/**
 * `@modelpress/kernels`: the numeric kernels of ModelPress behind one async API, on WebGPU,
 * WebAssembly SIMD or a TypeScript reference, chosen by {@linkcode createKernels}.
 *
 * @example
 * ```ts
 * import { affineParams, createKernels } from "@modelpress/kernels";
 * const kernels = await createKernels();
 * const w = new Float32Array([-1, 0.5, 3]);
 * const [min] = await kernels.reduce("min", w);
 * const [max] = await kernels.reduce("max", w);
 * const { scale, zeroPoint } = affineParams(new Float32Array([min!]), new Float32Array([max!]), {
 *   type: "uint8",
 * });
 * const q = await kernels.quantize(w, { type: "uint8", scale, zeroPoint });
 * ```
 * @module
 */
export * from "./kernels.ts";
export * from "./create_kernels.ts";
export * from "./quant_range.ts";
export * from "./quant_params.ts";
export * from "./percentile.ts";
export { createJsKernels } from "./js/backend.ts";
export { reduceF64Js, reduceJs, type ReduceOpJs } from "./js/reduce.ts";
export { histogramJs } from "./js/histogram.ts";
export {
  type AffineValueParams,
  dequantizeJs,
  quantizeJs,
  quantizeValue,
  roundHalfEven,
} from "./js/quantize.ts";
export { log2DequantizeJs, log2QuantizeJs } from "./js/log2_quantize.ts";
export { codebookDecodeJs, codebookEncodeJs } from "./js/codebook.ts";
export { maskSmallestJs, selectMagnitudeJs } from "./js/select_magnitude.ts";
export { nmMaskJs } from "./js/nm_mask.ts";
export { normJs } from "./js/norm.ts";
export { matmulInt8Js, matmulJs } from "./js/matmul.ts";
export { createWasmKernels } from "./wasm/backend.ts";
export { createWasmCopyBaseline } from "./wasm/copy_baseline.ts";
export { createWebGpuKernels, type WebGpuKernelsOptions } from "./webgpu/backend.ts";
