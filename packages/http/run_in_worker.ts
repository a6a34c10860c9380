/**
 * Jobs off the main thread. Model work (onnxruntime-web's WebAssembly, quantizing) runs
 * synchronously between its awaits, so on the server's own thread it would keep the server from
 * answering progress polls, cancels and health checks until it is done. Each run gets a fresh
 * worker; cancelling terminates it at once. {@linkcode runInWorker} is the main thread's side,
 * {@linkcode serveInWorker} the worker's.
 * @module
 */

/** What a worker of {@linkcode serveInWorker} posts back. */
export type WorkerMessage<R, P> =
  | { readonly type: "progress"; readonly progress: P }
  | { readonly type: "result"; readonly result: R }
  | { readonly type: "error"; readonly name: string; readonly message: string };

/** Options of {@linkcode runInWorker}. */
export interface RunInWorkerOptions<P> {
  /** Terminates the worker and rejects with the signal's reason. */
  readonly signal?: AbortSignal | undefined;
  /** Gets the worker's progress; if it throws, the run is aborted and rejects with its error. */
  readonly onProgress?: ((progress: P) => void) | undefined;
  /** What failed, to start the message of a crashed worker, such as `Cannot evaluate model`. */
  readonly failure: string;
}

/**
 * Runs one request in a fresh module Web Worker made from `url`, whose module calls
 * {@linkcode serveInWorker}: progress is relayed to `options.onProgress`, `options.signal`
 * terminates the worker and rejects with the signal's reason, and a failure rejects with an error
 * of the same name and message as in the worker.
 *
 * @param url The worker's module.
 * @param request What to post to it (structured-cloneable).
 * @param options Signal, progress callback, and the words for a crashed worker.
 * @returns The worker's result.
 * @example
 * ```ts
 * import { runInWorker } from "@modelpress/http";
 * const double = (worker: URL, n: number): Promise<number> =>
 *   runInWorker(worker, n, { failure: "Cannot double" });
 * ```
 */
export function runInWorker<Q, R, P>(
  url: URL,
  request: Q,
  options: RunInWorkerOptions<P>,
): Promise<R> {
  const { signal, onProgress, failure } = options;
  if (signal?.aborted) return Promise.reject(signal.reason);
  return new Promise<R>((resolve, reject) => {
    const worker = new Worker(url, { type: "module" });
    const settle = (): void => {
      signal?.removeEventListener("abort", onAbort);
      worker.terminate();
    };
    const onAbort = (): void => {
      settle();
      reject(signal?.reason);
    };
    signal?.addEventListener("abort", onAbort, { once: true });
    worker.onmessage = (event: MessageEvent<WorkerMessage<R, P>>) => {
      const message = event.data;
      if (message.type === "progress") {
        try {
          onProgress?.(message.progress);
        } catch (e) {
          settle(); // as in the libraries: a throwing callback aborts the run
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
      reject(new Error(`${failure}: the worker failed: ${event.message}`));
    };
    worker.postMessage(request);
  });
}

/**
 * The worker's side of {@linkcode runInWorker}: runs `run` on each request posted to this worker
 * and posts its progress and its outcome (or its error's name and message) back.
 *
 * @param run The work.
 * @param transfer What of a result to move rather than copy to the main thread (default none).
 * @example
 * ```ts
 * import { serveInWorker } from "@modelpress/http";
 * serveInWorker((n: number, onProgress: (done: number) => void) => {
 *   onProgress(n);
 *   return Promise.resolve(n * 2);
 * });
 * ```
 */
export function serveInWorker<Q, R, P>(
  run: (request: Q, onProgress: (progress: P) => void) => Promise<R>,
  transfer: (result: R) => Transferable[] = () => [],
): void {
  const scope = globalThis as unknown as {
    onmessage: ((event: MessageEvent<Q>) => void) | null;
    postMessage(message: WorkerMessage<R, P>, transfer?: Transferable[]): void;
  };
  scope.onmessage = async (event: MessageEvent<Q>): Promise<void> => {
    try {
      const result = await run(
        event.data,
        (progress) => scope.postMessage({ type: "progress", progress }),
      );
      scope.postMessage({ type: "result", result }, transfer(result));
    } catch (e) {
      const error = e instanceof Error ? e : new Error(String(e));
      scope.postMessage({ type: "error", name: error.name, message: error.message });
    }
  };
}

const ERRORS: Readonly<Record<string, ErrorConstructor>> = {
  Error,
  TypeError,
  RangeError,
  SyntaxError,
};
