/**
 * `/v1/prunings`: start a pruning (multipart upload), follow it, download its model and its
 * report, cancel it.
 * @module
 */
import { createRoute, type OpenAPIHono } from "@hono/zod-openapi";
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
  finishedResult,
  type FormPart,
  issueField,
  jobFailure,
  JobParamsSchema,
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
  sendJson,
} from "@modelpress/http";
import {
  notPrunedNodes,
  type PruneRecipe,
  type PruneReport,
  validatePruneRecipe,
} from "@modelpress/prune";
import type { PruneBytesOptions, PrunedModel } from "../prune_bytes.ts";
import {
  CreatePruningFormSchema,
  PruneRecipeSchema,
  PruneReportSchema,
  PruningSchema,
} from "../schemas.ts";

/** Runs one pruning: `pruneInWorker`, or a stand-in in tests. */
export type Pruner = ModelRunner<PruneRecipe, PruneBytesOptions, PrunedModel>;

/** Loads a calibration dataset: `loadDataset` of `@modelpress/evaluate`, or a stand-in. */
export type DatasetLoader = (
  source: DatasetSource,
  options?: LoadDatasetOptions,
) => Promise<Dataset>;

/** A finished pruning as the queue keeps it. */
export interface PruningResult extends PrunedModel {
  /** The file name to offer for download. */
  readonly filename: string;
}

/** Upload limits in bytes: the body, the model, an uploaded calibration file, the recipe. */
export type UploadLimits = RecipeUploadLimits;

/** What the pruning routes need; see `PruneServiceDeps` in `app.ts`. */
export interface PruningRoutesContext extends ModelJobRoutesContext<PruningResult, DatasetLoader> {
  /** Runs prunings. */
  readonly prune: Pruner;
}

const BUILTIN_DATASETS: readonly BuiltinDatasetName[] = ["mnist"];
const PATH = "/v1/prunings";

const errorResponses = errorResponsesFor(
  modelJobErrorDescriptions(
    "Invalid model (details.offset), invalid calibration dataset, no layer that can be " +
      "pruned (details.nodes: per node, why), or the pruning failed",
  ),
);

const getReportRoute = createRoute({
  method: "get",
  path: `${PATH}/{id}/report`,
  summary: "The pruning report alone",
  request: { params: JobParamsSchema },
  responses: {
    200: {
      description: "The PruneReport (schema modelpress.prune/1)",
      content: { "application/json": { schema: PruneReportSchema } },
    },
    ...errorResponses(404, 409),
  },
});

const jobRoutes = (queue: JobQueue<PruningResult>): JobRoutesOptions<PruningResult> => ({
  queue,
  path: PATH,
  jobName: "pruning",
  failedCode: "pruning_failed",
  view: (snapshot) => modelJobView(PATH, snapshot, { reportUrl: `${PATH}/${snapshot.id}/report` }),
  schema: PruningSchema,
  errorResponses,
  docs: modelJobDocs("pruning"),
});

/**
 * Adds the `/v1/prunings` routes, and their OpenAPI descriptions, to an app.
 *
 * @param app The app.
 * @param context Pruner, dataset loader, job queue, limits, threshold.
 * @example
 * ```ts
 * import { OpenAPIHono } from "@hono/zod-openapi";
 * import { loadDataset } from "@modelpress/evaluate";
 * import { JobQueue } from "@modelpress/http";
 * import { pruneInWorker } from "../prune_in_worker.ts";
 * import { addPruningRoutes } from "./prunings.ts";
 * const app = new OpenAPIHono();
 * addPruningRoutes(app, {
 *   prune: pruneInWorker,
 *   loadDataset,
 *   queue: new JobQueue(),
 *   limits: { maxBodyBytes: 2 ** 28, maxModelBytes: 2 ** 27, maxDatasetBytes: 2 ** 27, maxRecipeBytes: 65536 },
 *   syncMaxModelBytes: 8 * 2 ** 20,
 * });
 * ```
 */
export function addPruningRoutes(app: OpenAPIHono, context: PruningRoutesContext): void {
  const routes = jobRoutes(context.queue);
  // The upload is streamed by readMultipart, so the route is only described here, not validated
  // by zod-openapi's form validator (which would buffer the whole body first).
  app.openAPIRegistry.register("PruneRecipe", PruneRecipeSchema);
  describeSubmitRoute(app, {
    path: PATH,
    summary: "Prune an ONNX model",
    description: "Uploads a model and a recipe (and calibration data for wanda, activation " +
      "importance or recovery). Models up to the server's size threshold are pruned at once " +
      "(200, with the report and the model's URL); larger ones, and requests with " +
      "`Prefer: respond-async`, become jobs (202 with Location) to poll. The upload is " +
      "streamed and refused (413) at the first byte over a limit.",
    form: CreatePruningFormSchema,
    schema: PruningSchema,
    jobName: "pruning",
    errorResponses,
  });
  app.post(PATH, (c) => createPruning(c, context));

  addModelDownloadRoute(app, routes, {
    summary: "Download the pruned model",
    description: "The pruned ONNX model",
  });
  app.openAPIRegistry.registerPath(getReportRoute);
  app.get(
    `${PATH}/:id/report`,
    (c) => sendJson(c, finishedResult(routes, c.req.param("id"), "report").report, 200),
  );
  addJobRoutes(app, routes);
}

