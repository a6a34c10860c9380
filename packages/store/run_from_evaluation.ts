/**
 * The evaluation service's report as a run to ingest.
 * @module
 */
import type { EvaluationReport } from "@modelpress/evaluate";
import type { JsonValue } from "./database.ts";
import type { EnvironmentInput, MetricInput, RunInfoInput, RunInput } from "./ingest.ts";

/** What a report does not say about its run: who, which recipe, where, when. */
export interface EvaluationContext {
  /** The model's name. */
  readonly model: string;
  /** The recipe that made the model (`{}` for the original). */
  readonly recipe: { readonly config: JsonValue; readonly name?: string };
  /** The run (id, times, git, tags). */
  readonly run: RunInfoInput;
  /** Where it ran; the report's backend (runtime version, providers, threads) is added. */
  readonly environment: Omit<EnvironmentInput, "runtime" | "backend"> & {
    readonly runtime?: string;
    readonly backend?: string;
  };
  /** Parameters. */
  readonly params?: { readonly [key: string]: JsonValue };
  /** The compression report, stored with the run. */
  readonly report?: JsonValue;
}

/**
 * Turns an evaluation report (`evaluateModel` of `@modelpress/evaluate`, or the evaluate
 * service's `result`, parsed with `reportFromJson`) into a run: `size_bytes`, `gzip_bytes`,
 * `params` (parameters), `sparsity`, `macs`, `accuracy`, `accuracy_top{k}`, per output
 * `fidelity_{cosine,agreement,sqnr_db}.{output}`, and `latency_ms` (median, raw samples kept)
 * with `latency_p90_ms`, `latency_p99_ms`, `throughput`. Non-finite values (an SQNR of Infinity
 * for identical outputs) are left out, since series hold finite numbers.
 *
 * @param report The evaluation report.
 * @param context Model name, recipe, run and environment.
 * @returns The run to ingest.
 * @example
 * ```ts ignore
 * import { evaluateModel, loadDataset } from "@modelpress/evaluate";
 * import { ingestRun, runFromEvaluation } from "@modelpress/store";
 * const report = await evaluateModel(bytes, { dataset: await loadDataset("mnist") });
 * await ingestRun(store.db, runFromEvaluation(report, {
 *   model: "mnist_mlp",
 *   recipe: { config: { method: "dynamic" } },
 *   run: { id: crypto.randomUUID(), startedAt: new Date() },
 *   environment: { cpuModel: "x86_64", cores: 2 },
 * }));
 * ```
 */
export function runFromEvaluation(
  report: EvaluationReport,
  context: EvaluationContext,
): RunInput {
  const metrics: MetricInput[] = [];
  const add = (name: string, value: number | undefined, unit?: string): void => {
    if (value !== undefined && Number.isFinite(value)) {
      metrics.push(unit === undefined ? { name, value } : { name, value, unit });
    }
  };
  add("size_bytes", report.size.fileBytes, "bytes");
  add("gzip_bytes", report.size.gzipBytes, "bytes");
  add("params", report.size.parameters, "count");
  add("sparsity", report.size.sparsity, "ratio");
  add("macs", report.size.macs?.total, "count");
  if (report.accuracy) {
    add("accuracy", report.accuracy.top1, "ratio");
    for (const k of report.accuracy.topK) {
      if (k.k !== 1) add(`accuracy_top${k.k}`, k.accuracy, "ratio");
    }
  }
  for (const [output, f] of Object.entries(report.fidelity ?? {})) {
    add(`fidelity_agreement.${output}`, f.top1Agreement, "ratio");
    add(`fidelity_cosine.${output}`, f.cosineSimilarity);
    add(`fidelity_sqnr_db.${output}`, f.sqnrDb, "dB");
  }
  if (report.latency) {
    const samples = report.latency.samplesMs.filter(Number.isFinite);
    metrics.push({ name: "latency_ms", value: report.latency.p50Ms, unit: "ms", samples });
    add("latency_p90_ms", report.latency.p90Ms, "ms");
    add("latency_p99_ms", report.latency.p99Ms, "ms");
    add("throughput", report.latency.samplesPerSecond, "samples/s");
  }
  const backend = report.backend;
  const environment: EnvironmentInput = {
    cpuModel: context.environment.cpuModel,
    cores: context.environment.cores,
    runtime: context.environment.runtime ?? `${backend.runtime} ${backend.version}`,
    backend: context.environment.backend ?? backend.executionProviders.join("+"),
    details: { threads: backend.threads, ...context.environment.details },
  };
  const run = context.report === undefined
    ? context.run
    : { ...context.run, report: context.report };
  return {
    model: { name: context.model, sha256: report.model.sha256, sizeBytes: report.model.bytes },
    recipe: context.recipe,
    environment,
    run,
    ...(context.params === undefined ? {} : { params: context.params }),
    metrics,
  };
}
