/**
 * The benchmark service as a Hono app: `createApp(deps)`, with the store injected so that tests
 * run it in-process on PGlite.
 * @module
 */
import { OpenAPIHono } from "@hono/zod-openapi";
import type { ErrorHandler } from "hono";
import { addHealthRoute, ApiError, handleErrors, zodErrorToApiError } from "@modelpress/http";
import {
  ConflictError,
  MissingReferenceError,
  NotFoundError,
  type Store,
  StoreError,
} from "@modelpress/store";
import { addRegressionRoutes } from "./routes/regressions.ts";
import { addRunRoutes } from "./routes/runs.ts";
import { addSeriesRoutes } from "./routes/series.ts";
import { type DashboardOptions, dashboardRoutes } from "./dashboard/mod.ts";
import { storeSource } from "./store_source.ts";

/** What the benchmark service is made of. */
export interface BenchmarkServiceDeps {
  /** The store (`createStore()` of `@modelpress/store`). */
  readonly store: Store;
  /** A URL to POST each new regression to (`{ type: "regression", regression }`), if any. */
  readonly webhookUrl?: string;
  /** The fetch the webhook uses (default the global one). */
  readonly fetch?: typeof fetch;
  /** Serve the dashboard at `/` (default true), with these options. */
  readonly dashboard?: boolean | DashboardOptions;
}

/**
 * Maps the store's errors to HTTP: a conflict is 409, a missing thing (or reference) 404, a
 * bad cursor or malformed run (RangeError, TypeError from the store) 400; others pass unchanged.
 *
 * @param error What a route threw.
 * @returns The error to answer with.
 * @example
 * ```ts
 * import { ConflictError } from "@modelpress/store";
 * import { storeErrorToApiError } from "./app.ts";
 * console.log((storeErrorToApiError(new ConflictError("x")) as { status: number }).status); // 409
 * ```
 */
export function storeErrorToApiError(error: unknown): unknown {
  if (error instanceof ConflictError) {
    return new ApiError(error.message, { status: 409, code: "conflict", cause: error });
  }
  if (error instanceof NotFoundError) {
    return new ApiError(error.message, { status: 404, code: "not_found", cause: error });
  }
  if (error instanceof MissingReferenceError) {
    return new ApiError(error.message, { status: 404, code: "not_found", cause: error });
  }
  if (
    (error instanceof RangeError || error instanceof TypeError) &&
    /^Cannot (ingest run|search runs|query series)/.test(error.message)
  ) {
    return new ApiError(error.message, { status: 400, code: "bad_request", cause: error });
  }
  if (error instanceof StoreError) return error; // 500, logged with its stack
  return error;
}

/**
 * Makes the benchmark service's app: `POST /v1/runs`, `POST /v1/runs/batch`, `GET /v1/runs`
 * (search), `GET /v1/runs/{id}`, `GET /v1/runs/compare`, `GET /v1/regressions`,
 * `POST /v1/regressions/{id}/{acknowledge|fix|reopen}`, `GET /v1/series`,
 * `PUT /v1/series/baseline`, `GET /v1/models`, `GET /v1/models/{name}/series`,
 * `GET /v1/models/{name}/pareto`, `GET /health`, `GET /openapi.json`, and the dashboard's pages
 * at `/` (models, `/models/{name}`, `/regressions`, `/runs/{id}`). Every API error is answered
 * as `{ error: { code, message, details? } }` by the shared handler.
 *
 * @param deps The store, the optional webhook, the dashboard's options.
 * @returns The app.
 * @example
 * ```ts
 * import { createStore } from "@modelpress/store";
 * import { createApp } from "./app.ts";
 * await using store = await createStore({ databaseUrl: null, dataDir: ":memory:" });
 * const res = await createApp({ store }).request("/health");
 * console.log(res.status); // 200
 * ```
 */
export function createApp(deps: BenchmarkServiceDeps): OpenAPIHono {
  const app = new OpenAPIHono({
    defaultHook: (result) => {
      if (!result.success) throw zodErrorToApiError(result.error);
    },
  });
  addHealthRoute(app, "benchmark", { running: 0, queued: 0 });
  addRunRoutes(app, {
    store: deps.store,
    ...(deps.webhookUrl === undefined ? {} : { webhookUrl: deps.webhookUrl }),
    ...(deps.fetch === undefined ? {} : { fetch: deps.fetch }),
  });
  addRegressionRoutes(app, deps.store);
  addSeriesRoutes(app, deps.store);
  if (deps.dashboard !== false) {
    const options = typeof deps.dashboard === "object" ? deps.dashboard : {};
    app.route("/", dashboardRoutes(storeSource(deps.store.db), options));
  }
  app.doc31("/openapi.json", {
    openapi: "3.1.0",
    info: {
      title: "ModelPress benchmark service",
      version: "0.1.0",
      description: "Runs, metrics and their history; regressions caught by statistics.",
    },
  });
  handleErrors(app);
  // The shared handler, with the store's errors mapped first.
  let shared: ErrorHandler | undefined;
  handleErrors({ notFound: () => {}, onError: (h: ErrorHandler) => shared = h } as never);
  app.onError((error, c) => shared!(storeErrorToApiError(error) as Error, c));
  return app;
}
