/**
 * The zod schemas of the evaluate service: they validate requests and generate the OpenAPI
 * document, so the two cannot drift apart.
 * @module
 */
import { z } from "@hono/zod-openapi";
import { JOB_FIELDS } from "@modelpress/http";

const positiveInt = (max: number): z.ZodInt => z.int().min(1).max(max);

/** Latency measurement settings of an evaluation. */
export const LatencyOptionsSchema = z.strictObject({
  warmupRuns: z.int().min(0).max(1000).optional().openapi({
    description: "Runs before timing starts.",
  }),
  runs: positiveInt(100_000).optional().openapi({ description: "Timed runs." }),
  budgetMs: z.number().positive().max(600_000).optional().openapi({
    description: "Stop timing after this many milliseconds, whatever `runs` says.",
  }),
  batchSize: positiveInt(4096).optional().openapi({ description: "Samples per timed run." }),
}).openapi("LatencyOptions");

/** Preprocessing of floating-point input arrays. */
export const PreprocessSchema = z.strictObject({
  multiply: z.number().optional().openapi({
    description: "Each value becomes value*multiply+offset.",
  }),
  offset: z.number().optional(),
  sampleShape: z.array(z.int().min(0)).max(8).optional().openapi({
    description: "Shape of one sample as the model wants it, such as [1, 28, 28].",
  }),
}).openapi("Preprocess");

/**
 * Options of one evaluation, sent as the `options` form field (JSON). Unknown fields are refused,
 * so a typo never silently becomes a default.
 */
export const EvaluationOptionsSchema = z.strictObject({
  batchSize: positiveInt(4096).optional().openapi({ description: "Samples per inference." }),
  topK: z.array(positiveInt(1000)).max(8).optional().openapi({
    description: "The k of top-k accuracy, such as [5].",
  }),
  output: z.string().min(1).optional().openapi({
    description: "The output scored for accuracy (default: the model's first output).",
  }),
  limit: positiveInt(10_000_000).optional().openapi({
    description: "Evaluate the first `limit` samples of the dataset only.",
  }),
  latency: z.union([z.literal(false), LatencyOptionsSchema]).optional().openapi({
    description: "Latency measurement settings, or false to skip it.",
  }),
  threads: positiveInt(64).optional().openapi({
    description: "onnxruntime-web threads; must match the server's setting.",
  }),
  inputs: z.union([
    z.string().min(1),
    z.array(z.string().min(1)).min(1),
    z.record(z.string().min(1), z.string().min(1)),
  ]).optional().openapi({
    description: "Dataset arrays fed to the model: one name, a list, or {modelInput: arrayName}.",
  }),
  labels: z.union([z.string().min(1), z.literal(false)]).optional().openapi({
    description: "The dataset's label array, or false for none (default: labels, label or y).",
  }),
  split: z.enum(["train", "test", "all"]).optional().openapi({
    description: "Split of a built-in dataset (default test).",
  }),
  preprocess: PreprocessSchema.optional(),
}).openapi("EvaluationOptions");

/** Options of one evaluation, validated. */
export type EvaluationOptions = z.infer<typeof EvaluationOptionsSchema>;

/**
 * What to record in the benchmark service about an evaluation, sent as the `record` form field
 * (JSON). Unknown fields are refused.
 */
export const RecordRequestSchema = z.strictObject({
  model: z.string().min(1).max(200).openapi({
    description: "The model's name in the benchmark service, such as mnist_mlp.",
  }),
  recipe: z.record(z.string(), z.unknown()).optional().openapi({
    description: "The recipe's config; its `name`, when a string, names it (default {}).",
    example: { name: "int8-dynamic", quantize: { method: "dynamic" } },
  }),
  id: z.uuid().optional().openapi({
    description: "The run's UUID (default: a new one). Posting the same id and payload again " +
      "is the same run (`replayed`); the same id with another payload fails to record.",
  }),
  tags: z.record(z.string(), z.unknown()).optional(),
  params: z.record(z.string(), z.unknown()).optional().openapi({
    description: "Write-once params of the run.",
  }),
  commit: z.string().max(100).optional().openapi({ description: "Git commit of the code." }),
  branch: z.string().max(200).optional().openapi({ description: "Git branch of the code." }),
  reports: z.unknown().optional().openapi({
    description: "The compression reports, stored with the run and shown on its page.",
  }),
}).openapi("RecordRequest");

/** What to record in the benchmark service, validated. */
export type RecordRequest = z.infer<typeof RecordRequestSchema>;

/** How recording an evaluation in the benchmark service went. */
export const RecordOutcomeSchema = z.union([
  z.object({
    runId: z.uuid(),
    status: z.enum(["created", "replayed"]).openapi({
      description: "created: a new run; replayed: the same run was recorded before.",
    }),
    regressions: z.int().min(0).openapi({
      description: "Regressions the benchmark service flagged on this run.",
    }),
  }),
  z.object({
    runId: z.uuid(),
    error: z.string().openapi({
      description: "Why the run could not be recorded; the evaluation itself succeeded.",
      example: "Cannot record run '...' at http://127.0.0.1:8104/v1/evaluations: HTTP 409: ...",
    }),
  }),
]).openapi("RecordOutcome");

/** The result of an evaluation: the report, and how recording it went when asked for. */
export const EvaluationResultSchema = z.looseObject({
  recorded: RecordOutcomeSchema.optional().openapi({
    description: "Present when the request had a `record` field.",
  }),
}).openapi("EvaluationResult", {
  description: "The EvaluationReport of @modelpress/evaluate's evaluateModel(): model, dataset, " +
    "reference, accuracy, fidelity (per output), latency (summary and raw samples), size, " +
    'timings, backend. Non-finite numbers are written as the strings "Infinity", "-Infinity", ' +
    '"NaN" (an SQNR of Infinity means identical outputs). With a `record` field, `recorded` ' +
    "says how recording the run in the benchmark service went.",
});

/** An evaluation job as clients see it. */
export const EvaluationSchema = z.object({
  ...JOB_FIELDS,
  result: EvaluationResultSchema.optional(),
}).openapi("Evaluation");

/** The `multipart/form-data` body of POST /v1/evaluations (for the OpenAPI document). */
export const CreateEvaluationFormSchema = z.object({
  model: z.string().openapi({ type: "string", format: "binary", description: "The ONNX model." }),
  reference: z.string().optional().openapi({
    type: "string",
    format: "binary",
    description: "A reference ONNX model: fidelity is measured against its outputs.",
  }),
  dataset: z.string().openapi({
    description: 'An uploaded dataset file (.npz, .npy or .json), or a built-in name: "mnist".',
    example: "mnist",
  }),
  options: z.string().optional().openapi({
    description: "EvaluationOptions as JSON.",
    example: '{"limit":200,"latency":{"runs":20}}',
  }),
  record: z.string().optional().openapi({
    description: "RecordRequest as JSON: record the finished evaluation as a run in the " +
      "benchmark service (the server needs BENCHMARK_URL; 400 otherwise). The result's " +
      "`recorded` says how it went; a failed recording does not fail the evaluation.",
    example: '{"model":"mnist_mlp","recipe":{"name":"int8-dynamic"},"tags":{"ci":"1"}}',
  }),
}).openapi("CreateEvaluationForm");
