/**
 * Prunings off the main thread (see `runInWorker` of `@modelpress/http`): each pruning gets a
 * fresh worker; cancelling terminates it at once.
 * @module
 */
import { runInWorker } from "@modelpress/http";
import type { PruneRecipe } from "@modelpress/prune";
import type { PruneBytesOptions, PrunedModel } from "./prune_bytes.ts";
import type { WorkerRequest } from "./prune_worker.ts";

/**
 * Runs {@linkcode pruneBytes} in a Web Worker, with the same signature: progress is relayed to
 * `options.onProgress`, `options.signal` terminates the worker and rejects with the signal's
 * reason, and a failure rejects with an error of the same name and message as in the worker.
 *
 * @param model The serialized ONNX model.
 * @param recipe The recipe.
 * @param options As for `pruneBytes`.
 * @returns The pruned model's bytes and the report.
 * @example
 * ```ts
 * import { pruneInWorker } from "./prune_in_worker.ts";
 * const { model, report } = await pruneInWorker(
 *   await Deno.readFile("test/fixtures/mnist_mlp.onnx"),
 *   { method: "magnitude", sparsity: 0.5, global: true },
 * );
 * ```
 */
export function pruneInWorker(
  model: Uint8Array,
  recipe: PruneRecipe,
  options: PruneBytesOptions = {},
): Promise<PrunedModel> {
  const { signal, onProgress, dataset } = options;
  const request: WorkerRequest = { model, recipe, dataset };
  return runInWorker(new URL("./prune_worker.ts", import.meta.url), request, {
    signal,
    onProgress,
    failure: "Cannot prune model",
  });
}
