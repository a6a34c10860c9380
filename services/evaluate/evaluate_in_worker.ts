/**
 * Evaluations off the main thread. onnxruntime-web's WebAssembly runs synchronously between its
 * awaits, so an evaluation on the server's own thread would keep it from answering anything
 * else (progress polls, cancels, health checks) until it is done. Each evaluation gets a fresh
 * worker; cancelling terminates it at once, even in the middle of a batch.
 * @module
 */
import type { EvaluateOptions, EvaluationReport } from "@modelpress/evaluate";
import type { WorkerMessage, WorkerRequest } from "./evaluate_worker.ts";

/**
 * Runs `evaluateModel` of `@modelpress/evaluate` in a Web Worker, with the same signature:
 * progress is relayed to `options.onProgress`, `options.signal` terminates the worker and
 * rejects with the signal's reason, and a failure rejects with an error of the same name and
 * message as in the worker.
 *
 * @param model The serialized ONNX model.
 * @param options As for `evaluateModel`.
 * @returns The report.
 * @example
 * ```ts
 * import { loadDataset } from "@modelpress/evaluate";
 * import { evaluateInWorker } from "./evaluate_in_worker.ts";
 * const report = await evaluateInWorker(await Deno.readFile("test/fixtures/mnist_mlp.onnx"), {
 *   dataset: await loadDataset("mnist"),
 * });
 * ```
 */
export function evaluateInWorker(
  model: Uint8Array,
  options: EvaluateOptions = {},
): Promise<EvaluationReport> {
  const { signal, onProgress, ...rest } = options;
  if (signal?.aborted) return Promise.reject(signal.reason);
  return new Promise<EvaluationReport>((resolve, reject) => {
    const worker = new Worker(new URL("./evaluate_worker.ts", import.meta.url), {
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
          settle(); // as in evaluateModel: a throwing callback aborts the evaluation
          reject(e);
        }
        return;
      }
      settle();
      if (message.type === "result") {
        resolve(message.report);
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
      reject(new Error(`Cannot evaluate model: the worker failed: ${event.message}`));
    };
    const request: WorkerRequest = { model, options: rest };
    worker.postMessage(request);
  });
}

const ERRORS: Readonly<Record<string, ErrorConstructor>> = {
  Error,
  TypeError,
  RangeError,
  SyntaxError,
};
