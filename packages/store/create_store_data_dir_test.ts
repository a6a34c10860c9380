// Its own file: it starts PGlite twice (seconds each), apart from the shared instance.
import assert from "node:assert/strict";
import { createStore } from "./create_store.ts";
import { MIGRATIONS } from "./migrations.ts";

Deno.test({
  name: "createStore() keeps PGlite data in its data directory across restarts",
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const dir = await Deno.makeTempDir();
    try {
      const first = await createStore({ databaseUrl: null, dataDir: `${dir}/pg` });
      assert.deepEqual(first.migrated, Object.keys(MIGRATIONS));
      await first.db.insertInto("models").values({
        name: "kept",
        sha256: "c".repeat(64),
        size_bytes: 3,
      }).execute();
      await first.close();
      const second = await createStore({ databaseUrl: null, dataDir: `${dir}/pg` });
      assert.deepEqual(second.migrated, []);
      const rows = await second.db.selectFrom("models").select("name").execute();
      assert.deepEqual(rows, [{ name: "kept" }]);
      await second.close();
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});
