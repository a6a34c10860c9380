/**
 * The data the browser test opens the dashboard on, seeded in one place. Today it is the
 * dashboard's in-memory source plus a stand-in for the API's acknowledge route; once the store and
 * the benchmark service's API exist, this function posts the same runs to the real service
 * (PGlite) and returns its app instead, and the browser test stays as it is.
 * @module
 */
import { Hono } from "hono";
import {
  sampleDashboardData,
  type SampleExpectations,
} from "../../services/benchmark/dashboard/_testing.ts";
import { createMemorySource, dashboardRoutes } from "../../services/benchmark/dashboard/mod.ts";

/** What {@linkcode seedDashboard} gives the browser test. */
export interface SeededDashboard {
  /** The app to serve: dashboard pages and `POST /v1/regressions/:id/acknowledge`. */
  readonly app: { fetch: (request: Request) => Response | Promise<Response> };
  /** What the seeded data implies the pages show. */
  readonly expected: SampleExpectations;
  /** Ids of regressions acknowledged through the API so far. */
  readonly acknowledged: readonly string[];
  /** Releases what the seeding holds (a database, for the real store). */
  close(): Promise<void>;
}

/**
 * Seeds the sample data (two models, four recipes, a latency shift with its change point, an
 * open and an acknowledged regression) and makes the app that serves it.
 *
 * @returns The app, the expectations and a close function.
 * @example
 * ```ts ignore
 * import { seedDashboard } from "./seed_dashboard.ts";
 * const seeded = await seedDashboard();
 * try {
 *   const res = await seeded.app.fetch(new Request("http://x/"));
 * } finally {
 *   await seeded.close();
 * }
 * ```
 */
export function seedDashboard(): Promise<SeededDashboard> {
  const { data, expected } = sampleDashboardData();
  const acknowledged: string[] = [];
  const app = new Hono();
  app.route("/", dashboardRoutes(createMemorySource(data)));
  // Stand-in for the API route the other half of the service implements.
  app.post("/v1/regressions/:id/acknowledge", (c) => {
    const id = c.req.param("id");
    const regression = data.regressions?.find((r) => r.id === id);
    if (!regression) {
      return c.json(
        { error: { code: "not_found", message: `Cannot find regression '${id}'` } },
        404,
      );
    }
    acknowledged.push(id);
    return c.json({ id, status: "acknowledged" });
  });
  return Promise.resolve({
    app,
    expected,
    acknowledged,
    close: () => Promise.resolve(),
  });
}
