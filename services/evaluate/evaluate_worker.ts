/**
 * The worker side of {@linkcode evaluateInWorker} (see `evaluate_in_worker.ts`): runs one
 * `evaluateModel` call off the main thread and posts its progress and its outcome back.
 * @module
 */
import { evaluateModel, type EvaluateOptions } from "@modelpress/evaluate";
import { serveInWorker } from "@modelpress/http";

/** What the main thread posts: the model and the options that survive structured cloning. */
export interface WorkerRequest {
  /** The serialized model. */
  readonly model: Uint8Array;
  /** The options without `signal` and `onProgress`. */
  readonly options: Omit<EvaluateOptions, "signal" | "onProgress">;
}

serveInWorker(({ model, options }: WorkerRequest, onProgress) =>
  evaluateModel(model, { ...options, onProgress })
);
