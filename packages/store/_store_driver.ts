/**
 * A dialect wrapper that rethrows every driver error as a store error (domain errors for
 * constraint violations) with the stack of the code that issued the query.
 * @module
 */
import type {
  CompiledQuery,
  DatabaseConnection,
  DatabaseIntrospector,
  Dialect,
  DialectAdapter,
  Driver,
  Kysely,
  QueryCompiler,
  QueryResult,
  TransactionSettings,
} from "kysely";
import { toStoreError } from "./errors.ts";

/** Wraps a dialect so that its driver's errors become store errors. */
export class StoreDialect implements Dialect {
  readonly #inner: Dialect;

  constructor(inner: Dialect) {
    this.#inner = inner;
  }

  createAdapter(): DialectAdapter {
    return this.#inner.createAdapter();
  }

  createDriver(): Driver {
    return new StoreDriver(this.#inner.createDriver());
  }

  // deno-lint-ignore no-explicit-any
  createIntrospector(db: Kysely<any>): DatabaseIntrospector {
    return this.#inner.createIntrospector(db);
  }

  createQueryCompiler(): QueryCompiler {
    return this.#inner.createQueryCompiler();
  }
}

class StoreConnection implements DatabaseConnection {
  readonly inner: DatabaseConnection;

  constructor(inner: DatabaseConnection) {
    this.inner = inner;
  }

  async executeQuery<R>(compiledQuery: CompiledQuery): Promise<QueryResult<R>> {
    const trace = new Error();
    try {
      return await this.inner.executeQuery<R>(compiledQuery);
    } catch (error) {
      throw toStoreError(error, trace);
    }
  }

  streamQuery<R>(
    compiledQuery: CompiledQuery,
    chunkSize: number,
  ): AsyncIterableIterator<QueryResult<R>> {
    return this.inner.streamQuery<R>(compiledQuery, chunkSize);
  }
}

class StoreDriver implements Driver {
  readonly #inner: Driver;
  readonly #wrapped = new WeakMap<DatabaseConnection, StoreConnection>();

  constructor(inner: Driver) {
    this.#inner = inner;
  }

  async init(): Promise<void> {
    const trace = new Error();
    try {
      await this.#inner.init();
    } catch (error) {
      throw toStoreError(error, trace);
    }
  }

  async acquireConnection(): Promise<DatabaseConnection> {
    const trace = new Error();
    let inner: DatabaseConnection;
    try {
      inner = await this.#inner.acquireConnection();
    } catch (error) {
      throw toStoreError(error, trace);
    }
    let wrapped = this.#wrapped.get(inner);
    if (!wrapped) {
      wrapped = new StoreConnection(inner);
      this.#wrapped.set(inner, wrapped);
    }
    return wrapped;
  }

  beginTransaction(connection: DatabaseConnection, settings: TransactionSettings): Promise<void> {
    return this.#run(() => this.#inner.beginTransaction(unwrap(connection), settings));
  }

  commitTransaction(connection: DatabaseConnection): Promise<void> {
    return this.#run(() => this.#inner.commitTransaction(unwrap(connection)));
  }

  rollbackTransaction(connection: DatabaseConnection): Promise<void> {
    return this.#run(() => this.#inner.rollbackTransaction(unwrap(connection)));
  }

  releaseConnection(connection: DatabaseConnection): Promise<void> {
    return this.#inner.releaseConnection(unwrap(connection));
  }

  destroy(): Promise<void> {
    return this.#inner.destroy();
  }

  async #run(fn: () => Promise<void>): Promise<void> {
    const trace = new Error();
    try {
      await fn();
    } catch (error) {
      throw toStoreError(error, trace);
    }
  }
}

function unwrap(connection: DatabaseConnection): DatabaseConnection {
  return connection instanceof StoreConnection ? connection.inner : connection;
}
