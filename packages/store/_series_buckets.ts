/**
 * The two ways `querySeries` cuts a series into time buckets: from every point (`rawBuckets`), or
 * from the rollups of one level plus the points of the partial intervals at the range's ends
 * (`rollupBuckets`). Both answer the same buckets for the same origin and width whenever the
 * width is a multiple of the level's interval and the origin is aligned to it (tested).
 * @module
 */
import { type Kysely, type RawBuilder, sql } from "kysely";
import type { Database } from "./database.ts";
import { toNumber } from "./_sql.ts";

/** One bucket: its mean, min, max, count and latest run. */
export interface Bucket {
  /** The bucket's latest run (the largest id among equal latest times). */
  readonly runId: string;
  /** When the latest run started. */
  readonly time: Date;
  /** The mean. */
  readonly value: number;
  /** The smallest value. */
  readonly min: number;
  /** The largest value. */
  readonly max: number;
  /** How many runs. */
  readonly count: number;
}

/** A time range: from inclusive, to exclusive, in epoch milliseconds. */
export interface BucketRange {
  /** Only points at or after this time. */
  readonly from?: number;
  /** Only points before this time. */
  readonly to?: number;
}

/** A level of rollups: its interval, and the SQL of its rows of one series. */
export interface RollupLevel {
  /** The interval of a row, in milliseconds (every row's start is a multiple of it). */
  readonly ms: number;
  /** Its rows (start, min, max, sum, count, last_time, last_run_id) whose start is in a range. */
  rows(seriesId: number, range: BucketRange): RawBuilder<unknown>;
}

const MINUTE_MS = 60_000;
const HOUR_MS = 60 * MINUTE_MS;

const iso = (ms: number): string => new Date(ms).toISOString();

function rangeOf(column: string, range: BucketRange): RawBuilder<unknown> {
  const ref = sql.ref(column);
  const parts: RawBuilder<unknown>[] = [];
  if (range.from !== undefined) parts.push(sql`and ${ref} >= ${iso(range.from)}::timestamptz`);
  if (range.to !== undefined) parts.push(sql`and ${ref} < ${iso(range.to)}::timestamptz`);
  return sql.join(parts, sql` `);
}

function fineLevel(minutes: 5 | 15): RollupLevel {
  return {
    ms: minutes * MINUTE_MS,
    rows: (seriesId, range) =>
      sql`select start, min, max, sum, count, last_time, last_run_id from series_fine_rollups
        where series_id = ${seriesId} and minutes = ${minutes}::int2 ${rangeOf("start", range)}`,
  };
}

/**
 * The rollup levels, coarsest first: hourly (migration 0002), 15 and 5 minutes (migration 0003).
 */
export const ROLLUP_LEVELS: readonly RollupLevel[] = [
  {
    ms: HOUR_MS,
    rows: (seriesId, range) =>
      sql`select hour as start, min, max, sum, count, last_time, last_run_id from series_rollups
        where series_id = ${seriesId} ${rangeOf("hour", range)}`,
  },
  fineLevel(15),
  fineLevel(5),
];

/**
 * The rollup level to cut the points from `first` to `last` (epoch ms) into at most `maxPoints`
 * buckets: the coarsest level whose interval fits in a bucket of `(last - first) / maxPoints`;
 * else the finest level, when buckets of its interval are at most `maxPoints` and at most twice
 * that width (as a coarser level may round a bucket up to nearly twice); else undefined (then:
 * every point).
 */
export function pickLevel(
  first: number,
  last: number,
  maxPoints: number,
): RollupLevel | undefined {
  const width = (last - first) / maxPoints;
  const level = ROLLUP_LEVELS.find((level) => width >= level.ms);
  if (level) return level;
  const finest = ROLLUP_LEVELS.at(-1)!;
  const origin = Math.floor(first / finest.ms) * finest.ms;
  return width * 2 >= finest.ms && last - origin < maxPoints * finest.ms ? finest : undefined;
}

/** A bucket row as answered: the time as epoch milliseconds (cheaper to read than a timestamp). */
interface BucketRow {
  time: number | string;
  min: number;
  max: number;
  mean: number;
  count: number | string;
  run_id: string | null;
}

function toBuckets(rows: readonly BucketRow[]): Bucket[] {
  return rows.map((r) => ({
    runId: r.run_id!,
    time: new Date(Number(r.time)),
    value: Number(r.mean),
    min: Number(r.min),
    max: Number(r.max),
    count: toNumber(r.count),
  }));
}

/**
 * Buckets of `widthUs` microseconds from `origin` over every point in the range: one index range
 * scan of `metrics (series_id, time)`, then one index probe per bucket for its latest run.
 */
