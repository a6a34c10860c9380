/**
 * The prune service as a Hono app: `createApp(deps)`, with everything it depends on injected so
 * that tests run it in-process with a stand-in pruner.
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
  addPruningRoutes,
  type DatasetLoader,
  type Pruner,
  type PruningResult,
  type UploadLimits,
} from "./routes/prunings.ts";

/**
 * What the prune service is made of (and the queue, its options and the limits; a finished job
 * holds its pruned model until it expires, or until DELETE).
 */
export interface PruneServiceDeps extends ModelJobServiceDeps<PruningResult, DatasetLoader> {
  /** Runs one pruning: `pruneInWorker` (or `pruneBytes`). */
  readonly prune: Pruner;
}

/** Default upload limits: 1 GiB per model, 256 MiB per dataset, 64 KiB of recipe. */
export const DEFAULT_UPLOAD_LIMITS: UploadLimits = DEFAULT_RECIPE_UPLOAD_LIMITS;

/** Default of {@linkcode PruneServiceDeps.syncMaxModelBytes}: 8 MiB. */
export { DEFAULT_SYNC_MAX_MODEL_BYTES } from "@modelpress/http";

/**
 * Makes the prune service's app: `POST /v1/prunings`, `GET /v1/prunings/{id}`,
 * `GET /v1/prunings/{id}/model`, `GET /v1/prunings/{id}/report`,
 * `POST /v1/prunings/{id}/cancel`, `DELETE /v1/prunings/{id}`, `GET /health` and the OpenAPI
 * 3.1 document at `GET /openapi.json`. Every error is answered as
 * `{ error: { code, message, details? } }`.
 *
 * @param deps The pruner, the dataset loader, and optional queue, limits and threshold.
 * @returns The app; serve it with `Deno.serve(app.fetch)` or call `app.request()` in tests.
 * @example
 * ```ts
 * import { loadDataset } from "@modelpress/evaluate";
 * import { createApp, pruneInWorker } from "@modelpress/service-prune";
 * const app = createApp({ prune: pruneInWorker, loadDataset });
 * const res = await app.request("/health");
 * console.log(res.status); // 200
 * ```
 */
export function createApp(deps: PruneServiceDeps): OpenAPIHono {
  return createServiceApp(deps, {
    service: "prune",
    jobName: "pruning",
    info: {
      title: "ModelPress prune service",
      description: "Pruning of ONNX models (magnitude, random baseline, N:M, Wanda, neuron and " +
        "channel) by recipe; the sparsity is always the fraction removed.",
    },
    addRoutes: (app, queue) =>
      addPruningRoutes(app, { prune: deps.prune, ...modelJobRoutesContext(deps, queue) }),
  });
}
