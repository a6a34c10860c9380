/**
 * The benchmark dashboard: server-rendered pages (hono/jsx) with uPlot charts over a small
 * {@linkcode DashboardSource} interface, and an in-memory source for tests.
 *
 * @example
 * ```ts
 * import { Hono } from "hono";
 * import { createMemorySource, dashboardRoutes } from "./mod.ts";
 * const app = new Hono();
 * app.route("/", dashboardRoutes(createMemorySource({ runs: [] })));
 * console.log((await app.request("/")).status); // 200
 * ```
 * @module
 */
export * from "./source.ts";
export * from "./memory_source.ts";
export * from "./dashboard_routes.tsx";