export async function rawBuckets(
  db: Kysely<Database>,
  seriesId: number,
  options: BucketRange & { origin: number; widthUs: number },
): Promise<Bucket[]> {
  let range = db.selectFrom("metrics").where("series_id", "=", seriesId);
  if (options.from !== undefined) range = range.where("time", ">=", new Date(options.from));
  if (options.to !== undefined) range = range.where("time", "<", new Date(options.to));
  // date_bin is several times cheaper per row than arithmetic on extract(epoch ...).
  const bucket = sql<Date>`date_bin(${options.widthUs}::float8 * interval '1 microsecond', time,
    ${iso(options.origin)}::timestamptz)`;
  const buckets = range.select((eb) => [
    bucket.as("bucket"),
    eb.fn.min("value").as("min"),
    eb.fn.max("value").as("max"),
    sql<number>`avg(value)::float8`.as("mean"),
    eb.fn.countAll<string | number>().as("count"),
    eb.fn.max("time").as("time"),
  ]).groupBy(sql`1`);
  // Each bucket's latest run: one index probe per bucket, not a sort of the whole range.
  const rows = await db.selectFrom(buckets.as("b"))
    .select([
      "b.min",
      "b.max",
      "b.mean",
      sql<number>`b.count::int4`.as("count"),
      sql<number>`(extract(epoch from b.time) * 1000)::float8`.as("time"),
    ])
    .select((eb) =>
      eb.selectFrom("metrics as m").select("m.run_id")
        .where("m.series_id", "=", seriesId).whereRef("m.time", "=", "b.time")
        .orderBy("m.run_id", "desc").limit(1).as("run_id")
    )
    .orderBy("b.bucket").execute();
  return toBuckets(rows);
}

/** A range split at a level: its whole intervals (for the rollups), and its partial ends. */
function split(
  level: RollupLevel,
  range: BucketRange,
): { full: BucketRange; edges: RawBuilder<unknown> | undefined } {
  const { from, to } = range;
  const full = {
    ...(from === undefined ? {} : { from: Math.ceil(from / level.ms) * level.ms }),
    ...(to === undefined ? {} : { to: Math.floor(to / level.ms) * level.ms }),
  };
  const edges: RawBuilder<unknown>[] = [];
  if (full.from !== undefined && from !== full.from) {
    edges.push(sql`time < ${iso(full.from)}::timestamptz`);
  }
  if (full.to !== undefined && to !== full.to) {
    edges.push(sql`time >= ${iso(full.to)}::timestamptz`);
  }
  return { full, edges: edges.length === 0 ? undefined : sql.join(edges, sql` or `) };
}

/**
 * How many points a series has in a range, from the coarsest rollups plus the points of the
 * partial intervals at the range's ends: one row per hour at most, whatever the planner knows.
 */
export async function countInRange(
  db: Kysely<Database>,
  seriesId: number,
  range: BucketRange,
): Promise<number> {
  const level = ROLLUP_LEVELS[0]!;
  const { full, edges } = split(level, range);
  const points = edges === undefined ? sql`` : sql`
    union all
    select count(*) from metrics
    where series_id = ${seriesId} ${rangeOf("time", range)} and (${edges})`;
  const result = await sql<{ n: string | number | null }>`
    select sum(n)::int8 as n from (
      select sum(count) as n from (${level.rows(seriesId, full)}) r
      ${points}
    ) c`.execute(db);
  return toNumber(result.rows[0]?.n);
}

/**
 * Buckets of `widthMs` from `origin` (both multiples of the level's interval) read from the
 * level's rollups for the intervals wholly inside the range, and from the points themselves for
 * the partial intervals at its ends: the same answer as {@linkcode rawBuckets}, from one row per
 * interval.
 */
export async function rollupBuckets(
  db: Kysely<Database>,
  seriesId: number,
  level: RollupLevel,
  options: BucketRange & { origin: number; widthMs: number },
): Promise<Bucket[]> {
  const { origin, widthMs } = options;
  if (origin % level.ms !== 0 || widthMs % level.ms !== 0) {
    throw new RangeError(
      `Cannot bucket series ${seriesId}: origin and width must be multiples of ${level.ms} ms`,
    );
  }
  const { full, edges } = split(level, options);
  const width = sql`${widthMs}::float8 * interval '1 millisecond'`;
  const start = sql`${iso(origin)}::timestamptz`;
  const points = edges === undefined ? sql`` : sql`
      union all
      select time, value, value, value, 1, time, run_id
      from metrics
      where series_id = ${seriesId} ${rangeOf("time", options)} and (${edges})`;
  if (widthMs === level.ms && edges === undefined) {
    // One rollup row per bucket: nothing to merge.
    const rows = await sql<BucketRow>`
      select min, max, (sum / count)::float8 as mean, count,
        (extract(epoch from last_time) * 1000)::float8 as time, last_run_id as run_id
      from (${level.rows(seriesId, full)}) r
      order by start`.execute(db);
    return toBuckets(rows.rows);
  }
  // Each bucket's latest run: the first of its rows by (last_time, last_run_id) descending, from
  // one sort of all rows (not one per bucket, as array_agg(... order by) would do).
  const result = await sql<BucketRow>`
    select min(min) as min, max(max) as max, (sum(sum) / sum(count))::float8 as mean,
      sum(count)::int4 as count, (extract(epoch from max(last_time)) * 1000)::float8 as time,
      (array_agg(latest))[1] as run_id
    from (
      select bucket, min, max, sum, count, last_time, first_value(last_run_id) over (
        partition by bucket order by last_time desc, last_run_id desc) as latest
      from (
        select date_bin(${width}, start, ${start}) as bucket, min, max, sum, count, last_time,
          last_run_id
        from (
          select start, min, max, sum, count, last_time, last_run_id
          from (${level.rows(seriesId, full)}) r
          ${points}
        ) u
      ) parts
    ) ranked
    group by bucket order by bucket`.execute(db);
  return toBuckets(result.rows);
}
