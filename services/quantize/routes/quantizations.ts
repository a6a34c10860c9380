/**
 * `/v1/quantizations`: start a quantization (multipart upload), follow it, download its model,
 * cancel it.
 * @module
 */
import { createRoute, type OpenAPIHono } from "@hono/zod-openapi";
import type { Context } from "hono";
import type { Dataset, DatasetSource, LoadDatasetOptions } from "@modelpress/evaluate";
import {
  addJobRoutes,
  answerJob,
  ApiError,
  errorResponses as describeErrors,
  findJob,
  type FormPart,
  JobParamsSchema,
  type JobQueue,
  type JobRoutesOptions,
  type JobSnapshot,
  prefersAsync,
  readMultipart,
  zodErrorToApiError,
} from "@modelpress/http";
import { decodeModel, OnnxParseError } from "@modelpress/onnx";
import { type QuantizeRecipe, validateRecipe } from "@modelpress/quantize";
import type { QuantizeBytesOptions, QuantizedModel } from "../quantize_bytes.ts";
import {
  CreateQuantizationFormSchema,
  QuantizationSchema,
  QuantizeRecipeSchema,
} from "../schemas.ts";

/** Runs one quantization: `quantizeInWorker`, or a stand-in in tests. */
export type Quantizer = (
  model: Uint8Array,
  recipe: QuantizeRecipe,
  options: QuantizeBytesOptions,
) => Promise<QuantizedModel>;

/** Loads a calibration dataset: `loadDataset` of `@modelpress/evaluate`, or a stand-in. */
export type DatasetLoader = (
  source: DatasetSource,
  options?: LoadDatasetOptions,
) => Promise<Dataset>;

/** A finished quantization as the queue keeps it. */
export interface QuantizationResult extends QuantizedModel {
  /** The file name to offer for download. */
  readonly filename: string;
}

/** Upload limits in bytes. */
export interface UploadLimits {
  /** The whole request body. */
  readonly maxBodyBytes: number;
  /** The `model` part. */
  readonly maxModelBytes: number;
  /** An uploaded `calibration` part. */
  readonly maxDatasetBytes: number;
  /** The `recipe` part. */
  readonly maxRecipeBytes: number;
}

/** What the quantization routes need; see `QuantizeServiceDeps` in `app.ts`. */
export interface QuantizationRoutesContext {
  /** Runs quantizations. */
  readonly quantize: Quantizer;
  /** Loads calibration datasets. */
  readonly loadDataset: DatasetLoader;
  /** Where jobs wait and run. */
  readonly queue: JobQueue<QuantizationResult>;
  /** Upload limits. */
  readonly limits: UploadLimits;
  /** Models of at most this many bytes answer 200 directly; larger ones 202. */
  readonly syncMaxModelBytes: number;
}

const BUILTIN_DATASETS: readonly string[] = ["mnist"];

const ERROR_DESCRIPTIONS: Readonly<Record<number, string>> = {
  400: "Bad request or invalid recipe (details.field names the field)",
  404: "No such job (never existed, or expired)",
  409: "The job has already finished, or its model is not ready",
  413: "The body or a part is over its size limit",
  415: "Not multipart/form-data",
  422: "Invalid model (details.offset), invalid calibration dataset, or the quantization failed",
  503: "Busy: every slot and queue place is taken (see Retry-After)",
};

const errorResponses = (...statuses: number[]): Record<number, unknown> =>
  describeErrors(
    Object.fromEntries(statuses.map((s) => [s, ERROR_DESCRIPTIONS[s] ?? "Error"])),
  );

const quantizationContent = { "application/json": { schema: QuantizationSchema } };

const createQuantizationRoute = createRoute({
  method: "post",
  path: "/v1/quantizations",
  summary: "Quantize an ONNX model",
  description: "Uploads a model and a recipe. Models up to the server's size threshold are " +
    "quantized at once (200, with the report and the model's URL); larger ones, and requests " +
    "with `Prefer: respond-async`, become jobs (202 with Location) to poll. The upload is " +
    "streamed and refused (413) at the first byte over a limit.",
  request: {
    body: {
      required: true,
      content: { "multipart/form-data": { schema: CreateQuantizationFormSchema } },
    },
  },
  responses: {
    200: { description: "The finished quantization", content: quantizationContent },
    202: {
      description: "Accepted; poll the Location header's URL",
      headers: { Location: { schema: { type: "string" }, description: "The job's URL" } },
      content: quantizationContent,
    },
    ...errorResponses(400, 413, 415, 422, 503),
  },
});

const getModelRoute = createRoute({
  method: "get",
  path: "/v1/quantizations/{id}/model",
  summary: "Download the quantized model",
  request: { params: JobParamsSchema },
  responses: {
    200: {
      description: "The quantized ONNX model",
      content: {
        "application/octet-stream": { schema: { type: "string", format: "binary" } },
      },
    },
    ...errorResponses(404, 409),
  },
});

