import assert from "node:assert/strict";
import { ConflictError } from "./errors.ts";
import { ingestRun, ingestRuns, normalizeRun } from "./ingest.ts";
import { getRun } from "./runs.ts";
import { canonicalHash, canonicalJson } from "./canonical_json.ts";
import { sampleRun, storeTest } from "./_testing.ts";

Deno.test("canonicalJson() sorts keys at every depth and drops undefined", () => {
  assert.equal(
    canonicalJson({ b: { d: 1, c: [2, { f: 1, e: 0 }] }, a: undefined }),
    '{"b":{"c":[2,{"e":0,"f":1}],"d":1}}',
  );
  assert.equal(canonicalHash({ x: 1, y: 2 }), canonicalHash({ y: 2, x: 1 }));
  assert.notEqual(canonicalHash({ x: 1 }), canonicalHash({ x: 2 }));
  assert.equal(
    canonicalHash({}),
    "44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a", // sha256("{}")
  );
});

Deno.test("normalizeRun() rejects a bad id, a bad hash and a metric given twice", () => {
  assert.throws(() => normalizeRun(sampleRun({ id: "not-a-uuid" })), /is not a UUID/);
  assert.throws(
    () => normalizeRun({ ...sampleRun(), model: { name: "m", sha256: "zz", sizeBytes: 1 } }),
    /sha256/,
  );
  assert.throws(
    () => normalizeRun(sampleRun({ metrics: [{ name: "a", value: 1 }, { name: "a", value: 2 }] })),
    /metric 'a' appears twice/,
  );
});

storeTest("ingestRun() stores a run with its params, metrics and samples", async (store) => {
  const input = sampleRun();
  const result = await ingestRun(store.db, input);
  assert.equal(result.created, true);
  assert.equal(result.metrics.length, 3);
  const run = await getRun(store.db, input.run.id);
  assert.ok(run);
  assert.equal(run.model, "mlp");
  assert.equal(run.modelSizeBytes, 941_000);
  assert.deepEqual(run.params, { bits: 8 });
  assert.deepEqual(run.tags, { ci: "nightly" });
  assert.deepEqual(run.metrics.find((m) => m.name === "latency_ms")?.samples, [1.4, 1.5, 1.6]);
  assert.equal(run.metrics.find((m) => m.name === "accuracy")?.value, 0.978);
  assert.equal(run.startedAt.toISOString(), "2026-01-01T00:00:00.000Z");
});

storeTest(
  "ingestRun() is idempotent by UUID and answers ConflictError for another payload",
  async (store) => {
    const input = sampleRun();
    assert.equal((await ingestRun(store.db, input)).created, true);
    // Same payload, keys in another order and the time spelled differently: the same run.
    const again = await ingestRun(store.db, {
      ...input,
      run: { ...input.run, startedAt: "2026-01-01T00:00:00Z" },
      params: { bits: 8 },
    });
    assert.equal(again.created, false);
    const counts = await store.db.selectFrom("runs").select((eb) => eb.fn.countAll().as("n"))
      .executeTakeFirstOrThrow();
    assert.equal(Number(counts.n), 1);
    const changed = await ingestRun(
      store.db,
      sampleRun({
        id: input.run.id,
        metrics: [{ name: "accuracy", value: 0.5 }],
      }),
    ).catch((e) => e);
    assert.ok(changed instanceof ConflictError, String(changed));
    assert.match(changed.message, /different payload/);
    assert.equal((await getRun(store.db, input.run.id))?.metrics.length, 3);
  },
);

storeTest(
  "ingestRuns() writes a batch in one transaction and shares models, recipes, series",
  async (store) => {
    const runs = Array.from({ length: 50 }, (_, i) =>
      sampleRun({
        startedAt: new Date(Date.UTC(2026, 0, 1, 0, i)),
        recipe: { method: "linear", bits: i % 2 === 0 ? 8 : 4 },
      }));
    const results = await ingestRuns(store.db, runs);
    assert.equal(results.filter((r) => r.created).length, 50);
    const count = async (table: "models" | "recipes" | "environments" | "series" | "metrics") =>
      Number(
        (await store.db.selectFrom(table).select((eb) => eb.fn.countAll().as("n"))
          .executeTakeFirstOrThrow()).n,
      );
    assert.equal(await count("models"), 1);
    assert.equal(await count("recipes"), 2);
    assert.equal(await count("environments"), 1);
    assert.equal(await count("series"), 6);
    assert.equal(await count("metrics"), 150);
    // A batch with one conflicting run writes nothing at all.
    const bad = [sampleRun(), { ...runs[3]!, params: { bits: 99 } }];
    assert.ok((await ingestRuns(store.db, bad).catch((e) => e)) instanceof ConflictError);
    assert.equal(await count("metrics"), 150);
    // The same batch again: nothing new.
    const replay = await ingestRuns(store.db, runs);
    assert.equal(replay.filter((r) => r.created).length, 0);
    // The same id twice in a batch, identical: stored once.
    const twice = sampleRun();
    const both = await ingestRuns(store.db, [twice, twice]);
    assert.deepEqual(both.map((r) => r.created), [true, false]);
  },
);

storeTest("ingestRuns() from two writers at once stores each run once", async (store) => {
  const runs = Array.from({ length: 20 }, () => sampleRun());
  const [a, b] = await Promise.all([ingestRuns(store.db, runs), ingestRuns(store.db, runs)]);
  const created = runs.map((_, i) => Number(a[i]!.created) + Number(b[i]!.created));
  assert.deepEqual(created, runs.map(() => 1));
});
