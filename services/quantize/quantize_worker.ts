/**
 * The worker side of {@linkcode quantizeInWorker} (see `quantize_in_worker.ts`): runs one
 * {@linkcode quantizeBytes} call off the main thread and posts its progress and its outcome
 * back.
 * @module
 */
import type { Dataset } from "@modelpress/evaluate";
import type { ProgressUpdate } from "@modelpress/http";
import type { QuantizeRecipe } from "@modelpress/quantize";
import { quantizeBytes, type QuantizedModel } from "./quantize_bytes.ts";

/** What the main thread posts. */
export interface WorkerRequest {
  /** The serialized model. */
  readonly model: Uint8Array;
  /** The recipe. */
  readonly recipe: QuantizeRecipe;
  /** Calibration data, if any. */
  readonly dataset: Dataset | undefined;
}

/** What the worker posts back. */
export type WorkerMessage =
  | { readonly type: "progress"; readonly progress: ProgressUpdate }
  | { readonly type: "result"; readonly result: QuantizedModel }
  | { readonly type: "error"; readonly name: string; readonly message: string };

const scope = globalThis as unknown as {
  onmessage: ((event: MessageEvent<WorkerRequest>) => void) | null;
  postMessage(message: WorkerMessage, transfer?: Transferable[]): void;
};

scope.onmessage = async (event: MessageEvent<WorkerRequest>): Promise<void> => {
  const { model, recipe, dataset } = event.data;
  try {
    const result = await quantizeBytes(model, recipe, {
      ...(dataset && { dataset }),
      onProgress: (progress) => scope.postMessage({ type: "progress", progress }),
    });
    // The model's bytes move to the main thread instead of being copied.
    scope.postMessage({ type: "result", result }, [result.model.buffer as ArrayBuffer]);
  } catch (e) {
    const error = e instanceof Error ? e : new Error(String(e));
    scope.postMessage({ type: "error", name: error.name, message: error.message });
  }
};