const jobRoutes = (
  queue: JobQueue<QuantizationResult>,
): JobRoutesOptions<QuantizationResult> => ({
  queue,
  path: "/v1/quantizations",
  jobName: "quantization",
  failedCode: "quantization_failed",
  view,
  schema: QuantizationSchema,
  errorResponses,
  docs: {
    get: "Status, progress and result of a quantization",
    getResponse: "The quantization",
    cancel: "Cancel a quantization",
    cancelDescription: "A queued job is cancelled at once (200); a running one is stopped (its " +
      "worker is terminated) and reported cancelled shortly after (202; poll until status is " +
      "cancelled).",
    delete: "Cancel a quantization if it runs, and forget it (and its model)",
  },
});

/**
 * Adds the `/v1/quantizations` routes, and their OpenAPI descriptions, to an app.
 *
 * @param app The app.
 * @param context Quantizer, dataset loader, job queue, limits, threshold.
 * @example
 * ```ts
 * import { OpenAPIHono } from "@hono/zod-openapi";
 * import { loadDataset } from "@modelpress/evaluate";
 * import { JobQueue } from "@modelpress/http";
 * import { quantizeInWorker } from "../quantize_in_worker.ts";
 * import { addQuantizationRoutes } from "./quantizations.ts";
 * const app = new OpenAPIHono();
 * addQuantizationRoutes(app, {
 *   quantize: quantizeInWorker,
 *   loadDataset,
 *   queue: new JobQueue(),
 *   limits: { maxBodyBytes: 2 ** 28, maxModelBytes: 2 ** 27, maxDatasetBytes: 2 ** 27, maxRecipeBytes: 65536 },
 *   syncMaxModelBytes: 8 * 2 ** 20,
 * });
 * ```
 */
export function addQuantizationRoutes(
  app: OpenAPIHono,
  context: QuantizationRoutesContext,
): void {
  const routes = jobRoutes(context.queue);
  // The upload is streamed by readMultipart, so the route is only described here, not validated
  // by zod-openapi's form validator (which would buffer the whole body first).
  app.openAPIRegistry.register("QuantizeRecipe", QuantizeRecipeSchema);
  app.openAPIRegistry.registerPath(createQuantizationRoute);
  app.post("/v1/quantizations", (c) => createQuantization(c, context));

  app.openAPIRegistry.registerPath(getModelRoute);
  app.get("/v1/quantizations/:id/model", (c) => {
    const job = findJob(routes, c.req.param("id"));
    if (job.result === undefined) {
      throw new ApiError(
        `Cannot download the model of quantization '${job.id}': it is ${job.status}` +
          (job.status === "queued" || job.status === "running" ? "; poll until it succeeds" : ""),
        { status: 409, code: "conflict", details: { status: job.status } },
      );
    }
    const { model, filename } = job.result;
    return c.body(model as Uint8Array<ArrayBuffer>, 200, {
      "Content-Type": "application/octet-stream",
      "Content-Length": String(model.length),
      "Content-Disposition": `attachment; filename="${filename}"`,
    });
  });
  addJobRoutes(app, routes);
}

async function createQuantization(
  c: Context,
  context: QuantizationRoutesContext,
): Promise<Response> {
  const { limits, queue } = context;
  const parts = await readMultipart(c.req.raw, {
    maxBodyBytes: limits.maxBodyBytes,
    partLimits: {
      model: limits.maxModelBytes,
      recipe: limits.maxRecipeBytes,
      calibration: limits.maxDatasetBytes,
    },
  });
  const byName = new Map<string, FormPart>();
  for (const part of parts) {
    if (byName.has(part.name)) throw badField(part.name, `field '${part.name}' is given twice`);
    byName.set(part.name, part);
  }
  const recipe = parseRecipe(byName.get("recipe"));
  const model = byName.get("model");
  if (model === undefined) throw badField("model", "the 'model' field (an ONNX file) is missing");
  checkModel(model);
  const usesStatic = recipe.method === "static" ||
    (recipe.overrides ?? []).some((o) => o.skip !== true && o.method === "static");
  const calibrationPart = byName.get("calibration");
  if (usesStatic && calibrationPart === undefined) {
    throw badField(
      "calibration",
      "method 'static' needs the 'calibration' field (an .npz file, or \"mnist\")",
    );
  }
  if (!usesStatic && calibrationPart !== undefined) {
    throw badField("calibration", "the 'calibration' field is only used by method 'static'");
  }
  const dataset = calibrationPart && await readDataset(calibrationPart, context);
  const filename = quantizedName(model.filename);

  const job = queue.submit(async ({ signal, onProgress }) => {
    try {
      const result = await context.quantize(model.bytes, recipe, {
        ...(dataset && { dataset }),
        signal,
        onProgress,
      });
      return { ...result, filename };
    } catch (e) {
      if (signal.aborted) throw e;
      throw new ApiError(e instanceof Error ? e.message : String(e), {
        status: 422,
        code: "quantization_failed",
        cause: e,
      });
    }
  });
  const sync = !prefersAsync(c.req.header("prefer")) &&
    model.bytes.length <= context.syncMaxModelBytes;
  return answerJob(c, jobRoutes(queue), job, sync);
}

