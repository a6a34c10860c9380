/**
 * Quantizations off the main thread (see `runInWorker` of `@modelpress/http`): each
 * quantization gets a fresh worker; cancelling terminates it at once.
 * @module
 */
import { runInWorker } from "@modelpress/http";
import type { QuantizeRecipe } from "@modelpress/quantize";
import type { QuantizeBytesOptions, QuantizedModel } from "./quantize_bytes.ts";
import type { WorkerRequest } from "./quantize_worker.ts";

/**
 * Runs {@linkcode quantizeBytes} in a Web Worker, with the same signature: progress is relayed
 * to `options.onProgress`, `options.signal` terminates the worker and rejects with the signal's
 * reason, and a failure rejects with an error of the same name and message as in the worker.
 *
 * @param model The serialized ONNX model.
 * @param recipe The recipe.
 * @param options As for `quantizeBytes`.
 * @returns The quantized model's bytes and the report.
 * @example
 * ```ts
 * import { quantizeInWorker } from "./quantize_in_worker.ts";
 * const { model, report } = await quantizeInWorker(
 *   await Deno.readFile("test/fixtures/mnist_mlp.onnx"),
 *   { method: "dynamic" },
 * );
 * ```
 */
export function quantizeInWorker(
  model: Uint8Array,
  recipe: QuantizeRecipe,
  options: QuantizeBytesOptions = {},
): Promise<QuantizedModel> {
  const { signal, onProgress, dataset } = options;
  const request: WorkerRequest = { model, recipe, dataset };
  return runInWorker(new URL("./quantize_worker.ts", import.meta.url), request, {
    signal,
    onProgress,
    failure: "Cannot quantize model",
  });
}
