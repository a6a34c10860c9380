/**
 * Test helpers of the benchmark service: one shared in-memory PGlite per test file (starting
 * one takes seconds), a fresh schema per test, and runs to post.
 * @module
 */
import { PGlite } from "@electric-sql/pglite";
import { sql } from "kysely";
import { createStore, type Store } from "@modelpress/store";

let shared: Promise<PGlite> | undefined;

/**
 * Runs `fn` with a store in a fresh schema of a shared PGlite, then drops the schema.
 *
 * @param fn The test body.
 */
export async function withStore(fn: (store: Store) => Promise<void>): Promise<void> {
  shared ??= PGlite.create();
  const schema = `t_${crypto.randomUUID().replaceAll("-", "").slice(0, 16)}`;
  const store = await createStore({ databaseUrl: null, pglite: await shared, schema });
  try {
    await fn(store);
  } finally {
    await sql`drop schema ${sql.id(schema)} cascade`.execute(store.db);
    await store.close();
  }
}

/** Options of {@linkcode runBody}. */
export interface RunBodyOptions {
  readonly id?: string;
  readonly model?: string;
  readonly recipe?: Record<string, unknown>;
  readonly recipeName?: string;
  readonly minute?: number;
  readonly metrics?: { name: string; value: number; unit?: string; samples?: number[] }[];
  readonly params?: Record<string, unknown>;
  readonly tags?: Record<string, unknown>;
}

/** A run as `POST /v1/runs` takes it. */
export function runBody(options: RunBodyOptions = {}): Record<string, unknown> {
  return {
    model: { name: options.model ?? "mlp", sha256: "cd".repeat(32), sizeBytes: 941_000 },
    recipe: {
      config: options.recipe ?? { method: "dynamic" },
      ...(options.recipeName === undefined ? {} : { name: options.recipeName }),
    },
    environment: {
      cpuModel: "Test CPU",
      cores: 2,
      runtime: "deno 2.9.6; onnxruntime-web 1.30.0",
      backend: "wasm",
    },
    run: {
      id: options.id ?? crypto.randomUUID(),
      startedAt: new Date(Date.UTC(2026, 0, 1, 0, options.minute ?? 0)).toISOString(),
      branch: "main",
      tags: options.tags ?? { ci: "nightly" },
    },
    params: options.params ?? { bits: 8 },
    metrics: options.metrics ?? [{ name: "accuracy", value: 0.978, unit: "ratio" }],
  };
}

/** Latency samples around `center` ms, deterministic. */
export function latencySamples(center: number, count = 30): number[] {
  return Array.from({ length: count }, (_, i) => center * (1 + ((i * 7) % 11 - 5) / 200));
}

/** POSTs JSON to an app. */
export function postJson(
  app: { request: (path: string, init: RequestInit) => Response | Promise<Response> },
  path: string,
  body: unknown,
  method = "POST",
): Promise<Response> {
  return Promise.resolve(app.request(path, {
    method,
    body: JSON.stringify(body),
    headers: { "content-type": "application/json" },
  }));
}