/** A job as clients see it: the report and the model's URL, never the model's bytes. */
function view(snapshot: JobSnapshot<QuantizationResult>): unknown {
  const { result, ...rest } = snapshot;
  if (result === undefined) return rest;
  return {
    ...rest,
    result: {
      report: result.report,
      model: { url: `/v1/quantizations/${snapshot.id}/model`, bytes: result.model.length },
    },
  };
}

function parseRecipe(part: FormPart | undefined): QuantizeRecipe {
  if (part === undefined) {
    throw badField(
      "recipe",
      'the \'recipe\' field (JSON, such as {"method":"dynamic"}) is missing',
    );
  }
  let json: unknown;
  try {
    json = JSON.parse(new TextDecoder().decode(part.bytes));
  } catch (e) {
    throw new ApiError(
      `Invalid recipe: the 'recipe' field is not JSON: ${e instanceof Error ? e.message : e}`,
      { status: 400, code: "invalid_recipe", details: { field: "recipe" }, cause: e },
    );
  }
  const parsed = QuantizeRecipeSchema.safeParse(json);
  if (!parsed.success) {
    throw zodErrorToApiError(parsed.error, { subject: "recipe", code: "invalid_recipe" });
  }
  try {
    return validateRecipe(parsed.data);
  } catch (e) {
    if (!(e instanceof TypeError || e instanceof RangeError || e instanceof SyntaxError)) throw e;
    const detail = e.message.replace(/^Cannot use recipe: /, "");
    return invalidRecipe(detail, e);
  }
}

/**
 * validateRecipe's messages start with the place ("overrides[0].bits must ...", "recipe: dynamic
 * quantization needs 8 bits", "method 'static' needs recipe.calibration"): name it as a field.
 */
function invalidRecipe(detail: string, cause: Error): never {
  const needs = /needs recipe\.([\w.[\]]+)/.exec(detail)?.[1];
  const lead = /^([\w[\].]+)/.exec(detail)?.[1] ?? "";
  const field = needs ?? lead.replace(/^recipe\.?/, "");
  throw new ApiError(`Invalid recipe: ${detail}`, {
    status: 400,
    code: "invalid_recipe",
    details: { field },
    cause,
  });
}

function checkModel(part: FormPart): void {
  try {
    decodeModel(part.bytes);
  } catch (e) {
    if (!(e instanceof OnnxParseError)) throw e;
    throw new ApiError(`Cannot quantize field '${part.name}': ${e.message}`, {
      status: 422,
      code: "invalid_model",
      details: { field: part.name, offset: e.offset },
      cause: e,
    });
  }
}

async function readDataset(part: FormPart, context: QuantizationRoutesContext): Promise<Dataset> {
  const isFile = part.filename !== undefined ||
    (part.contentType !== undefined && !part.contentType.startsWith("text/plain"));
  let source: DatasetSource;
  if (isFile) {
    source = part.bytes;
  } else {
    const name = new TextDecoder().decode(part.bytes).trim();
    if (!BUILTIN_DATASETS.includes(name)) {
      throw badField(
        "calibration",
        `unknown built-in dataset '${name}' (built in: ${BUILTIN_DATASETS.join(", ")}; ` +
          "or upload an .npz file)",
      );
    }
    source = name as DatasetSource;
  }
  try {
    // Calibrate on the training digits, so that evaluating on the test split stays fair.
    return await context.loadDataset(
      source,
      isFile ? (part.filename !== undefined ? { name: part.filename } : {}) : { split: "train" },
    );
  } catch (e) {
    throw new ApiError(
      `Cannot quantize field 'calibration': ${e instanceof Error ? e.message : String(e)}`,
      { status: 422, code: "invalid_dataset", details: { field: "calibration" }, cause: e },
    );
  }
}

/** `mlp.onnx` -> `mlp.quantized.onnx`, reduced to characters safe in a header. */
function quantizedName(filename: string | undefined): string {
  const base = (filename ?? "model.onnx").split(/[\\/]/).pop()!.replace(/[^\w.-]/g, "_")
    .replace(/\.onnx$/i, "");
  return `${base || "model"}.quantized.onnx`;
}

function badField(field: string, why: string): ApiError {
  return new ApiError(`Cannot read the request: ${why}`, {
    status: 400,
    code: "bad_request",
    details: { field },
  });
}
