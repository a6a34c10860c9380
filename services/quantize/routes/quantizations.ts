/**
 * `/v1/quantizations`: start a quantization (multipart upload), follow it, download its model,
 * cancel it.
 * @module
 */
import type { OpenAPIHono } from "@hono/zod-openapi";
import type { Context } from "hono";
import type {
  BuiltinDatasetName,
  Dataset,
  DatasetSource,
  LoadDatasetOptions,
} from "@modelpress/evaluate";
import {
  addJobRoutes,
  addModelDownloadRoute,
  answerJob,
  answersDirectly,
  ApiError,
  badField,
  derivedModelName,
  describeSubmitRoute,
  errorResponsesFor,
  type FormPart,
  jobFailure,
  type JobQueue,
  type JobRoutesOptions,
  modelJobDocs,
  modelJobErrorDescriptions,
  type ModelJobRoutesContext,
  modelJobView,
  modelPart,
  type ModelRunner,
  parseJsonPart,
  readCalibrationPart,
  readRecipeUpload,
  type RecipeUploadLimits,
  zodErrorToApiError,
} from "@modelpress/http";
import { type QuantizeRecipe, validateRecipe } from "@modelpress/quantize";
import type { QuantizeBytesOptions, QuantizedModel } from "../quantize_bytes.ts";
import {
  CreateQuantizationFormSchema,
  QuantizationSchema,
  QuantizeRecipeSchema,
} from "../schemas.ts";

/** Runs one quantization: `quantizeInWorker`, or a stand-in in tests. */
export type Quantizer = ModelRunner<QuantizeRecipe, QuantizeBytesOptions, QuantizedModel>;

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

/** Upload limits in bytes: the body, the model, an uploaded calibration file, the recipe. */
export type UploadLimits = RecipeUploadLimits;

/** What the quantization routes need; see `QuantizeServiceDeps` in `app.ts`. */
export interface QuantizationRoutesContext
  extends ModelJobRoutesContext<QuantizationResult, DatasetLoader> {
  /** Runs quantizations. */
  readonly quantize: Quantizer;
}

const BUILTIN_DATASETS: readonly BuiltinDatasetName[] = ["mnist"];
const PATH = "/v1/quantizations";

const errorResponses = errorResponsesFor(
  modelJobErrorDescriptions(
    "Invalid model (details.offset), invalid calibration dataset, or the quantization failed",
  ),
);

const jobRoutes = (
  queue: JobQueue<QuantizationResult>,
): JobRoutesOptions<QuantizationResult> => ({
  queue,
  path: PATH,
  jobName: "quantization",
  failedCode: "quantization_failed",
  view: (snapshot) => modelJobView(PATH, snapshot),
  schema: QuantizationSchema,
  errorResponses,
  docs: modelJobDocs("quantization"),
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
  describeSubmitRoute(app, {
    path: PATH,
    summary: "Quantize an ONNX model",
    description: "Uploads a model and a recipe. Models up to the server's size threshold are " +
      "quantized at once (200, with the report and the model's URL); larger ones, and requests " +
      "with `Prefer: respond-async`, become jobs (202 with Location) to poll. The upload is " +
      "streamed and refused (413) at the first byte over a limit.",
    form: CreateQuantizationFormSchema,
    schema: QuantizationSchema,
    jobName: "quantization",
    errorResponses,
  });
  app.post(PATH, (c) => createQuantization(c, context));

  addModelDownloadRoute(app, routes, {
    summary: "Download the quantized model",
    description: "The quantized ONNX model",
  });
  addJobRoutes(app, routes);
}

async function createQuantization(
  c: Context,
  context: QuantizationRoutesContext,
): Promise<Response> {
  const { limits, queue } = context;
  const byName = await readRecipeUpload(c.req.raw, limits);
  const recipe = parseRecipe(byName.get("recipe"));
  const model = modelPart(byName, "quantize");
  const usesStatic = recipe.method === "static" ||
    (recipe.overrides ?? []).some((o) => o.skip !== true && o.method === "static");
  const dataset = await readCalibrationPart(byName.get("calibration"), {
    verb: "quantize",
    neededBy: usesStatic ? "method 'static'" : undefined,
    usedBy: "method 'static'",
    builtins: BUILTIN_DATASETS,
    load: context.loadDataset,
  });
  const filename = derivedModelName(model.filename, "quantized");

  const job = queue.submit(async ({ signal, onProgress }) => {
    try {
      const result = await context.quantize(model.bytes, recipe, {
        ...(dataset && { dataset }),
        signal,
        onProgress,
      });
      return { ...result, filename };
    } catch (e) {
      throw jobFailure(e, signal, "quantization_failed");
    }
  });
  const sync = answersDirectly(c, model.bytes.length, context.syncMaxModelBytes);
  return answerJob(c, jobRoutes(queue), job, sync);
}

function parseRecipe(part: FormPart | undefined): QuantizeRecipe {
  if (part === undefined) {
    throw badField(
      "recipe",
      'the \'recipe\' field (JSON, such as {"method":"dynamic"}) is missing',
    );
  }
  const json = parseJsonPart(part, "invalid_recipe");
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
