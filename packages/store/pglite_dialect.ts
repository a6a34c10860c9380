/**
 * A Kysely dialect for PGlite (Postgres in WebAssembly): Postgres' adapter, introspector and
 * query compiler, and a driver that runs compiled queries on one PGlite instance.
 * @module
 */
import type { PGlite } from "@electric-sql/pglite";
import {
  CompiledQuery,
  type DatabaseConnection,
  type DatabaseIntrospector,
  type Dialect,
  type DialectAdapter,
  type Driver,
  type Kysely,
  PostgresAdapter,
  PostgresIntrospector,
  PostgresQueryCompiler,
  type QueryCompiler,
  type QueryResult,
  type TransactionSettings,
} from "kysely";

/** Options of {@linkcode PgliteDialect}. */
export interface PgliteDialectOptions {
  /** The PGlite instance, or a function that makes it when the driver starts. */
  readonly pglite: PGlite | (() => Promise<PGlite>);
  /** Set `search_path` to this schema before every use (for several stores on one instance). */
  readonly schema?: string;
  /** Close the instance when the Kysely instance is destroyed (default true). */
  readonly close?: boolean;
}

/**
 * The Kysely dialect of PGlite. PGlite is one Postgres session, so the driver hands out one
 * connection at a time: a transaction holds it until commit or rollback, and other queries wait.
 *
 * @example
 * ```ts
 * import { PGlite } from "@electric-sql/pglite";
 * import { Kysely, sql } from "kysely";
 * import { PgliteDialect } from "@modelpress/store";
 * const db = new Kysely<Record<string, never>>({
 *   dialect: new PgliteDialect({ pglite: () => PGlite.create() }),
 * });
 * console.log((await sql<{ one: number }>`select 1 as one`.execute(db)).rows[0]?.one); // 1
 * await db.destroy();
 * ```
 */
export class PgliteDialect implements Dialect {
  readonly #options: PgliteDialectOptions;

  /**
   * Makes the dialect.
   *
   * @param options The instance (or its factory), the schema, and whether to close it.
   */
  constructor(options: PgliteDialectOptions) {
    this.#options = Object.freeze({ ...options });
  }

  /** @returns Postgres' adapter. */
  createAdapter(): DialectAdapter {
    return new PostgresAdapter();
  }

  /** @returns The PGlite driver. */
  createDriver(): Driver {
    return new PgliteDriver(this.#options);
  }

  /**
   * @param db The Kysely instance.
   * @returns Postgres' introspector.
   */
  // deno-lint-ignore no-explicit-any
  createIntrospector(db: Kysely<any>): DatabaseIntrospector {
    return new PostgresIntrospector(db);
  }

  /** @returns Postgres' query compiler. */
  createQueryCompiler(): QueryCompiler {
    return new PostgresQueryCompiler();
  }
}

/** The search_path each instance was last set to, shared by every driver over it. */
const SEARCH_PATHS = new WeakMap<PGlite, string>();

class PgliteDriver implements Driver {
  readonly #options: PgliteDialectOptions;
  #pglite: PGlite | undefined;
  #connection: PgliteConnection | undefined;
  /** Resolves when the connection is free; each acquirer chains onto it. */
  #free: Promise<void> = Promise.resolve();
  #release: (() => void) | undefined;

  constructor(options: PgliteDialectOptions) {
    this.#options = options;
  }

  async init(): Promise<void> {
    const source = this.#options.pglite;
    this.#pglite = typeof source === "function" ? await source() : source;
    this.#connection = new PgliteConnection(this.#pglite);
  }

  async acquireConnection(): Promise<DatabaseConnection> {
    const previous = this.#free;
    let release!: () => void;
    this.#free = new Promise<void>((resolve) => release = resolve);
    await previous;
    this.#release = release;
    const pglite = this.#pglite;
    const connection = this.#connection;
    if (!pglite || !connection) {
      release();
      throw new Error("Cannot acquire a PGlite connection: the driver is not initialized");
    }
    const schema = this.#options.schema;
    if (schema !== undefined && SEARCH_PATHS.get(pglite) !== schema) {
      await pglite.query(`set search_path to ${quoteIdentifier(schema)}, public`);
      SEARCH_PATHS.set(pglite, schema);
    }
    return connection;
  }

  async beginTransaction(
    connection: DatabaseConnection,
    settings: TransactionSettings,
  ): Promise<void> {
    const parts = ["start transaction"];
    if (settings.isolationLevel) parts.push(`isolation level ${settings.isolationLevel}`);
    if (settings.accessMode) parts.push(settings.accessMode);
    await connection.executeQuery(CompiledQuery.raw(parts.join(" ")));
  }

  async commitTransaction(connection: DatabaseConnection): Promise<void> {
    await connection.executeQuery(CompiledQuery.raw("commit"));
  }

  async rollbackTransaction(connection: DatabaseConnection): Promise<void> {
    await connection.executeQuery(CompiledQuery.raw("rollback"));
  }

  releaseConnection(): Promise<void> {
    const release = this.#release;
    this.#release = undefined;
    release?.();
    return Promise.resolve();
  }

  async destroy(): Promise<void> {
    const pglite = this.#pglite;
    this.#pglite = undefined;
    this.#connection = undefined;
    if (pglite && this.#options.close !== false && !pglite.closed) await pglite.close();
  }
}

class PgliteConnection implements DatabaseConnection {
  readonly #pglite: PGlite;

  constructor(pglite: PGlite) {
    this.#pglite = pglite;
  }

  async executeQuery<R>(compiledQuery: CompiledQuery): Promise<QueryResult<R>> {
    const result = await this.#pglite.query<R>(
      compiledQuery.sql,
      compiledQuery.parameters as unknown[],
      { rowMode: "object" },
    );
    const command = compiledQuery.sql.trimStart().slice(0, 6).toLowerCase();
    const changes = command === "insert" || command === "update" || command === "delete" ||
      command === "merge ";
    return {
      rows: result.rows,
      ...(changes ? { numAffectedRows: BigInt(result.affectedRows ?? 0) } : {}),
    };
  }

  // deno-lint-ignore require-yield
  async *streamQuery<R>(): AsyncIterableIterator<QueryResult<R>> {
    throw new Error("Cannot stream a query on PGlite: use a limit and paginate");
  }
}

/**
 * Quotes a Postgres identifier.
 *
 * @param name The identifier.
 * @returns It in double quotes, inner quotes doubled.
 * @example
 * ```ts
 * import { quoteIdentifier } from "@modelpress/store";
 * console.log(quoteIdentifier('a"b')); // "a""b"
 * ```
 */
export function quoteIdentifier(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}
