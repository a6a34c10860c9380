import assert from "node:assert/strict";
import { sql } from "kysely";
import { createStore } from "./create_store.ts";
import { ConflictError, MissingReferenceError, StoreError } from "./errors.ts";
import { migrateDown, migrateToLatest, MIGRATIONS } from "./migrations.ts";
import { databaseUrl, randomSchema, sharedPglite, storeTest } from "./_testing.ts";

storeTest("createStore() migrates to the latest schema once", async (store) => {
  assert.deepEqual(store.migrated, Object.keys(MIGRATIONS));
  const tables = await sql<{ name: string }>`
    select table_name as name from information_schema.tables
    where table_schema = ${store.schema} order by 1`.execute(store.db);
  const names = tables.rows.map((r) => r.name);
  for (const table of ["models", "recipes", "environments", "runs", "params", "metrics"]) {
    assert.ok(names.includes(table), `${table} in ${names.join(", ")}`);
  }
  // Running again finds nothing to do.
  assert.deepEqual(await migrateToLatest(store.db as never, { schema: store.schema! }), []);
});

storeTest("migrateDown() drops every table and migrateToLatest() restores them", async (store) => {
  const opts = { schema: store.schema! };
  assert.equal(await migrateDown(store.db as never, opts), "0003_series_fine_rollups");
  assert.equal(await migrateDown(store.db as never, opts), "0002_series_rollups");
  assert.equal(await migrateDown(store.db as never, opts), "0001_initial");
  assert.equal(await migrateDown(store.db as never, opts), undefined);
  const count = async (): Promise<number> =>
    Number(
      (await sql<{ n: number }>`select count(*)::int as n from information_schema.tables
        where table_schema = ${store.schema} and table_name = 'runs'`.execute(store.db)).rows[0]
        ?.n,
    );
  assert.equal(await count(), 0);
  assert.deepEqual(await migrateToLatest(store.db as never, opts), Object.keys(MIGRATIONS));
  assert.equal(await count(), 1);
});

storeTest(
  "createStore() turns constraint violations into domain errors with the caller's stack",
  async (store) => {
    const row = { name: "m", sha256: "a".repeat(64), size_bytes: 1 };
    await store.db.insertInto("models").values(row).execute();
    async function insertAgainHere(): Promise<void> {
      await store.db.insertInto("models").values(row).execute();
    }
    const conflict = await insertAgainHere().catch((e) => e);
    assert.ok(conflict instanceof ConflictError, String(conflict));
    assert.equal(conflict.sqlState, "23505");
    assert.equal(conflict.constraint, "models_name_sha256_key");
    assert.match(conflict.stack ?? "", /insertAgainHere/);
    const missing = await store.db.insertInto("series").values({
      model_name: "m",
      recipe_id: 12345,
      environment_id: 1,
      metric: "x",
    }).execute().catch((e) => e);
    assert.ok(missing instanceof MissingReferenceError, String(missing));
    const syntax = await sql`select from nowhere_at_all`.execute(store.db).catch((e) => e);
    assert.ok(syntax instanceof StoreError);
    assert.equal(syntax.sqlState, "42P01");
    assert.match(syntax.message, /^Cannot run query: relation "nowhere_at_all" does not exist/);
  },
);

storeTest(
  "createStore() runs a transaction's queries in order and rolls back on error",
  async (store) => {
    const failed = await store.db.transaction().execute(async (trx) => {
      await trx.insertInto("models").values({ name: "t", sha256: "b".repeat(64), size_bytes: 2 })
        .execute();
      throw new RangeError("stop");
    }).catch((e) => e);
    assert.ok(failed instanceof RangeError);
    const rows = await store.db.selectFrom("models").selectAll().execute();
    assert.equal(rows.length, 0);
  },
);

Deno.test({
  name: "createStore() on two PGlite schemas of one instance keeps them apart",
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const pglite = await sharedPglite();
    const [a, b] = [randomSchema(), randomSchema()];
    const sa = await createStore({ databaseUrl: null, pglite, schema: a });
    const sb = await createStore({ databaseUrl: null, pglite, schema: b });
    try {
      await sa.db.insertInto("models").values({ name: "a", sha256: "d".repeat(64), size_bytes: 1 })
        .execute();
      assert.equal((await sb.db.selectFrom("models").selectAll().execute()).length, 0);
      assert.equal((await sa.db.selectFrom("models").selectAll().execute()).length, 1);
    } finally {
      await sql`drop schema ${sql.id(a)} cascade`.execute(sa.db);
      await sql`drop schema ${sql.id(b)} cascade`.execute(sb.db);
      await sa.close();
      await sb.close();
    }
  },
});

Deno.test({
  name: "createStore() called twice at once on the real server migrates once",
  ignore: databaseUrl() === undefined,
  async fn() {
    const schema = randomSchema();
    const url = databaseUrl()!;
    const [a, b] = await Promise.all([
      createStore({ databaseUrl: url, schema, maxConnections: 2 }),
      createStore({ databaseUrl: url, schema, maxConnections: 2 }),
    ]);
    try {
      // Exactly one of them ran the migration; the other found it done under the lock.
      assert.deepEqual([...a.migrated, ...b.migrated], Object.keys(MIGRATIONS));
      const done = await sql<{ name: string }>`select name from ${sql.id(schema)}.kysely_migration`
        .execute(a.db);
      assert.deepEqual(done.rows.map((r) => r.name).sort(), Object.keys(MIGRATIONS));
    } finally {
      await sql`drop schema ${sql.id(schema)} cascade`.execute(a.db);
      await a.close();
      await b.close();
    }
  },
});
