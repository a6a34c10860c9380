/**
 * Runs the evaluate service: `PORT` (default 8103) on all interfaces, every evaluation in a
 * worker of its own so that the server keeps answering while models run.
 * `deno task start` runs it (see `infra/services.ts`).
 * @module
 */
import { loadDataset } from "@modelpress/evaluate";
import { createApp } from "./app.ts";
import { evaluateInWorker } from "./evaluate_in_worker.ts";

if (import.meta.main) {
  Deno.serve(
    { port: Number(Deno.env.get("PORT") ?? 8103) },
    createApp({ evaluate: evaluateInWorker, loadDataset }).fetch,
  );
}
