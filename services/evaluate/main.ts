/**
 * Runs the evaluate service: `PORT` (default 8103) on all interfaces, every evaluation in a
 * worker of its own so that the server keeps answering while models run. With `BENCHMARK_URL`
 * (such as `http://127.0.0.1:8104`), requests with a `record` field are recorded as runs in
 * the benchmark service there.
 * `deno task start` runs it (see `infra/services.ts`).
 * @module
 */
import { loadDataset } from "@modelpress/evaluate";
import { createApp } from "./app.ts";
import { benchmarkRecorder } from "./benchmark_recorder.ts";
import { evaluateInWorker } from "./evaluate_in_worker.ts";

if (import.meta.main) {
  const benchmarkUrl = Deno.env.get("BENCHMARK_URL");
  Deno.serve(
    { port: Number(Deno.env.get("PORT") ?? 8103) },
    createApp({
      evaluate: evaluateInWorker,
      loadDataset,
      ...(benchmarkUrl ? { record: benchmarkRecorder(benchmarkUrl) } : {}),
    }).fetch,
  );
}
