/**
 * Runs the prune service: `PORT` (default 8102) on all interfaces, every pruning in a worker of
 * its own so that the server keeps answering while models are pruned.
 * `deno task start` runs it (see `infra/services.ts`).
 * @module
 */
import { loadDataset } from "@modelpress/evaluate";
import { createApp } from "./app.ts";
import { pruneInWorker } from "./prune_in_worker.ts";

if (import.meta.main) {
  Deno.serve(
    { port: Number(Deno.env.get("PORT") ?? 8102) },
    createApp({ prune: pruneInWorker, loadDataset }).fetch,
  );
}
