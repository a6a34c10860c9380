/**
 * `/v1/evaluations`: start an evaluation (multipart upload), follow it, cancel it.
 * @module
 */
import { type OpenAPIHono, z } from "@hono/zod-openapi";
import type { Context } from "hono";
import type {
  Dataset,
  DatasetSource,
  EvaluateOptions,
  EvaluationReport,
  LoadDatasetOptions,
} from "@modelpress/evaluate";
import {
  addJobRoutes,
  answerJob,
  ApiError,
  badField,
  checkModelPart,
  describeSubmitRoute,
  errorResponsesFor,
  type FormPart,
  jobFailure,
  type JobQueue,
  type JobRoutesOptions,
  modelPart,
  parseJsonPart,
  partsByName,
  prefersAsync,
  readMultipart,
  zodErrorToApiError,
} from "@modelpress/http";
import type { RecordedRun, Recorder } from "../benchmark_recorder.ts";
import {
  CreateEvaluationFormSchema,
  type EvaluationOptions,
  EvaluationOptionsSchema,
  EvaluationSchema,
  type RecordRequest,
  RecordRequestSchema,
} from "../schemas.ts";

/** Runs one evaluation: `evaluateModel` of `@modelpress/evaluate`, or a stand-in in tests. */
export type Evaluator = (model: Uint8Array, options: EvaluateOptions) => Promise<EvaluationReport>;

/** Loads a dataset: `loadDataset` of `@modelpress/evaluate`, or a stand-in in tests. */
export type DatasetLoader = (
  source: DatasetSource,
  options?: LoadDatasetOptions,
) => Promise<Dataset>;

/** How recording an evaluation in the benchmark service went: the run, or why it failed. */
export type RecordOutcome = RecordedRun | { readonly runId: string; readonly error: string };

/** The result of an evaluation job: the report, and `recorded` when the request asked for it. */
export type EvaluationResult = EvaluationReport & { readonly recorded?: RecordOutcome };

/** Upload limits in bytes. */
export interface UploadLimits {
  /** The whole request body. */
  readonly maxBodyBytes: number;
  /** The `model` and `reference` parts, each. */
  readonly maxModelBytes: number;
  /** An uploaded `dataset` part. */
  readonly maxDatasetBytes: number;
  /** The `options` part. */
  readonly maxOptionsBytes: number;
  /** The `record` part (it may carry compression reports). */
  readonly maxRecordBytes: number;
}

/** What the evaluation routes need; see `EvaluateServiceDeps` in `app.ts`. */
export interface EvaluationRoutesContext {
  /** Runs evaluations. */
  readonly evaluate: Evaluator;
  /** Loads datasets. */
  readonly loadDataset: DatasetLoader;
  /** Records finished evaluations in the benchmark service; absent, `record` is refused. */
  readonly record?: Recorder | undefined;
  /** Where jobs wait and run. */
  readonly queue: JobQueue<EvaluationResult>;
  /** Upload limits. */
  readonly limits: UploadLimits;
  /** Jobs estimated at no more model inferences than this answer 200 directly. */
  readonly syncMaxInferences: number;
  /** onnxruntime-web threads of this process, when fixed. */
  readonly threads: number | undefined;
}

/** Built-in dataset names accepted in the `dataset` field. */
const BUILTIN_DATASETS: readonly string[] = Object.freeze(["mnist"]);
/** The library's latency defaults, for the cost estimate. */
const DEFAULT_LATENCY = Object.freeze({ warmupRuns: 3, runs: 20, batchSize: 1 });

const errorResponses = errorResponsesFor({
  400: "Bad request or invalid options (details.field names the field)",
  404: "No such job (never existed, or expired)",
  409: "The job has already finished",
  413: "The body or a part is over its size limit",
  415: "Not multipart/form-data",
  422: "Invalid model (details.offset), invalid dataset, or the evaluation failed",
  503: "Busy: every slot and queue place is taken (see Retry-After)",
});

