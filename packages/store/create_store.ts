/**
 * `createStore()`: the typed database of ModelPress, on a real Postgres (postgres.js through
 * kysely-postgres-js) or on embedded PGlite, migrated to the latest schema at start-up.
 * @module
 */
import { PGlite } from "@electric-sql/pglite";
import { Kysely, sql } from "kysely";
import { PostgresJSDialect } from "kysely-postgres-js";
import postgres from "postgres";
import type { Database } from "./database.ts";
import { ConflictError } from "./errors.ts";
import { migrateToLatest } from "./migrations.ts";
import { PgliteDialect } from "./pglite_dialect.ts";
import { StoreDialect } from "./_store_driver.ts";

/** Options of {@linkcode createStore}. */
export interface CreateStoreOptions {
  /**
   * A Postgres URL (`postgres://user@host:5432/db`). Default: the `DATABASE_URL` environment
   * variable; `null` ignores it and uses PGlite.
   */
  readonly databaseUrl?: string | null;
  /**
   * PGlite's data directory when there is no URL (default `./.data/pglite`); `":memory:"` keeps
   * everything in memory.
   */
  readonly dataDir?: string;
  /**
   * An open PGlite instance to use instead of making one (it is not closed by
   * {@linkcode Store.close}); tests share one, because starting PGlite takes seconds.
   */
  readonly pglite?: PGlite;
  /**
   * A schema to keep every table in (created when missing; `search_path` is set to it). Default:
   * the server's `public`.
   */
  readonly schema?: string;
  /** Most connections of the postgres.js pool (default 10). */
  readonly maxConnections?: number;
  /** Run the migrations at start-up (default true). */
  readonly migrate?: boolean;
}

/** What {@linkcode createStore} answers. */
export interface Store extends AsyncDisposable {
  /** The typed query builder over the store's tables. */
  readonly db: Kysely<Database>;
  /** Which database it runs on. */
  readonly kind: "postgres" | "pglite";
  /** The schema, when one was given. */
  readonly schema: string | undefined;
  /** The migrations that ran at start-up. */
  readonly migrated: readonly string[];
  /** Closes the connections (and PGlite, unless it was given). */
  close(): Promise<void>;
}

/** The default PGlite data directory. */
export const DEFAULT_DATA_DIR = "./.data/pglite";

/**
 * Opens the store: postgres.js when `databaseUrl` (or `DATABASE_URL`) is set, embedded PGlite
 * otherwise, both through the same Kysely query code; then runs the migrations under Postgres'
 * advisory lock, so that concurrent start-ups on one database migrate once. Driver errors come
 * back as `StoreError`s (`ConflictError` for unique violations, `MissingReferenceError` for
 * foreign keys) with the caller's stack.
 *
 * @param options URL, data directory or PGlite instance, schema, pool size.
 * @returns The store; close it when done.
 * @example
 * ```ts
 * import { createStore } from "@modelpress/store";
 * await using store = await createStore({ databaseUrl: null, dataDir: ":memory:" });
 * const models = await store.db.selectFrom("models").selectAll().execute();
 * console.log(models.length); // 0
 * ```
 */
export async function createStore(options: CreateStoreOptions = {}): Promise<Store> {
  const url = options.databaseUrl === undefined ? readEnv("DATABASE_URL") : options.databaseUrl;
  const schema = options.schema;
  let db: Kysely<Database>;
  let kind: Store["kind"];
  if (url) {
    kind = "postgres";
    const client = postgres(url, {
      max: options.maxConnections ?? 10,
      onnotice: () => {},
      ...(schema === undefined ? {} : { connection: { search_path: `${schema}, public` } }),
    });
    db = new Kysely<Database>({
      dialect: new StoreDialect(new PostgresJSDialect({ postgres: client })),
    });
  } else {
    kind = "pglite";
    const given = options.pglite;
    const dialect = new PgliteDialect({
      pglite: given ?? (() => openPglite(options.dataDir ?? DEFAULT_DATA_DIR)),
      close: given === undefined,
      ...(schema === undefined ? {} : { schema }),
    });
    db = new Kysely<Database>({ dialect: new StoreDialect(dialect) });
  }
  let migrated: string[] = [];
  try {
    if (schema !== undefined) await createSchema(db, schema);
    if (options.migrate !== false) {
      migrated = await migrateToLatest(db as Kysely<unknown>, { schema: schema ?? "public" });
    }
  } catch (error) {
    await db.destroy();
    throw error;
  }
  const close = (): Promise<void> => db.destroy();
  return Object.freeze({
    db,
    kind,
    schema,
    migrated: Object.freeze(migrated),
    close,
    [Symbol.asyncDispose]: close,
  });
}

async function createSchema(db: Kysely<Database>, schema: string): Promise<void> {
  try {
    await sql`create schema if not exists ${sql.id(schema)}`.execute(db);
  } catch (error) {
    // Two start-ups creating it at once: one wins, the other sees a unique violation.
    if (!(error instanceof ConflictError)) throw error;
  }
}

async function openPglite(dataDir: string): Promise<PGlite> {
  if (dataDir === ":memory:") return await PGlite.create();
  await Deno.mkdir(dataDir, { recursive: true });
  return await PGlite.create(dataDir);
}

function readEnv(name: string): string | undefined {
  try {
    return Deno.env.get(name) || undefined;
  } catch {
    return undefined; // no --allow-env: as if unset
  }
}
