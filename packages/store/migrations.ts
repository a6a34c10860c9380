/**
 * The store's migrations, in order, each with `up` and `down`, and the functions that run them
 * (Kysely's Migrator, which holds a Postgres advisory lock while it migrates).
 * @module
 */
import { type Kysely, sql } from "kysely";
import { type Migration, type MigrationResultSet, Migrator } from "kysely/migration";

/** The first migration: every table and index. */
const INITIAL: Migration = {
  async up(db: Kysely<unknown>): Promise<void> {
    await sql`
      create table models (
        id integer generated always as identity primary key,
        name text not null,
        sha256 text not null check (sha256 ~ '^[0-9a-f]{64}$'),
        size_bytes bigint not null check (size_bytes >= 0),
        created_at timestamptz not null default now(),
        unique (name, sha256)
      )`.execute(db);
    await sql`
      create table recipes (
        id integer generated always as identity primary key,
        hash text not null unique,
        name text,
        config jsonb not null,
        created_at timestamptz not null default now()
      )`.execute(db);
    await sql`
      create table environments (
        id integer generated always as identity primary key,
        hash text not null unique,
        cpu_model text not null,
        cores integer not null check (cores > 0),
        runtime text not null,
        backend text not null,
        details jsonb not null default '{}',
        created_at timestamptz not null default now()
      )`.execute(db);
    await sql`
      create table runs (
        id uuid primary key,
        model_id integer not null references models (id),
        recipe_id integer not null references recipes (id),
        environment_id integer not null references environments (id),
        payload_hash text not null,
        status text not null check (status in ('running', 'finished', 'failed')),
        started_at timestamptz not null,
        ended_at timestamptz,
        git_commit text,
        branch text,
        tags jsonb not null default '{}',
        report jsonb,
        created_at timestamptz not null default now()
      )`.execute(db);
    await sql`create index runs_started_at on runs (started_at desc, id desc)`.execute(db);
    await sql`create index runs_model on runs (model_id, started_at desc)`.execute(db);
    await sql`create index runs_tags on runs using gin (tags jsonb_path_ops)`.execute(db);
    await sql`
      create table params (
        run_id uuid not null references runs (id) on delete cascade,
        key text not null,
        value jsonb not null,
        primary key (run_id, key)
      )`.execute(db);
    await sql`create index params_key_value on params (key, value)`.execute(db);
    await sql`
      create table series (
        id integer generated always as identity primary key,
        model_name text not null,
        recipe_id integer not null references recipes (id),
        environment_id integer not null references environments (id),
        metric text not null,
        baseline_run_id uuid references runs (id) on delete set null,
        unique (model_name, recipe_id, environment_id, metric)
      )`.execute(db);
    await sql`
      create table metrics (
        run_id uuid not null references runs (id) on delete cascade,
        series_id integer not null references series (id),
        name text not null,
        value float8 not null,
        unit text,
        samples float8[],
        time timestamptz not null,
        primary key (run_id, name)
      )`.execute(db);
    // A series is one range of this index; `value` included so that downsampling reads the
    // index alone.
    await sql`create index metrics_series_time on metrics (series_id, time, run_id) include (value)`
      .execute(db);
    await sql`
      create table regressions (
        id uuid primary key default gen_random_uuid(),
        run_id uuid not null references runs (id) on delete cascade,
        series_id integer not null references series (id),
        metric text not null,
        baseline_value float8 not null,
        baseline_run_ids uuid[] not null,
        value float8 not null,
        change float8 not null,
        relative_change float8 not null,
        p_value float8,
        test text not null,
        message text not null,
        status text not null default 'open' check (status in ('open', 'acknowledged', 'fixed')),
        created_at timestamptz not null default now(),
        updated_at timestamptz not null default now(),
        unique (run_id, series_id)
      )`.execute(db);
    await sql`create index regressions_status on regressions (status, created_at desc)`
      .execute(db);
    await sql`create index regressions_series on regressions (series_id)`.execute(db);
    await sql`
      create table change_points (
        id integer generated always as identity primary key,
        series_id integer not null references series (id),
        run_id uuid not null references runs (id) on delete cascade,
        time timestamptz not null,
        p_value float8 not null,
        mean_before float8 not null,
        mean_after float8 not null,
        created_at timestamptz not null default now(),
        unique (series_id, run_id)
      )`.execute(db);
  },
  async down(db: Kysely<unknown>): Promise<void> {
    for (
      const table of [
        "change_points",
        "regressions",
        "metrics",
        "series",
        "params",
        "runs",
        "environments",
        "recipes",
        "models",
      ]
    ) {
      await sql`drop table if exists ${sql.table(table)}`.execute(db);
    }
  },
};

/**
 * Hourly rollups of every series (min, max, sum, count, latest run), kept up to date at ingest,
 * so that downsampling a long series reads one row per hour instead of one per run. Existing
 * points are rolled up when the migration runs.
 */
