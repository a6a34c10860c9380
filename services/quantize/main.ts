/**
 * Runs the quantize service: `PORT` (default 8101) on all interfaces, every quantization in a
 * worker of its own so that the server keeps answering while models are quantized.
 * `deno task start` runs it (see `infra/services.ts`).
 * @module
 */
import { loadDataset } from "@modelpress/evaluate";
import { createApp } from "./app.ts";
import { quantizeInWorker } from "./quantize_in_worker.ts";

if (import.meta.main) {
  Deno.serve(
    { port: Number(Deno.env.get("PORT") ?? 8101) },
    createApp({ quantize: quantizeInWorker, loadDataset }).fetch,
  );
}