const jobRoutes = (queue: JobQueue<EvaluationResult>): JobRoutesOptions<EvaluationResult> => ({
  queue,
  path: "/v1/evaluations",
  jobName: "evaluation",
  failedCode: "evaluation_failed",
  schema: EvaluationSchema,
  errorResponses,
  docs: {
    get: "Status, progress and result of an evaluation",
    getResponse: "The evaluation",
    cancel: "Cancel an evaluation",
    cancelDescription: "A queued job is cancelled at once (200); a running one is signalled and " +
      "stops between batches (202; poll until status is cancelled).",
    delete: "Cancel an evaluation if it runs, and forget it",
  },
});

/**
 * Adds the `/v1/evaluations` routes, and their OpenAPI descriptions, to an app.
 *
 * @param app The app.
 * @param context Evaluator, dataset loader, job queue, limits.
 * @example
 * ```ts
 * import { OpenAPIHono } from "@hono/zod-openapi";
 * import { evaluateModel, loadDataset } from "@modelpress/evaluate";
 * import { JobQueue } from "@modelpress/http";
 * import { addEvaluationRoutes } from "./evaluations.ts";
 * const app = new OpenAPIHono();
 * addEvaluationRoutes(app, {
 *   evaluate: evaluateModel,
 *   loadDataset,
 *   queue: new JobQueue(),
 *   limits: {
 *     maxBodyBytes: 2 ** 28,
 *     maxModelBytes: 2 ** 27,
 *     maxDatasetBytes: 2 ** 27,
 *     maxOptionsBytes: 65536,
 *     maxRecordBytes: 2 ** 23,
 *   },
 *   syncMaxInferences: 2000,
 *   threads: undefined,
 * });
 * ```
 */
export function addEvaluationRoutes(app: OpenAPIHono, context: EvaluationRoutesContext): void {
  // The upload is streamed by readMultipart, so the route is only described here, not validated
  // by zod-openapi's form validator (which would buffer the whole body first).
  app.openAPIRegistry.register("EvaluationOptions", EvaluationOptionsSchema);
  app.openAPIRegistry.register("RecordRequest", RecordRequestSchema);
  describeSubmitRoute(app, {
    path: "/v1/evaluations",
    summary: "Evaluate a model",
    description: "Uploads a model (and optionally a reference model and a dataset) and " +
      "evaluates it. Small jobs answer 200 with the finished evaluation; larger ones (or any, " +
      "with `Prefer: respond-async`) answer 202 with a Location to poll. With a `record` field, " +
      "the finished evaluation is recorded as a run in the benchmark service (BENCHMARK_URL) and " +
      "the result's `recorded` says how that went.",
    form: CreateEvaluationFormSchema,
    schema: EvaluationSchema,
    jobName: "evaluation",
    errorResponses,
  });
  app.post("/v1/evaluations", (c) => createEvaluation(c, context));
  addJobRoutes(app, jobRoutes(context.queue));
}

