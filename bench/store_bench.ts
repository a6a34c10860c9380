/**
 * The store's numbers (issue 7): batch ingest in runs per second, and a series query over
 * 100,000 runs (p50/p95 of repeated queries), on the real Postgres of `DATABASE_URL` when set
 * and on embedded in-memory PGlite, each in a fresh schema that is dropped afterwards.
 *
 * Each run has 4 metrics (accuracy, size_bytes, params, latency_ms with 20 raw samples), 2
 * params and 2 tags; every run is in the same model x recipe x environment, so each metric's
 * series holds every run. Ingest goes through `ingestRuns` in batches (one transaction each,
 * multi-row inserts), as `POST /v1/runs/batch` does (regression detection is not timed here).
 *
 * Run: `DATABASE_URL=postgres://postgres@127.0.0.1:5432/test deno run -A bench/store_bench.ts`
 * Options: `--runs N` (default 100000), `--batch N` (default 1000), `--queries N` (default 50),
 * `--only postgres|pglite`, `--keep` (leave the schema for a look with psql; drop it after).
 * @module
 */
import { parseArgs } from "node:util";
import { sql } from "kysely";
import { createStore, ingestRuns, querySeries, type RunInput, type Store } from "@modelpress/store";

const { values: args } = parseArgs({
  options: {
    runs: { type: "string", default: "100000" },
    batch: { type: "string", default: "1000" },
    queries: { type: "string", default: "50" },
    only: { type: "string" },
    keep: { type: "boolean", default: false },
  },
});
const RUNS = Number(args.runs);
const BATCH = Number(args.batch);
const QUERIES = Number(args.queries);

function machine(): string {
  let cpu = "?";
  try {
    cpu = Deno.readTextFileSync("/proc/cpuinfo").match(/model name\s*:\s*(.+)/)?.[1] ?? "?";
  } catch { /* not Linux */ }
  return `${cpu}, ${navigator.hardwareConcurrency} cores, ${Deno.build.os} ${Deno.build.arch}, ` +
    `Deno ${Deno.version.deno}`;
}

function run(i: number, start: number): RunInput {
  const latency = 10 + (i % 17) / 10;
  return {
    model: { name: "bench_mlp", sha256: "ef".repeat(32), sizeBytes: 941_000 },
    recipe: { config: { method: "dynamic", bits: 8 }, name: "int8 dynamic" },
    environment: { cpuModel: "bench", cores: 2, runtime: "deno", backend: "wasm" },
    run: {
      id: crypto.randomUUID(),
      startedAt: new Date(start + i * 60_000),
      gitCommit: (i * 2654435761 % 2 ** 32).toString(16),
      branch: "main",
      tags: { ci: i % 2 === 0 ? "nightly" : "pr", shard: String(i % 8) },
    },
    params: { bits: 8, seed: i },
    metrics: [
      { name: "accuracy", value: 0.97 + (i % 10) / 1000, unit: "ratio" },
      { name: "size_bytes", value: 240_000 + (i % 3), unit: "bytes" },
      { name: "params", value: 235_146, unit: "count" },
      {
        name: "latency_ms",
        value: latency,
        unit: "ms",
        samples: Array.from({ length: 20 }, (_, j) => latency + j / 100),
      },
    ],
  };
}

function percentile(sorted: readonly number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.ceil(p * sorted.length) - 1)]!;
}

async function bench(name: string, store: Store): Promise<void> {
  const start = Date.UTC(2020, 0, 1);
  let ingestMs = 0;
  let first: Awaited<ReturnType<typeof ingestRuns>>[number] | undefined;
  for (let done = 0; done < RUNS; done += BATCH) {
    const batch = Array.from(
      { length: Math.min(BATCH, RUNS - done) },
      (_, k) => run(done + k, start),
    );
    const t0 = performance.now();
    const result = await ingestRuns(store.db, batch);
    ingestMs += performance.now() - t0;
    first ??= result[0];
  }
  const key = {
    model: "bench_mlp",
    recipe: first!.recipeHash,
    environment: first!.environmentHash,
    metric: "latency_ms",
  };
  const time = async (options: Parameters<typeof querySeries>[2]) => {
    const times: number[] = [];
    let points = 0;
    let total = 0;
    for (let q = 0; q < QUERIES + 3; q++) {
      const t0 = performance.now();
      const result = await querySeries(store.db, key, options);
      if (q >= 3) times.push(performance.now() - t0); // 3 warm-up queries
      points = result.points.length;
      total = result.total;
    }
    times.sort((a, b) => a - b);
    return { p50: percentile(times, 0.5), p95: percentile(times, 0.95), points, total };
  };
  const all = await time({ maxPoints: 1000 });
  // Narrower buckets than an hour: 15-minute rollups (30-minute buckets).
  const fine = await time({ maxPoints: 5000 });
  // Narrower still: 5-minute rollups (5-minute buckets).
  const finest = await time({ maxPoints: 20_000 });
  const week = await time({
    from: new Date(start + (RUNS - 7 * 24 * 60) * 60_000),
    maxPoints: 100_000,
  });
  const f = (ms: number): string => ms.toFixed(1);
  console.log(
    `| ${name} | ${RUNS} | ${BATCH} | ${Math.round(RUNS / (ingestMs / 1000))} | ` +
      `${all.total} -> ${all.points} | ${f(all.p50)} | ${f(all.p95)} | ` +
      `${fine.total} -> ${fine.points} | ${f(fine.p50)} | ${f(fine.p95)} | ` +
      `${finest.total} -> ${finest.points} | ${f(finest.p50)} | ${f(finest.p95)} | ` +
      `${week.points} | ${f(week.p50)} | ${f(week.p95)} |`,
  );
}

console.log(`# ${machine()}`);
console.log(
  `# ${RUNS} runs x 4 metrics (20 latency samples each), batches of ${BATCH}; ` +
    `${QUERIES} timed queries each\n`,
);
console.log(
  "| database | runs | batch | ingest runs/s | series: runs -> points (maxPoints 1000, hourly rollups) | p50 ms | p95 ms | series: runs -> points (maxPoints 5000, 15-minute rollups) | p50 ms | p95 ms | series: runs -> points (maxPoints 20000, 5-minute rollups) | p50 ms | p95 ms | last week: raw points | p50 ms | p95 ms |",
);
console.log(`|${" --- |".repeat(16)}`);
const url = Deno.env.get("DATABASE_URL");
const targets: { name: string; open: (schema: string) => Promise<Store> }[] = [];
if (url && args.only !== "pglite") {
  const version = await (async () => {
    const s = await createStore({ databaseUrl: url, migrate: false });
    const v =
      (await sql<{ v: string }>`select current_setting('server_version') as v`.execute(s.db))
        .rows[0]?.v;
    await s.close();
    return v;
  })();
  targets.push({
    name: `Postgres ${version} (postgres.js)`,
    open: (schema) => createStore({ databaseUrl: url, schema }),
  });
}
if (args.only !== "postgres") {
  targets.push({
    name: "PGlite 0.5 (in memory)",
    open: (schema) => createStore({ databaseUrl: null, dataDir: ":memory:", schema }),
  });
}
for (const target of targets) {
  const schema = `bench_${crypto.randomUUID().replaceAll("-", "").slice(0, 12)}`;
  const store = await target.open(schema);
  try {
    await bench(target.name, store);
  } finally {
    if (args.keep) console.log(`(kept schema ${schema})`);
    else await sql`drop schema ${sql.id(schema)} cascade`.execute(store.db);
    await store.close();
  }
}
