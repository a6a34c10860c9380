/**
 * One pruning from bytes to bytes: what a worker of the prune service runs.
 * @module
 */
import type { Dataset } from "@modelpress/evaluate";
import type { ProgressUpdate } from "@modelpress/http";
import { decodeModel, encodeModel } from "@modelpress/onnx";
import { pruneModel, type PruneRecipe, type PruneReport } from "@modelpress/prune";

/** Options of {@linkcode pruneBytes}. */
export interface PruneBytesOptions {
  /** Calibration data: needed by `wanda` and `activation` importance. */
  readonly dataset?: Dataset;
  /** Cancels between layers and steps (a worker is cancelled by terminating it). */
  readonly signal?: AbortSignal;
  /** Progress: phase `prune`, in percent (`done` of `total` 100). */
  readonly onProgress?: (update: ProgressUpdate) => void;
}

/** A pruned model and its report. */
export interface PrunedModel {
  /** The serialized pruned model. */
  readonly model: Uint8Array;
  /** What was done. */
  readonly report: PruneReport;
}

/**
 * Decodes a model, prunes it with `pruneModel` of `@modelpress/prune`, and encodes it.
 *
 * @param model The serialized ONNX model.
 * @param recipe The recipe (validated again by `pruneModel`).
 * @param options Calibration data, signal, progress.
 * @returns The pruned model's bytes and the report.
 * @throws {OnnxParseError} When the bytes are not an ONNX model.
 * @example
 * ```ts
 * import { pruneBytes } from "./prune_bytes.ts";
 * const bytes = await Deno.readFile("test/fixtures/mnist_mlp.onnx");
 * const { model, report } = await pruneBytes(bytes, { method: "magnitude", sparsity: 0.5 });
 * console.log(model.length, report.totals.nonzero);
 * ```
 */
export async function pruneBytes(
  model: Uint8Array,
  recipe: PruneRecipe,
  options: PruneBytesOptions = {},
): Promise<PrunedModel> {
  const { onProgress } = options;
  const started = performance.now();
  let last = -1;
  const proto = decodeModel(model);
  const { report } = await pruneModel(proto, {
    recipe,
    ...(options.dataset && { dataset: options.dataset }),
    ...(options.signal && { signal: options.signal }),
    onProgress: (fraction) => {
      if (onProgress === undefined) return;
      // The library reports a fraction; clients get whole percent, each once.
      const done = Math.max(0, Math.min(100, Math.round(fraction * 100)));
      if (done === last) return;
      last = done;
      const seconds = (performance.now() - started) / 1000;
      onProgress({
        phase: "prune",
        done,
        total: 100,
        samplesPerSecond: seconds > 0 ? done / seconds : 0,
      });
    },
  });
  return { model: encodeModel(proto), report };
}
