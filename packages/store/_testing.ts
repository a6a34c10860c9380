/**
 * The store's test matrix: every store test runs on embedded PGlite, and on the real server too
 * when `DATABASE_URL` is set, each in a fresh schema that is dropped afterwards.
 * @module
 */
import { PGlite } from "@electric-sql/pglite";
import { sql } from "kysely";
import { createStore, type Store } from "./create_store.ts";

/** The dialects the tests run on. */
export type TestDialect = "pglite" | "postgres";

let shared: Promise<PGlite> | undefined;

/** One in-memory PGlite per test file: starting one takes seconds. */
export function sharedPglite(): Promise<PGlite> {
  shared ??= PGlite.create();
  return shared;
}

/** The real server's URL, when the tests should use it. */
export function databaseUrl(): string | undefined {
  return Deno.env.get("DATABASE_URL") || undefined;
}

/** The dialects available here: PGlite always, Postgres with DATABASE_URL. */
export function testDialects(): TestDialect[] {
  return databaseUrl() ? ["pglite", "postgres"] : ["pglite"];
}

/** A random schema name for one test. */
export function randomSchema(): string {
  return `t_${crypto.randomUUID().replaceAll("-", "").slice(0, 16)}`;
}

/**
 * Opens a store on a dialect in a fresh schema, runs `fn`, then drops the schema and closes.
 *
 * @param dialect Which database.
 * @param fn The test body.
 */
export async function withTestStore(
  dialect: TestDialect,
  fn: (store: Store) => Promise<void>,
): Promise<void> {
  const schema = randomSchema();
  const store = dialect === "pglite"
    ? await createStore({ databaseUrl: null, pglite: await sharedPglite(), schema })
    : await createStore({ databaseUrl: databaseUrl() ?? null, schema, maxConnections: 4 });
  try {
    await fn(store);
  } finally {
    await sql`drop schema ${sql.id(schema)} cascade`.execute(store.db);
    await store.close();
  }
}

/**
 * Registers one Deno test per dialect: `name (pglite)`, `name (postgres)`.
 *
 * @param name The test's name.
 * @param fn The body, given a fresh store.
 */
export function storeTest(name: string, fn: (store: Store) => Promise<void>): void {
  for (const dialect of testDialects()) {
    Deno.test({
      name: `${name} (${dialect})`,
      // The shared PGlite instance outlives a single test.
      sanitizeResources: false,
      sanitizeOps: false,
      fn: () => withTestStore(dialect, fn),
    });
  }
}

/** Options of {@linkcode sampleRun}. */
export interface SampleRunOptions {
  readonly id?: string;
  readonly model?: string;
  readonly recipe?: Record<string, unknown>;
  readonly recipeName?: string;
  readonly startedAt?: Date;
  readonly metrics?: { name: string; value: number; unit?: string; samples?: number[] }[];
  readonly params?: Record<string, string | number | boolean>;
  readonly tags?: Record<string, string>;
  readonly cores?: number;
}

/** A valid run to ingest, with defaults for what the test does not care about. */
export function sampleRun(options: SampleRunOptions = {}): import("./ingest.ts").RunInput {
  return {
    model: { name: options.model ?? "mlp", sha256: "ab".repeat(32), sizeBytes: 941_000 },
    recipe: {
      config: (options.recipe ?? { method: "dynamic", bits: 8 }) as never,
      ...(options.recipeName === undefined ? {} : { name: options.recipeName }),
    },
    environment: {
      cpuModel: "Test CPU",
      cores: options.cores ?? 2,
      runtime: "deno 2.9.6; onnxruntime-web 1.30.0",
      backend: "wasm",
    },
    run: {
      id: options.id ?? crypto.randomUUID(),
      startedAt: options.startedAt ?? new Date("2026-01-01T00:00:00Z"),
      gitCommit: "abc123",
      branch: "main",
      tags: options.tags ?? { ci: "nightly" },
    },
    params: options.params ?? { bits: 8 },
    metrics: options.metrics ?? [
      { name: "accuracy", value: 0.978, unit: "ratio" },
      { name: "size_bytes", value: 240_000, unit: "bytes" },
      { name: "latency_ms", value: 1.5, unit: "ms", samples: [1.4, 1.5, 1.6] },
    ],
  };
}
