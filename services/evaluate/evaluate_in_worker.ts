/**
 * Evaluations off the main thread (see `runInWorker` of `@modelpress/http`): each evaluation gets
 * a fresh worker; cancelling terminates it at once, even in the middle of a batch.
 * @module
 */
import type { EvaluateOptions, EvaluationReport } from "@modelpress/evaluate";
import { runInWorker } from "@modelpress/http";
import type { WorkerRequest } from "./evaluate_worker.ts";

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
  const request: WorkerRequest = { model, options: rest };
  return runInWorker(new URL("./evaluate_worker.ts", import.meta.url), request, {
    signal,
    onProgress,
    failure: "Cannot evaluate model",
  });
}