async function createEvaluation(c: Context, context: EvaluationRoutesContext): Promise<Response> {
  const { limits, queue } = context;
  const byName = partsByName(
    await readMultipart(c.req.raw, {
      maxBodyBytes: limits.maxBodyBytes,
      partLimits: {
        model: limits.maxModelBytes,
        reference: limits.maxModelBytes,
        dataset: limits.maxDatasetBytes,
        options: limits.maxOptionsBytes,
        record: limits.maxRecordBytes,
      },
    }),
  );
  const options = parseOptions(byName.get("options"));
  const recordRequest = parseRecord(byName.get("record"), context);
  if (
    options.threads !== undefined && context.threads !== undefined &&
    options.threads !== context.threads
  ) {
    throw new ApiError(
      `Invalid options: threads: this server runs onnxruntime-web with ${context.threads} ` +
        `thread(s), got ${options.threads}`,
      { status: 400, code: "invalid_options", details: { field: "threads" } },
    );
  }
  const model = modelPart(byName, "evaluate");
  const reference = byName.get("reference");
  if (reference !== undefined) checkModelPart(reference, "evaluate");
  const dataset = await readDataset(byName.get("dataset"), options, context);

  const task = async (
    signal: AbortSignal,
    onProgress: EvaluateOptions["onProgress"],
  ): Promise<EvaluationResult> => {
    const startedAt = new Date().toISOString();
    const report = await runEvaluation(context, {
      model: model.bytes,
      reference: reference?.bytes,
      dataset,
      options,
      signal,
      onProgress,
    });
    if (recordRequest === undefined || context.record === undefined) return report;
    const endedAt = new Date().toISOString();
    const recorded = await recordEvaluation(context.record, report, {
      request: recordRequest,
      startedAt,
      endedAt,
      signal,
    });
    return { ...report, recorded };
  };
  const sync = !prefersAsync(c.req.header("prefer")) &&
    estimateInferences(dataset, options, reference !== undefined) <= context.syncMaxInferences;
  const job = queue.submit(({ signal, onProgress }) => task(signal, onProgress));
  return answerJob(c, jobRoutes(queue), job, sync);
}

interface EvaluationInput {
  readonly model: Uint8Array;
  readonly reference: Uint8Array | undefined;
  readonly dataset: Dataset;
  readonly options: EvaluationOptions;
  readonly signal: AbortSignal;
  readonly onProgress: EvaluateOptions["onProgress"];
}

async function runEvaluation(
  context: EvaluationRoutesContext,
  input: EvaluationInput,
): Promise<EvaluationReport> {
  const { options } = input;
  const latency = options.latency;
  const threads = context.threads ?? options.threads;
  const evaluateOptions: EvaluateOptions = {
    dataset: input.dataset,
    signal: input.signal,
    ...(input.onProgress && { onProgress: input.onProgress }),
    ...(input.reference && { reference: input.reference }),
    ...(options.batchSize !== undefined && { batchSize: options.batchSize }),
    ...(options.topK !== undefined && { topK: options.topK }),
    ...(options.output !== undefined && { output: options.output }),
    ...(options.limit !== undefined && { limit: options.limit }),
    ...(threads !== undefined && { threads }),
    ...(latency === false && { latency: false }),
    ...(latency && {
      latency: {
        ...(latency.warmupRuns !== undefined && { warmupRuns: latency.warmupRuns }),
        ...(latency.runs !== undefined && { runs: latency.runs }),
        ...(latency.budgetMs !== undefined && { budgetMs: latency.budgetMs }),
        ...(latency.batchSize !== undefined && { batchSize: latency.batchSize }),
      },
    }),
  };
  try {
    return await context.evaluate(input.model, evaluateOptions);
  } catch (e) {
    throw jobFailure(e, input.signal, "evaluation_failed");
  }
}

function parseOptions(part: FormPart | undefined): EvaluationOptions {
  if (part === undefined) return {};
  // A ZodError becomes 400 naming the field path.
  return EvaluationOptionsSchema.parse(parseJsonPart(part, "invalid_options"));
}

/** The `record` part under its name, so that a bad value is named `record.model`, not `model`. */
const RecordFieldSchema = z.object({ record: RecordRequestSchema });

/** The `record` part, validated, or undefined when absent. */
function parseRecord(
  part: FormPart | undefined,
  context: EvaluationRoutesContext,
): RecordRequest | undefined {
  if (part === undefined) return undefined;
  if (context.record === undefined) {
    throw badField(
      "record",
      "this server records no runs (no benchmark service is configured): set BENCHMARK_URL " +
        "to the benchmark service's URL, such as http://127.0.0.1:8104, or leave out 'record'",
    );
  }
  // Not JSON is an `invalid_options` 400 "Invalid record: ...", as for `options`.
  const json = parseJsonPart(part, "invalid_options");
  const parsed = RecordFieldSchema.safeParse({ record: json });
  if (!parsed.success) throw zodErrorToApiError(parsed.error, { subject: "record" });
  return parsed.data.record;
}

