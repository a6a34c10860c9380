/**
 * Test helpers of the evaluate service: a stand-in evaluator the tests drive step by step, a
 * stand-in dataset loader, multipart forms, and an app with stand-ins to post them to.
 * @module
 */
import type { EvaluateOptions, EvaluationProgress, EvaluationReport } from "@modelpress/evaluate";
import {
  fileField,
  jobGate,
  jsonField,
  multipartForm,
  postForm,
  type TestApp,
} from "../../test/support/service_checks.ts";
import { fakeLoadDataset } from "../../test/support/fake_load_dataset.ts";
import { createApp, type EvaluateServiceDeps } from "./app.ts";

/** The collection's path. */
export const PATH = "/v1/evaluations";

/** The MNIST MLP fixture's path. */
export const MLP_PATH: string = new URL("../../test/fixtures/mnist_mlp.onnx", import.meta.url)
  .pathname;

/** A report-shaped value for stand-in evaluations (only `size.fileBytes` is meaningful). */
export function fakeReport(modelBytes: number): EvaluationReport {
  return {
    model: { bytes: modelBytes, sha256: "0".repeat(64), inputs: [], outputs: [] },
    size: {
      fileBytes: modelBytes,
      gzipBytes: modelBytes,
      parameters: 0,
      parameterBytes: 0,
      bytesByType: {},
      zeros: 0,
      sparsity: 0,
      tensors: [],
    },
    timings: { totalMs: 0, loadMs: 0, sizeMs: 0 },
    backend: { runtime: "onnxruntime-web", version: "test", executionProviders: [], threads: 1 },
  } as EvaluationReport;
}

/** A stand-in evaluator whose runs the test releases one by one. */
export interface ControlledEvaluator {
  /** Pass as `evaluate`. */
  readonly evaluate: (model: Uint8Array, options: EvaluateOptions) => Promise<EvaluationReport>;
  /** Options of every call so far. */
  readonly calls: EvaluateOptions[];
  /** Resolves when a call has started (and reported its first progress). */
  started(): Promise<void>;
  /** Lets every running call finish with a report. */
  release(): void;
}

/**
 * Makes an evaluator that reports progress (`accuracy`, 5 of 10 samples) and then waits until
 * released or aborted; aborted, it rejects with the signal's reason as the library does.
 *
 * @returns The evaluator and its controls.
 */
export function controlledEvaluator(): ControlledEvaluator {
  const calls: EvaluateOptions[] = [];
  const gate = jobGate();
  return {
    calls,
    evaluate: async (model, options) => {
      calls.push(options);
      const progress: EvaluationProgress = {
        phase: "accuracy",
        done: 5,
        total: 10,
        samplesPerSecond: 250,
      };
      options.onProgress?.(progress);
      await gate.hold(options.signal);
      return fakeReport(model.length);
    },
    started: gate.started,
    release: gate.release,
  };
}

/** Parts of {@linkcode evaluationForm}. */
export interface EvaluationFormParts {
  /** The model's bytes. */
  readonly model?: Uint8Array;
  /** The reference model's bytes. */
  readonly reference?: Uint8Array;
  /** A built-in dataset name, or the bytes of a file. */
  readonly dataset?: string | Uint8Array;
  /** The options (stringified unless already a string). */
  readonly options?: unknown;
  /** What to record in the benchmark service (stringified unless already a string). */
  readonly record?: unknown;
}

/**
 * Builds the multipart form of POST /v1/evaluations.
 *
 * @param parts What to put in it.
 * @returns The form.
 */
export function evaluationForm(parts: EvaluationFormParts): FormData {
  return multipartForm({
    model: fileField(parts.model, "model.onnx"),
    reference: fileField(parts.reference, "reference.onnx"),
    dataset: typeof parts.dataset === "string"
      ? parts.dataset
      : fileField(parts.dataset, "data.npz"),
    options: jsonField(parts.options),
    record: jsonField(parts.record),
  });
}

/**
 * Makes the service with stand-ins: an evaluator that answers {@linkcode fakeReport} at once and
 * `fakeLoadDataset`, unless `deps` says otherwise.
 *
 * @param deps What to use instead.
 * @returns The app.
 */
export function appWith(deps: Partial<EvaluateServiceDeps> = {}): ReturnType<typeof createApp> {
  return createApp({
    evaluate: (model) => Promise.resolve(fakeReport(model.length)),
    loadDataset: fakeLoadDataset(),
    ...deps,
  });
}

/**
 * Posts {@linkcode evaluationForm} to POST /v1/evaluations in-process.
 *
 * @param app The app.
 * @param parts The form's parts.
 * @param headers More headers.
 * @returns The response.
 */
export function post(
  app: TestApp,
  parts: EvaluationFormParts,
  headers: Record<string, string> = {},
): Promise<Response> {
  return postForm(app, PATH, evaluationForm(parts), headers);
}

export { fakeLoadDataset };
export { pollUntil } from "../../test/support/poll_until.ts";
