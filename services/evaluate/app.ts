/**
 * The evaluate service as a Hono app: `createApp(deps)`, with everything it depends on injected
 * so that tests run it in-process with a stand-in evaluator.
 * @module
 */
import type { OpenAPIHono } from "@hono/zod-openapi";
import { createServiceApp, type JobServiceDeps } from "@modelpress/http";
import type { Recorder } from "./benchmark_recorder.ts";
import {
  addEvaluationRoutes,
  type DatasetLoader,
  type EvaluationResult,
  type Evaluator,
  type UploadLimits,
} from "./routes/evaluations.ts";

/** What the evaluate service is made of (and the queue, its options and the limits). */
export interface EvaluateServiceDeps extends JobServiceDeps<EvaluationResult, UploadLimits> {
  /** Runs one evaluation: `evaluateModel` of `@modelpress/evaluate`. */
  readonly evaluate: Evaluator;
  /** Loads a dataset: `loadDataset` of `@modelpress/evaluate`. */
  readonly loadDataset: DatasetLoader;
  /**
   * Records evaluations whose request has a `record` field, as runs in the benchmark service:
   * `benchmarkRecorder(BENCHMARK_URL)`. Without it, a `record` field is a 400.
   */
  readonly record?: Recorder;
  /**
   * Jobs estimated at no more model inferences than this (samples times models, plus latency
   * runs times their batch) answer 200 directly; larger ones answer 202 (default 2000).
   */
  readonly syncMaxInferences?: number;
  /** onnxruntime-web threads of this process; a request asking for another count is a 400. */
  readonly threads?: number;
}

/**
 * Default upload limits: 256 MiB per model, 256 MiB per dataset, 64 KiB of options, 8 MiB of
 * record (with its compression reports), 600 MiB per request.
 */
export const DEFAULT_UPLOAD_LIMITS: UploadLimits = Object.freeze({
  maxBodyBytes: 600 * 1024 * 1024,
  maxModelBytes: 256 * 1024 * 1024,
  maxDatasetBytes: 256 * 1024 * 1024,
  maxOptionsBytes: 64 * 1024,
  maxRecordBytes: 8 * 1024 * 1024,
});

/** Default of {@linkcode EvaluateServiceDeps.syncMaxInferences}. */
export const DEFAULT_SYNC_MAX_INFERENCES = 2000;

/**
 * Makes the evaluate service's app: `POST /v1/evaluations`, `GET /v1/evaluations/{id}`,
 * `POST /v1/evaluations/{id}/cancel`, `DELETE /v1/evaluations/{id}`, `GET /health` and the
 * OpenAPI 3.1 document at `GET /openapi.json`. Every error is answered as
 * `{ error: { code, message, details? } }`.
 *
 * @param deps The evaluator, the dataset loader, and optional recorder, queue, limits and
 *   thresholds.
 * @returns The app; serve it with `Deno.serve(app.fetch)` or call `app.request()` in tests.
 * @example
 * ```ts
 * import { evaluateModel, loadDataset } from "@modelpress/evaluate";
 * import { createApp } from "./app.ts";
 * const app = createApp({ evaluate: evaluateModel, loadDataset });
 * const res = await app.request("/health");
 * console.log(res.status); // 200
 * ```
 */
export function createApp(deps: EvaluateServiceDeps): OpenAPIHono {
  return createServiceApp(deps, {
    service: "evaluate",
    jobName: "evaluation",
    info: {
      title: "ModelPress evaluate service",
      description: "Accuracy, output fidelity, latency and size of ONNX models.",
    },
    addRoutes: (app, queue) =>
      addEvaluationRoutes(app, {
        evaluate: deps.evaluate,
        loadDataset: deps.loadDataset,
        record: deps.record,
        queue,
        limits: Object.freeze({ ...DEFAULT_UPLOAD_LIMITS, ...deps.limits }),
        syncMaxInferences: deps.syncMaxInferences ?? DEFAULT_SYNC_MAX_INFERENCES,
        threads: deps.threads,
      }),
  });
}
