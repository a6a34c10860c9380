/**
 * The TypeScript reference backend: every kernel as plain loops, the specification of the others.
 * @module
 */
import { float16ToFloat32, float32ToFloat16 } from "@modelpress/onnx";
import type { ElementArrays, ElementType, Kernels } from "../kernels.ts";
import { type ElementArray, HostArrays } from "../_alloc.ts";
import { codebookDecodeJs, codebookEncodeJs } from "./codebook.ts";
import { histogramJs } from "./histogram.ts";
import { log2DequantizeJs, log2QuantizeJs } from "./log2_quantize.ts";
import { matmulInt8Js, matmulJs } from "./matmul.ts";
import { nmMaskJs } from "./nm_mask.ts";
import { normJs } from "./norm.ts";
import { dequantizeJs, quantizeJs } from "./quantize.ts";
import { reduceJs } from "./reduce.ts";
import { maskSmallestJs, selectMagnitudeJs } from "./select_magnitude.ts";

/**
 * Makes the reference backend. Each method runs synchronously inside its promise.
 *
 * @returns Kernels whose `backend` is `"js"`.
 * @example
 * ```ts
 * import { createJsKernels } from "@modelpress/kernels";
 * const k = createJsKernels();
 * await k.reduce("sum", new Float32Array([1, 2])); // Float32Array [3]
 * ```
 */
export function createJsKernels(): Kernels {
  const arrays = new HostArrays();
  const kernels: Kernels = {
    backend: "js",
    reduce: (op, x, options) => defer(() => reduceJs(op, x, options)),
    histogram: (x, options) => defer(() => histogramJs(x, options)),
    quantize: (x, options) => defer(() => quantizeJs(x, options)),
    dequantize: (q, options) => defer(() => dequantizeJs(q, options)),
    log2Quantize: (x, options) => defer(() => log2QuantizeJs(x, options)),
    log2Dequantize: (c, options) => defer(() => log2DequantizeJs(c, options)),
    codebookEncode: (x, codebook) => defer(() => codebookEncodeJs(x, codebook)),
    codebookDecode: (i, codebook) => defer(() => codebookDecodeJs(i, codebook)),
    selectMagnitude: (tensors, k) => defer(() => selectMagnitudeJs(tensors, k)),
    maskSmallest: (tensors, s) => defer(() => maskSmallestJs(tensors, s)),
    nmMask: (x, options) => defer(() => nmMaskJs(x, options)),
    norm: (x, options) => defer(() => normJs(x, options)),
    matmul: (a, b, options) => defer(() => matmulJs(a, b, options)),
    matmulInt8: (a, b, options) => defer(() => matmulInt8Js(a, b, options)),
    toFloat16: (x) => defer(() => float32ToFloat16(x)),
    fromFloat16: (bits) => defer(() => float16ToFloat32(bits)),
    alloc: <T extends ElementType>(type: T, count: number): ElementArrays[T] =>
      arrays.alloc(type, count) as ElementArrays[T],
    free: (array: ElementArray) => arrays.free(array),
    dispose: () => arrays.clear(),
  };
  return Object.freeze(kernels);
}

/**
 * Runs synchronous work as a promise, so that its errors reject instead of throwing.
 *
 * @param work The work.
 * @returns Its result.
 * @example
 * ```ts
 * import { defer } from "./backend.ts";
 * await defer(() => 1); // 1
 * ```
 */
export function defer<T>(work: () => T): Promise<T> {
  return new Promise((resolve) => resolve(work()));
}