const SERIES_ROLLUPS: Migration = {
  async up(db: Kysely<unknown>): Promise<void> {
    await sql`
      create table series_rollups (
        series_id integer not null references series (id),
        hour timestamptz not null,
        min float8 not null,
        max float8 not null,
        sum float8 not null,
        count integer not null,
        last_time timestamptz not null,
        last_run_id uuid not null,
        primary key (series_id, hour)
      )`.execute(db);
    await sql`
      insert into series_rollups
      select distinct on (series_id, date_trunc('hour', time, 'UTC'))
        series_id, date_trunc('hour', time, 'UTC'),
        min(value) over w, max(value) over w, sum(value) over w, count(*) over w, time, run_id
      from metrics
      window w as (partition by series_id, date_trunc('hour', time, 'UTC'))
      order by series_id, date_trunc('hour', time, 'UTC'), time desc, run_id desc`.execute(db);
  },
  async down(db: Kysely<unknown>): Promise<void> {
    await sql`drop table if exists series_rollups`.execute(db);
  },
};

/**
 * Rollups of every series over 5- and 15-minute intervals (UTC, aligned to the epoch), kept up to
 * date at ingest beside the hourly ones, so that downsampling into buckets narrower than an hour
 * reads one row per interval instead of one per run. Existing points are rolled up when the
 * migration runs.
 */
const SERIES_FINE_ROLLUPS: Migration = {
  async up(db: Kysely<unknown>): Promise<void> {
    await sql`
      create table series_fine_rollups (
        series_id integer not null references series (id),
        minutes smallint not null check (minutes in (5, 15)),
        start timestamptz not null,
        min float8 not null,
        max float8 not null,
        sum float8 not null,
        count integer not null,
        last_time timestamptz not null,
        last_run_id uuid not null,
        primary key (series_id, minutes, start)
      )`.execute(db);
    for (const minutes of [5, 15]) {
      await sql`
        insert into series_fine_rollups
        select distinct on (series_id, start)
          series_id, ${sql.lit(minutes)}, start,
          min(value) over w, max(value) over w, sum(value) over w, count(*) over w, time, run_id
        from (
          select series_id, value, time, run_id,
            date_bin(${sql.lit(minutes)} * interval '1 minute', time, timestamptz 'epoch') as start
          from metrics
        ) m
        window w as (partition by series_id, start)
        order by series_id, start, time desc, run_id desc`.execute(db);
    }
  },
  async down(db: Kysely<unknown>): Promise<void> {
    await sql`drop table if exists series_fine_rollups`.execute(db);
  },
};

/** The migrations by name; names sort in the order they run. */
export const MIGRATIONS: Readonly<Record<string, Migration>> = Object.freeze({
  "0001_initial": INITIAL,
  "0002_series_rollups": SERIES_ROLLUPS,
  "0003_series_fine_rollups": SERIES_FINE_ROLLUPS,
});

/** Options of {@linkcode migrateToLatest} and {@linkcode migrateDown}. */
export interface MigrateOptions {
  /** The schema of Kysely's migration bookkeeping tables (default: the search_path's first). */
  readonly schema?: string;
}

function migrator(db: Kysely<unknown>, options: MigrateOptions): Migrator {
  return new Migrator({
    db,
    provider: { getMigrations: () => Promise.resolve({ ...MIGRATIONS }) },
    ...(options.schema === undefined ? {} : { migrationTableSchema: options.schema }),
  });
}

function check(results: MigrationResultSet, what: string): MigrationResultSet {
  if (results.error !== undefined) {
    const failed = results.results?.find((r) => r.status === "Error")?.migrationName ?? "?";
    throw new Error(`Cannot ${what} migration '${failed}': ${errorMessage(results.error)}`, {
      cause: results.error,
    });
  }
  return results;
}

function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/**
 * Runs every migration not yet run, in order, in one transaction under a Postgres advisory lock
 * (Kysely's Migrator takes `pg_advisory_lock`), so that concurrent start-ups migrate once.
 *
 * @param db The database.
 * @param options The bookkeeping schema.
 * @returns The names of the migrations that ran now.
 * @throws {Error} When a migration fails (nothing of the run is kept).
 * @example
 * ```ts ignore
 * import { migrateToLatest } from "@modelpress/store";
 * await migrateToLatest(store.db); // [] when up to date
 * ```
 */
export async function migrateToLatest(
  db: Kysely<unknown>,
  options: MigrateOptions = {},
): Promise<string[]> {
  const results = check(await migrator(db, options).migrateToLatest(), "run");
  return (results.results ?? []).map((r) => r.migrationName);
}

/**
 * Undoes the last migration that ran (its `down`), under the same lock.
 *
 * @param db The database.
 * @param options The bookkeeping schema.
 * @returns The name of the migration undone, or undefined when none had run.
 * @throws {Error} When the migration's `down` fails.
 * @example
 * ```ts ignore
 * import { migrateDown } from "@modelpress/store";
 * await migrateDown(store.db); // "0001_initial"
 * ```
 */
export async function migrateDown(
  db: Kysely<unknown>,
  options: MigrateOptions = {},
): Promise<string | undefined> {
  const results = check(await migrator(db, options).migrateDown(), "undo");
  return results.results?.[0]?.migrationName;
}
