/** @jsxImportSource hono/jsx */
/**
 * The dashboard as Hono routes over a {@linkcode DashboardSource}.
 * @module
 */
import { type Context, Hono } from "hono";
import type { JSX } from "hono/jsx/jsx-runtime";
import { type Asset, ASSET_NAMES, readAsset } from "./_assets.ts";
import type { Links } from "./_layout.tsx";
import { ModelPage, ModelsPage, NotFoundPage, RegressionsPage, RunPage } from "./_pages.tsx";
import type { DashboardSource } from "./source.ts";

/** Options of {@linkcode dashboardRoutes}. */
export interface DashboardOptions {
  /**
   * The path the routes are mounted under, for the pages' links (default "": mounted with
   * `app.route("/", dashboardRoutes(source))`).
   */
  readonly basePath?: string;
  /** Prefix of the API's `/v1/...` routes that the acknowledge buttons post to (default ""). */
  readonly apiBase?: string;
  /** At most this many points per chart; longer series are downsampled (default 500). */
  readonly maxPoints?: number;
  /** uPlot's `dist/` folder (default: the installed `uplot` npm package). */
  readonly uplotDir?: URL;
  /**
   * Which metrics the model page charts: their names, or "all" (default
   * {@linkcode DEFAULT_CHART_METRICS}).
   */
  readonly metrics?: readonly string[] | "all";
}

/** The metrics a model page charts by default: size, accuracy and latency. */
export const DEFAULT_CHART_METRICS: readonly string[] = Object.freeze([
  "size_bytes",
  "accuracy",
  "latency_ms",
]);

/** Answers a page with the dashboard's security headers (only its own pages get them). */
async function page(c: Context, body: JSX.Element, status: 200 | 404 = 200): Promise<Response> {
  return c.html(await body, status, {
    "Content-Security-Policy": DASHBOARD_CSP,
    "X-Content-Type-Options": "nosniff",
    "Cache-Control": "no-store",
  });
}

/** The Content-Security-Policy of every page: no inline script, nothing from elsewhere. */
export const DASHBOARD_CSP =
  "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; " +
  "connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

/**
 * The dashboard's routes, server-rendered with hono/jsx:
 *
 * - `GET /` models overview;
 * - `GET /models/:name` a model's series charts (per recipe x environment x metric, by default
 *   size, accuracy and latency, with regression markers and change points) and its Pareto
 *   scatter of size against accuracy;
 * - `GET /regressions` open regressions, with buttons that POST to
 *   `{apiBase}/v1/regressions/:id/acknowledge` (a route of the API, not of the dashboard);
 * - `GET /runs/:id` a run with its compression report;
 * - `GET /assets/:name` uPlot (from the installed npm package) and the dashboard's script and
 *   style sheet.
 *
 * Unknown models and runs answer 404 pages. Pages carry a strict Content-Security-Policy.
 *
 * @param source Where the data comes from.
 * @param options Mount path, API prefix, points per chart, uPlot's folder, charted metrics.
 * @returns The routes; mount them with `app.route("/", dashboardRoutes(source))`.
 * @example
 * ```ts
 * import { createMemorySource, dashboardRoutes } from "./mod.ts";
 * const app = dashboardRoutes(createMemorySource({ runs: [] }));
 * const res = await app.request("/");
 * console.log(res.status); // 200
 * ```
 */
export function dashboardRoutes(source: DashboardSource, options: DashboardOptions = {}): Hono {
  const links: Links = Object.freeze({
    base: (options.basePath ?? "").replace(/\/+$/, ""),
    api: (options.apiBase ?? "").replace(/\/+$/, ""),
  });
  const maxPoints = options.maxPoints ?? 500;
  if (!Number.isInteger(maxPoints) || maxPoints < 1) {
    throw new RangeError(
      `Cannot make the dashboard: maxPoints must be a positive integer, got ${maxPoints}`,
    );
  }
  const metrics = options.metrics ?? DEFAULT_CHART_METRICS;
  const charted = metrics === "all" ? () => true : (metric: string) => metrics.includes(metric);
  const assets = new Map<string, Promise<Asset | null>>();
  const app = new Hono();

  app.get(
    "/",
    async (c) => page(c, <ModelsPage models={await source.listModels()} links={links} />),
  );

  app.get("/models/:name", async (c) => {
    const name = c.req.param("name");
    if (!(await source.hasModel(name))) {
      return page(c, <NotFoundPage what={`model '${name}'`} links={links} />, 404);
    }
    const [keys, pareto] = await Promise.all([source.listSeries(name), source.pareto(name)]);
    const series = await Promise.all(
      keys.filter((key) => charted(key.metric)).map(async (key) => ({
        key,
        data: await source.series(key, { maxPoints }),
      })),
    );
    return page(c, <ModelPage name={name} series={series} pareto={pareto} links={links} />);
  });

  app.get(
    "/regressions",
    async (c) =>
      page(c, <RegressionsPage regressions={await source.openRegressions()} links={links} />),
  );

  app.get("/runs/:id", async (c) => {
    const id = c.req.param("id");
    const run = await source.run(id);
    if (run === null) return page(c, <NotFoundPage what={`run '${id}'`} links={links} />, 404);
    return page(c, <RunPage run={run} links={links} />);
  });

  app.get("/assets/:name", async (c) => {
    const name = c.req.param("name");
    if (!ASSET_NAMES.includes(name)) return c.notFound();
    let pending = assets.get(name);
    if (!pending) {
      pending = readAsset(name, options.uplotDir ? { uplotDir: options.uplotDir } : {});
      assets.set(name, pending);
      pending.catch(() => assets.delete(name));
    }
    const asset = await pending;
    if (!asset) return c.notFound();
    return c.body(asset.body, 200, {
      "Content-Type": asset.contentType,
      "Cache-Control": "public, max-age=3600",
      "X-Content-Type-Options": "nosniff",
    });
  });

  return app;
}
