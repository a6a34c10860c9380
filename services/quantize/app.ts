/**
 * The quantize service as a Hono app: `createApp(deps)`, with everything it depends on injected
 * so that tests run it in-process with a stand-in quantizer.
 * @module
 */
import type { OpenAPIHono } from "@hono/zod-openapi";
import {
  createServiceApp,
  DEFAULT_RECIPE_UPLOAD_LIMITS,
  modelJobRoutesContext,
  type ModelJobServiceDeps,
} from "@modelpress/http";
import {
  addQuantizationRoutes,
  type DatasetLoader,
  type QuantizationResult,
  type Quantizer,
  type UploadLimits,
} from "./routes/quantizations.ts";

/**
 * What the quantize service is made of (and the queue, its options and the limits; a finished
 * job holds its quantized model until it expires, or until DELETE).
 */
export interface QuantizeServiceDeps
  extends ModelJobServiceDeps<QuantizationResult, DatasetLoader> {
  /** Runs one quantization: `quantizeInWorker` (or `quantizeBytes`). */
  readonly quantize: Quantizer;
}

/** Default upload limits: 1 GiB per model, 256 MiB per dataset, 64 KiB of recipe. */
export const DEFAULT_UPLOAD_LIMITS: UploadLimits = DEFAULT_RECIPE_UPLOAD_LIMITS;

/** Default of {@linkcode QuantizeServiceDeps.syncMaxModelBytes}: 8 MiB. */
export { DEFAULT_SYNC_MAX_MODEL_BYTES } from "@modelpress/http";

/**
 * Makes the quantize service's app: `POST /v1/quantizations`, `GET /v1/quantizations/{id}`,
 * `GET /v1/quantizations/{id}/model`, `POST /v1/quantizations/{id}/cancel`,
 * `DELETE /v1/quantizations/{id}`, `GET /health` and the OpenAPI 3.1 document at
 * `GET /openapi.json`. Every error is answered as `{ error: { code, message, details? } }`.
 *
 * @param deps The quantizer, the dataset loader, and optional queue, limits and threshold.
 * @returns The app; serve it with `Deno.serve(app.fetch)` or call `app.request()` in tests.
 * @example
 * ```ts
 * import { loadDataset } from "@modelpress/evaluate";
 * import { createApp, quantizeInWorker } from "@modelpress/service-quantize";
 * const app = createApp({ quantize: quantizeInWorker, loadDataset });
 * const res = await app.request("/health");
 * console.log(res.status); // 200
 * ```
 */
export function createApp(deps: QuantizeServiceDeps): OpenAPIHono {
  return createServiceApp(deps, {
    service: "quantize",
    jobName: "quantization",
    info: {
      title: "ModelPress quantize service",
      description: "Quantization of ONNX models (linear, dynamic, static, log, k-means) by recipe.",
    },
    addRoutes: (app, queue) =>
      addQuantizationRoutes(app, {
        quantize: deps.quantize,
        ...modelJobRoutesContext(deps, queue),
      }),
  });
}
