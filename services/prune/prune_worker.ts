/**
 * The worker side of {@linkcode pruneInWorker} (see `prune_in_worker.ts`): runs one
 * {@linkcode pruneBytes} call off the main thread and posts its progress and its outcome back.
 * @module
 */
import type { Dataset } from "@modelpress/evaluate";
import { serveInWorker } from "@modelpress/http";
import type { PruneRecipe } from "@modelpress/prune";
import { pruneBytes } from "./prune_bytes.ts";

/** What the main thread posts. */
export interface WorkerRequest {
  /** The serialized model. */
  readonly model: Uint8Array;
  /** The recipe. */
  readonly recipe: PruneRecipe;
  /** Calibration data, if any. */
  readonly dataset: Dataset | undefined;
}

serveInWorker(
  ({ model, recipe, dataset }: WorkerRequest, onProgress) =>
    pruneBytes(model, recipe, { ...(dataset && { dataset }), onProgress }),
  // The model's bytes move to the main thread instead of being copied.
  (result) => [result.model.buffer as ArrayBuffer],
);