interface RecordInput {
  readonly request: RecordRequest;
  readonly startedAt: string;
  readonly endedAt: string;
  readonly signal: AbortSignal;
}

/**
 * Records a finished evaluation. A failure is reported in the result (and logged), never
 * failing the evaluation it would record; only cancelling the job stops it.
 */
async function recordEvaluation(
  record: Recorder,
  report: EvaluationReport,
  input: RecordInput,
): Promise<RecordOutcome> {
  const { request } = input;
  const runId = request.id ?? crypto.randomUUID();
  try {
    return await record(report, {
      id: runId,
      model: request.model,
      recipe: request.recipe,
      startedAt: input.startedAt,
      endedAt: input.endedAt,
      commit: request.commit,
      branch: request.branch,
      tags: request.tags,
      params: request.params,
      reports: request.reports,
    }, { signal: input.signal });
  } catch (e) {
    if (input.signal.aborted) throw e;
    const error = e instanceof Error ? e.message : String(e);
    console.error(`evaluate: ${error}`);
    return { runId, error };
  }
}

async function readDataset(
  part: FormPart | undefined,
  options: EvaluationOptions,
  context: EvaluationRoutesContext,
): Promise<Dataset> {
  if (part === undefined) {
    throw badField("dataset", "the 'dataset' field is missing (an .npz file, or \"mnist\")");
  }
  const isFile = part.filename !== undefined ||
    (part.contentType !== undefined && !part.contentType.startsWith("text/plain"));
  let source: DatasetSource;
  if (isFile) {
    source = part.bytes;
  } else {
    const name = new TextDecoder().decode(part.bytes).trim();
    if (!BUILTIN_DATASETS.includes(name)) {
      throw badField(
        "dataset",
        `unknown built-in dataset '${name}' (built in: ${BUILTIN_DATASETS.join(", ")}; ` +
          "or upload an .npz file)",
      );
    }
    source = name as DatasetSource;
  }
  const loadOptions: LoadDatasetOptions = {
    ...(isFile && part.filename !== undefined && { name: part.filename }),
    ...(options.inputs !== undefined && { inputs: options.inputs }),
    ...(options.labels !== undefined && { labels: options.labels }),
    ...(options.split !== undefined && { split: options.split }),
    ...(options.preprocess !== undefined && {
      preprocess: {
        ...(options.preprocess.multiply !== undefined && { multiply: options.preprocess.multiply }),
        ...(options.preprocess.offset !== undefined && { offset: options.preprocess.offset }),
        ...(options.preprocess.sampleShape !== undefined &&
          { sampleShape: options.preprocess.sampleShape }),
      },
    }),
  };
  try {
    return await context.loadDataset(source, loadOptions);
  } catch (e) {
    throw new ApiError(
      `Cannot evaluate field 'dataset': ${e instanceof Error ? e.message : String(e)}`,
      { status: 422, code: "invalid_dataset", details: { field: "dataset" }, cause: e },
    );
  }
}

/**
 * Model inferences (samples times models, plus latency runs times their batch) a job will take,
 * roughly: what decides between a direct answer and a job to poll.
 */
function estimateInferences(
  dataset: Dataset,
  options: EvaluationOptions,
  hasReference: boolean,
): number {
  const samples = Math.min(dataset.count, options.limit ?? dataset.count);
  const pass = samples * (hasReference ? 2 : 1);
  const latency = options.latency;
  if (latency === false) return pass;
  const warmup = latency?.warmupRuns ?? DEFAULT_LATENCY.warmupRuns;
  // A budget without a run count runs for as long as the budget: count a run per millisecond.
  const runs = latency?.runs ?? latency?.budgetMs ?? DEFAULT_LATENCY.runs;
  return pass + (warmup + runs) * (latency?.batchSize ?? DEFAULT_LATENCY.batchSize);
}