async function createPruning(c: Context, context: PruningRoutesContext): Promise<Response> {
  const { limits, queue } = context;
  const byName = await readRecipeUpload(c.req.raw, limits);
  const recipe = parseRecipe(byName.get("recipe"));
  const model = modelPart(byName, "prune");
  const dataset = await readCalibrationPart(byName.get("calibration"), {
    verb: "prune",
    neededBy: needsCalibration(recipe),
    usedBy: "method 'wanda', activation importance and recovery",
    builtins: BUILTIN_DATASETS,
    load: context.loadDataset,
  });
  const filename = derivedModelName(model.filename, "pruned");

  const job = queue.submit(async ({ signal, onProgress }) => {
    let result: PrunedModel;
    try {
      result = await context.prune(model.bytes, recipe, {
        ...(dataset && { dataset }),
        signal,
        onProgress,
      });
    } catch (e) {
      throw jobFailure(e, signal, "pruning_failed");
    }
    checkPruned(result.report);
    return { ...result, filename };
  });
  const sync = answersDirectly(c, model.bytes.length, context.syncMaxModelBytes);
  return answerJob(c, jobRoutes(queue), job, sync);
}

/** What needs calibration data, in words, or undefined. */
function needsCalibration(recipe: PruneRecipe): string | undefined {
  if (recipe.method === "wanda") return "method 'wanda'";
  if (recipe.importance === "activation") return "activation importance";
  if (recipe.recovery?.batchNorm === true || recipe.recovery?.biasCorrection === true) {
    return "recovery";
  }
  return undefined;
}

/**
 * A model in which no layer could be pruned is a model this service does not support: 422
 * with every node's reason, rather than a "pruned" model that is the input again.
 */
function checkPruned(report: PruneReport): void {
  if (report.layers.some((l) => l.status === "pruned")) return;
  const nodes = notPrunedNodes(report);
  const why = nodes.length === 0
    ? "it has no Gemm, MatMul or Conv node with a constant weight"
    : nodes.map((n) => `node '${n.node}' (${n.opType}): ${n.reason}`).join("; ");
  throw new ApiError(`Cannot prune model: no layer can be pruned: ${why}`, {
    status: 422,
    code: "pruning_failed",
    details: { nodes },
  });
}

/**
 * Parses the recipe: `validatePruneRecipe` of `@modelpress/prune` decides and words the error;
 * the zod schema (which also documents the recipe) names the field where it can.
 */
function parseRecipe(part: FormPart | undefined): PruneRecipe {
  if (part === undefined) {
    throw badField(
      "recipe",
      'the \'recipe\' field (JSON, such as {"method":"magnitude","sparsity":0.5}) is missing',
    );
  }
  const json = parseJsonPart(part, "invalid_recipe");
  try {
    return validatePruneRecipe(json);
  } catch (e) {
    if (!(e instanceof TypeError || e instanceof RangeError || e instanceof SyntaxError)) throw e;
    const detail = e.message.replace(/^Invalid prune recipe: /, "");
    const parsed = PruneRecipeSchema.safeParse(json);
    const issue = parsed.success ? undefined : parsed.error.issues[0];
    const field = issue === undefined ? fieldOf(detail) : issueField(issue);
    throw new ApiError(`Invalid recipe: ${detail}`, {
      status: 400,
      code: "invalid_recipe",
      details: { field },
      cause: e,
    });
  }
}

/**
 * The field a message of `validatePruneRecipe` is about, for checks across fields that the
 * schema cannot see ("method 'nm' with pattern 2:4 removes 0.5, got sparsity 0.3", "global is
 * only supported by ...", "bounds[0].min 0.5 is above max 0.2").
 */
function fieldOf(detail: string): string {
  const unknown = /unknown field '([^']+)'/.exec(detail)?.[1];
  if (unknown !== undefined) return unknown;
  const got = /, got (sparsity) /.exec(detail)?.[1] ?? /takes no (\w+)/.exec(detail)?.[1];
  if (got !== undefined) return got;
  const lead = /^([\w[\].]+)/.exec(detail)?.[1] ?? "";
  return lead === "recipe" ? "" : lead;
}
