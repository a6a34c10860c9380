/**
 * The worker side of {@linkcode evaluateInWorker} (see `evaluate_in_worker.ts`): runs one
 * `evaluateModel` call off the main thread and posts its progress and its outcome back.
 * @module
 */
import { evaluateModel, type EvaluateOptions } from "@modelpress/evaluate";

/** What the main thread posts: the model and the options that survive structured cloning. */
export interface WorkerRequest {
  /** The serialized model. */
  readonly model: Uint8Array;
  /** The options without `signal` and `onProgress`. */
  readonly options: Omit<EvaluateOptions, "signal" | "onProgress">;
}

/** What the worker posts back. */
export type WorkerMessage =
  | {
    readonly type: "progress";
    readonly progress: Parameters<NonNullable<EvaluateOptions["onProgress"]>>[0];
  }
  | { readonly type: "result"; readonly report: Awaited<ReturnType<typeof evaluateModel>> }
  | { readonly type: "error"; readonly name: string; readonly message: string };

const scope = globalThis as unknown as {
  onmessage: ((event: MessageEvent<WorkerRequest>) => void) | null;
  postMessage(message: WorkerMessage): void;
};

scope.onmessage = async (event: MessageEvent<WorkerRequest>): Promise<void> => {
  const { model, options } = event.data;
  try {
    const report = await evaluateModel(model, {
      ...options,
      onProgress: (progress) => scope.postMessage({ type: "progress", progress }),
    });
    scope.postMessage({ type: "result", report });
  } catch (e) {
    const error = e instanceof Error ? e : new Error(String(e));
    scope.postMessage({ type: "error", name: error.name, message: error.message });
  }
};
