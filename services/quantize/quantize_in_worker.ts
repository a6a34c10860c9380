/**
 * Quantizations off the main thread. Quantizing (and calibrating in onnxruntime-web) runs
 * synchronously between awaits, so on the server's own thread it would keep the server from
 * answering progress polls, cancels and health checks until it is done. Each quantization gets
 * a fresh worker; cancelling terminates it at once.
 * @module
 */
import type { QuantizeRecipe } from "@modelpress/quantize";
import type { QuantizeBytesOptions, QuantizedModel } from "./quantize_bytes.ts";
import type { WorkerMessage, WorkerRequest } from "./quantize_worker.ts";

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
  if (signal?.aborted) return Promise.reject(signal.reason);
  return new Promise<QuantizedModel>((resolve, reject) => {
    const worker = new Worker(new URL("./quantize_worker.ts", import.meta.url), {
      type: "module",
    });
    const settle = (): void => {
      signal?.removeEventListener("abort", onAbort);
      worker.terminate();
    };
    const onAbort = (): void => {
      settle();
      reject(signal?.reason);
    };
    signal?.addEventListener("abort", onAbort, { once: true });
    worker.onmessage = (event: MessageEvent<WorkerMessage>) => {
      const message = event.data;
      if (message.type === "progress") {
        try {
          onProgress?.(message.progress);
        } catch (e) {
          settle(); // a throwing callback aborts the quantization
          reject(e);
        }
        return;
      }
      settle();
      if (message.type === "result") {
        resolve(message.result);
      } else {
        const ErrorClass = ERRORS[message.name] ?? Error;
        const error = new ErrorClass(message.message);
        if (!(message.name in ERRORS)) error.name = message.name;
        reject(error);
      }
    };
    worker.onerror = (event: ErrorEvent) => {
      event.preventDefault();
      settle();
      reject(new Error(`Cannot quantize model: the worker failed: ${event.message}`));
    };
    const request: WorkerRequest = { model, recipe, dataset };
    worker.postMessage(request);
  });
}

const ERRORS: Readonly<Record<string, ErrorConstructor>> = {
  Error,
  TypeError,
  RangeError,
  SyntaxError,
};
