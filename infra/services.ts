/**
 * The one list of ModelPress services: `deno task start` runs exactly these, in this order.
 * Add a service here (and nowhere else) when it has a `main.ts` that serves on `PORT`.
 * @module
 */

/** One service that the supervisor (`deno task start`) runs as its own `deno run` process. */
export interface ServiceSpec {
  /** Short unique name, used in logs and the status table: `quantize`. */
  readonly name: string;
  /** The service's entry file, relative to the repository root (or absolute). */
  readonly entry: string;
  /** TCP port the service listens on; passed to it as the `PORT` environment variable. */
  readonly port: number;
  /** Path answered with a 2xx status once the service is ready: `/health`. */
  readonly healthPath: string;
  /** Deno permission flags for `deno run` (default `["-A"]`). */
  readonly permissions?: readonly string[];
  /** Extra environment variables for the service (PORT is always set). */
  readonly env?: Readonly<Record<string, string>>;
}

/**
 * Every ModelPress service, in start order (a service may depend on the ones before it), with
 * their ports:
 *
 * | name      | entry                       | port |
 * | --------- | --------------------------- | ---- |
 * | quantize  | services/quantize/main.ts   | 8101 |
 * | prune     | services/prune/main.ts      | 8102 |
 * | evaluate  | services/evaluate/main.ts   | 8103 |
 * | benchmark | services/benchmark/main.ts  | 8104 |
 *
 * each with `healthPath: "/health"`.
 *
 * @example
 * ```ts
 * import { SERVICES } from "./services.ts";
 * for (const s of SERVICES) console.log(s.name, s.port);
 * ```
 */
export const SERVICES: readonly ServiceSpec[] = Object.freeze([
  { name: "quantize", entry: "services/quantize/main.ts", port: 8101, healthPath: "/health" },
  { name: "prune", entry: "services/prune/main.ts", port: 8102, healthPath: "/health" },
  {
    name: "evaluate",
    entry: "services/evaluate/main.ts",
    port: 8103,
    healthPath: "/health",
    // Requests with a `record` field are recorded as runs in the benchmark service below.
    env: { BENCHMARK_URL: "http://127.0.0.1:8104" },
  },
  { name: "benchmark", entry: "services/benchmark/main.ts", port: 8104, healthPath: "/health" },
]);
