import assert from "node:assert/strict";
import { ingestRuns, type RunInput } from "./ingest.ts";
import { migrateDown, migrateToLatest } from "./migrations.ts";
import { querySeries } from "./series.ts";
import {
  type Bucket,
  type BucketRange,
  countInRange,
  pickLevel,
  rawBuckets,
  ROLLUP_LEVELS,
  rollupBuckets,
} from "./_series_buckets.ts";
import { sampleRun, storeTest } from "./_testing.ts";
import type { Store } from "./create_store.ts";

const MINUTE = 60_000;
const BASE = Date.UTC(2026, 0, 1, 0, 3, 20); // not aligned to 5 minutes

/**
 * 320 points 7 minutes and 0-26 s apart (about 37 hours, crossing every 5-, 15- and 60-minute
 * boundary), every 40th with a twin at the same time (ties on the latest run), values that
 * repeat; ingested in out-of-order batches, so that rollup rows are merged across batches.
 */
async function seed(
  store: Store,
): Promise<{ seriesId: number; times: number[]; recipe: string; environment: string }> {
  const runs: RunInput[] = [];
  const times: number[] = [];
  for (let i = 0; i < 320; i++) {
    const t = BASE + i * 7 * MINUTE + (i % 3) * 13_000;
    const value = ((i * 37) % 101) / 4 + 0.125;
    runs.push(sampleRun({ startedAt: new Date(t), metrics: [{ name: "m", value }] }));
    times.push(t);
    if (i % 40 === 0) {
      runs.push(sampleRun({ startedAt: new Date(t), metrics: [{ name: "m", value: value + 3 }] }));
      times.push(t);
    }
  }
  // A fixed shuffle: batches of 50 taken with a stride, so every batch spans the whole series.
  const order = runs.map((_, i) => i).sort((a, b) => (a * 7919) % 331 - (b * 7919) % 331);
  let result: Awaited<ReturnType<typeof ingestRuns>> = [];
  for (let k = 0; k < order.length; k += 50) {
    result = await ingestRuns(store.db, order.slice(k, k + 50).map((i) => runs[i]!));
  }
  return {
    seriesId: result[0]!.metrics[0]!.seriesId,
    times: times.sort((a, b) => a - b),
    recipe: result[0]!.recipeHash,
    environment: result[0]!.environmentHash,
  };
}

function assertSameBuckets(actual: Bucket[], expected: Bucket[], what: string): void {
  assert.equal(actual.length, expected.length, what);
  for (let i = 0; i < actual.length; i++) {
    const a = actual[i]!;
    const e = expected[i]!;
    assert.ok(Math.abs(a.value - e.value) < 1e-9, `${what} #${i}: ${a.value} != ${e.value}`);
    assert.deepEqual({ ...a, value: 0 }, { ...e, value: 0 }, `${what} #${i}`);
  }
}

async function compareAllLevels(store: Store, seriesId: number): Promise<number> {
  const ranges: BucketRange[] = [
    {},
    { from: BASE + 47 * MINUTE + 5_000, to: BASE + 31 * 60 * MINUTE + 11_000 }, // partial ends
    { from: Date.UTC(2026, 0, 1, 3), to: Date.UTC(2026, 0, 1, 20) }, // whole hours
    { from: BASE + 61 * MINUTE, to: BASE + 64 * MINUTE }, // inside one interval of each level
    { to: BASE + 9 * 60 * MINUTE + 1 }, // open start
  ];
  let compared = 0;
  for (const level of ROLLUP_LEVELS) {
    for (const k of [1, 2, 3]) {
      for (const range of ranges) {
        const origin = Math.floor(BASE / level.ms) * level.ms - level.ms;
        const widthMs = k * level.ms;
        const raw = await rawBuckets(store.db, seriesId, {
          ...range,
          origin,
          widthUs: widthMs * 1000,
        });
        const rolled = await rollupBuckets(store.db, seriesId, level, {
          ...range,
          origin,
          widthMs,
        });
        assertSameBuckets(
          rolled,
          raw,
          `level ${level.ms} ms, width ${k}, ${JSON.stringify(range)}`,
        );
        compared += raw.length;
      }
    }
  }
  return compared;
}

storeTest(
  "rollupBuckets() answers the same buckets as rawBuckets() at every rollup level",
  async (store) => {
    const { seriesId } = await seed(store);
    const compared = await compareAllLevels(store, seriesId);
    assert.ok(compared > 1000, String(compared));
    // The migrations roll up the points stored before them.
    await migrateDown(store.db as never, { schema: store.schema! });
    await migrateDown(store.db as never, { schema: store.schema! });
    await migrateToLatest(store.db as never, { schema: store.schema! });
    assert.ok(await compareAllLevels(store, seriesId) === compared);
  },
);

storeTest(
  "countInRange() counts the points of a range from the hourly rollups and its partial ends",
  async (store) => {
    const { seriesId, times } = await seed(store);
    const ranges: BucketRange[] = [
      {},
      { from: BASE + 47 * MINUTE + 5_000, to: BASE + 31 * 60 * MINUTE + 11_000 },
      { from: Date.UTC(2026, 0, 1, 3), to: Date.UTC(2026, 0, 1, 20) },
      { from: BASE + 61 * MINUTE, to: BASE + 64 * MINUTE },
      { from: BASE + 61 * MINUTE },
    ];
    for (const r of ranges) {
      const expected = times.filter((t) => t >= (r.from ?? -Infinity) && t < (r.to ?? Infinity));
      assert.equal(await countInRange(store.db, seriesId, r), expected.length, JSON.stringify(r));
    }
  },
);

storeTest(
  "querySeries() picks the coarsest rollup level that fits and stays within maxPoints",
  async (store) => {
    const { seriesId, times, recipe, environment } = await seed(store);
    const key = { model: "mlp", recipe, environment, metric: "m" };
    // About 37 hours: 5-minute, 15-minute and hourly buckets.
    for (const [maxPoints, minutes] of [[300, 5], [100, 15], [20, 60], [5, 60]] as const) {
      assert.equal(pickLevel(times[0]!, times.at(-1)!, maxPoints)?.ms, minutes * MINUTE);
      const result = await querySeries(store.db, key, { maxPoints });
      assert.equal(result.seriesId, seriesId);
      assert.equal(result.downsampled, true);
      assert.equal(result.total, times.length);
      assert.ok(result.points.length <= maxPoints, `${result.points.length} > ${maxPoints}`);
      assert.ok(result.points.length > maxPoints / 3, `${result.points.length} << ${maxPoints}`);
      // Each bucket ends at its latest point: bucket ends are increasing points of the series.
      let seen = 0;
      for (const p of result.points) {
        seen += p.count!;
        assert.equal(p.time.getTime(), times[seen - 1]);
      }
    }
    // Buckets a little narrower than 5 minutes: 5 minutes; less than half of that: every point.
    assert.equal(pickLevel(times[0]!, times.at(-1)!, 500)?.ms, 5 * MINUTE);
    assert.equal(pickLevel(times[0]!, times.at(-1)!, 1000), undefined);
    assert.equal(pickLevel(0, 5 * MINUTE * 1000 - 1, 1000)?.ms, 5 * MINUTE);
    assert.equal(pickLevel(0, 5 * MINUTE * 1000, 1000)?.ms, 5 * MINUTE); // exactly 5 minutes
    // 4.999-minute buckets, but 5-minute ones from 00:00 would need 1001 of them.
    assert.equal(pickLevel(4 * MINUTE, 5003 * MINUTE, 1000), undefined);
  },
);
