/**
 * Runs the benchmark service: `PORT` (default 8104) on all interfaces, on the Postgres of
 * `DATABASE_URL`, or on embedded PGlite in `MODELPRESS_DATA_DIR` (default `./.data/pglite`)
 * when it is unset. `BENCHMARK_WEBHOOK_URL` gets a POST per new regression.
 * `deno task start` runs it (see `infra/services.ts`).
 * @module
 */
import { createStore } from "@modelpress/store";
import { createApp } from "./app.ts";

if (import.meta.main) {
  const dataDir = Deno.env.get("MODELPRESS_DATA_DIR");
  const store = await createStore(dataDir ? { dataDir } : {});
  const webhookUrl = Deno.env.get("BENCHMARK_WEBHOOK_URL");
  const server = Deno.serve(
    { port: Number(Deno.env.get("PORT") ?? 8104) },
    createApp({ store, ...(webhookUrl ? { webhookUrl } : {}) }).fetch,
  );
  const stop = async (): Promise<void> => {
    await server.shutdown();
    await store.close();
    Deno.exit(0);
  };
  Deno.addSignalListener("SIGTERM", stop);
  Deno.addSignalListener("SIGINT", stop);
}
