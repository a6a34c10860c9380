/**
 * `/v1/prunings`: start a pruning (multipart upload), follow it, download its model and its
 * report, cancel it.
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
  sendJson,
} from "@modelpress/http";
import { decodeModel, OnnxParseError } from "@modelpress/onnx";
import {
  type ChannelGroup,
  type PruneRecipe,
  type PruneReport,
  type UnsupportedNode,
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
export type Pruner = (
  model: Uint8Array,
  recipe: PruneRecipe,
  options: PruneBytesOptions,
) => Promise<PrunedModel>;

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

/** What the pruning routes need; see `PruneServiceDeps` in `app.ts`. */
export interface PruningRoutesContext {
  /** Runs prunings. */
  readonly prune: Pruner;
  /** Loads calibration datasets. */
  readonly loadDataset: DatasetLoader;
  /** Where jobs wait and run. */
  readonly queue: JobQueue<PruningResult>;
  /** Upload limits. */
  readonly limits: UploadLimits;
  /** Models of at most this many bytes answer 200 directly; larger ones 202. */
  readonly syncMaxModelBytes: number;
}

const BUILTIN_DATASETS: readonly string[] = ["mnist"];
const PATH = "/v1/prunings";

const ERROR_DESCRIPTIONS: Readonly<Record<number, string>> = {
  400: "Bad request or invalid recipe (details.field names the field)",
  404: "No such job (never existed, or expired)",
  409: "The job has already finished, or its model is not ready",
  413: "The body or a part is over its size limit",
  415: "Not multipart/form-data",
  422: "Invalid model (details.offset), invalid calibration dataset, no layer that can be " +
    "pruned (details.nodes: per node, why), or the pruning failed",
  503: "Busy: every slot and queue place is taken (see Retry-After)",
};

const errorResponses = (...statuses: number[]): Record<number, unknown> =>
  describeErrors(
    Object.fromEntries(statuses.map((s) => [s, ERROR_DESCRIPTIONS[s] ?? "Error"])),
  );

const pruningContent = { "application/json": { schema: PruningSchema } };

const createPruningRoute = createRoute({
  method: "post",
  path: PATH,
  summary: "Prune an ONNX model",
  description: "Uploads a model and a recipe (and calibration data for wanda, activation " +
    "importance or recovery). Models up to the server's size threshold are pruned at once (200, with the " +
    "report and the model's URL); larger ones, and requests with `Prefer: respond-async`, " +
    "become jobs (202 with Location) to poll. The upload is streamed and refused (413) at the " +
    "first byte over a limit.",
  request: {
    body: {
      required: true,
      content: { "multipart/form-data": { schema: CreatePruningFormSchema } },
    },
  },
  responses: {
    200: { description: "The finished pruning", content: pruningContent },
    202: {
      description: "Accepted; poll the Location header's URL",
      headers: { Location: { schema: { type: "string" }, description: "The job's URL" } },
      content: pruningContent,
    },
    ...errorResponses(400, 413, 415, 422, 503),
  },
});

const getModelRoute = createRoute({
  method: "get",
  path: `${PATH}/{id}/model`,
  summary: "Download the pruned model",
  request: { params: JobParamsSchema },
  responses: {
    200: {
      description: "The pruned ONNX model",
      content: {
        "application/octet-stream": { schema: { type: "string", format: "binary" } },
      },
    },
    ...errorResponses(404, 409),
  },
});

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
  view,
  schema: PruningSchema,
  errorResponses,
  docs: {
    get: "Status, progress and result of a pruning",
    getResponse: "The pruning",
    cancel: "Cancel a pruning",
    cancelDescription: "A queued job is cancelled at once (200); a running one is stopped (its " +
      "worker is terminated) and reported cancelled shortly after (202; poll until status is " +
      "cancelled).",
    delete: "Cancel a pruning if it runs, and forget it (and its model)",
  },
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
  app.openAPIRegistry.registerPath(createPruningRoute);
  app.post(PATH, (c) => createPruning(c, context));

  app.openAPIRegistry.registerPath(getModelRoute);
  app.get(`${PATH}/:id/model`, (c) => {
    const { model, filename } = finished(routes, c.req.param("id"), "model");
    return c.body(model as Uint8Array<ArrayBuffer>, 200, {
      "Content-Type": "application/octet-stream",
      "Content-Length": String(model.length),
      "Content-Disposition": `attachment; filename="${filename}"`,
    });
  });
  app.openAPIRegistry.registerPath(getReportRoute);
  app.get(
    `${PATH}/:id/report`,
    (c) => sendJson(c, finished(routes, c.req.param("id"), "report").report, 200),
  );
  addJobRoutes(app, routes);
}

/** The result of a job that has succeeded, or the 404/409 of one that has not. */
function finished(
  routes: JobRoutesOptions<PruningResult>,
  id: string,
  what: "model" | "report",
): PruningResult {
  const job = findJob(routes, id);
  if (job.result === undefined) {
    throw new ApiError(
      `Cannot download the ${what} of pruning '${job.id}': it is ${job.status}` +
        (job.status === "queued" || job.status === "running" ? "; poll until it succeeds" : ""),
      { status: 409, code: "conflict", details: { status: job.status } },
    );
  }
  return job.result;
}

async function createPruning(c: Context, context: PruningRoutesContext): Promise<Response> {
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
  const calibrationPart = byName.get("calibration");
  const needs = needsCalibration(recipe);
  if (needs !== undefined && calibrationPart === undefined) {
    throw badField(
      "calibration",
      `${needs} needs the 'calibration' field (an .npz file, or "mnist")`,
    );
  }
  if (needs === undefined && calibrationPart !== undefined) {
    throw badField(
      "calibration",
      "the 'calibration' field is only used by method 'wanda', activation importance and " +
        "recovery",
    );
  }
  const dataset = calibrationPart && await readDataset(calibrationPart, context);
  const filename = prunedName(model.filename);

  const job = queue.submit(async ({ signal, onProgress }) => {
    let result: PrunedModel;
    try {
      result = await context.prune(model.bytes, recipe, {
        ...(dataset && { dataset }),
        signal,
        onProgress,
      });
    } catch (e) {
      if (signal.aborted) throw e;
      throw new ApiError(e instanceof Error ? e.message : String(e), {
        status: 422,
        code: "pruning_failed",
        cause: e,
      });
    }
    checkPruned(result.report);
    return { ...result, filename };
  });
  const sync = !prefersAsync(c.req.header("prefer")) &&
    model.bytes.length <= context.syncMaxModelBytes;
  return answerJob(c, jobRoutes(queue), job, sync);
}

/** A job as clients see it: the report and the model's URL, never the model's bytes. */
function view(snapshot: JobSnapshot<PruningResult>): unknown {
  const { result, ...rest } = snapshot;
  if (result === undefined) return rest;
  return {
    ...rest,
    result: {
      report: result.report,
      model: { url: `${PATH}/${snapshot.id}/model`, bytes: result.model.length },
      reportUrl: `${PATH}/${snapshot.id}/report`,
    },
  };
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
  const nodes = notPruned(report);
  const why = nodes.length === 0
    ? "it has no Gemm, MatMul or Conv node with a constant weight"
    : nodes.map((n) => `node '${n.node}' (${n.opType}): ${n.reason}`).join("; ");
  throw new ApiError(`Cannot prune model: no layer can be pruned: ${why}`, {
    status: 422,
    code: "pruning_failed",
    details: { nodes },
  });
}

/** A node that was not pruned, and why. */
interface NotPruned {
  readonly node: string;
  readonly opType: string;
  readonly reason: string;
}

/**
 * Every node the report says was not pruned, once, with the first reason given: nodes not
 * considered, layers skipped, and for structured pruning the source layers of groups that lost
 * no unit and the nodes the dependency analysis could not see through.
 */
function notPruned(report: PruneReport): NotPruned[] {
  const out: NotPruned[] = [];
  const seen = new Set<string>();
  const add = (node: string, opType: string, reason: string): void => {
    if (seen.has(node)) return;
    seen.add(node);
    out.push({ node, opType, reason });
  };
  for (const s of report.skipped) add(s.node, s.opType, s.reason);
  for (const l of report.layers) if (l.status === "skipped") add(l.node, l.opType, l.reason ?? "");
  const details = report.structured as Partial<StructuredDetails> | undefined;
  const pruned = new Set(report.layers.filter((l) => l.status === "pruned").map((l) => l.node));
  for (const g of details?.groups ?? []) {
    if (g.removed > 0 || g.reason === undefined) continue;
    for (const source of g.sources) {
      if (pruned.has(source)) continue;
      add(source, g.members.find((m) => m.node === source)?.op ?? "", g.reason);
    }
  }
  for (const u of details?.unsupported ?? []) add(u.node, u.op, u.reason);
  return out;
}

/** What structured pruning puts in `report.structured` (see `pruneStructured`). */
interface StructuredDetails {
  readonly groups: readonly ChannelGroup[];
  readonly unsupported: readonly UnsupportedNode[];
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
  let json: unknown;
  try {
    json = JSON.parse(new TextDecoder().decode(part.bytes));
  } catch (e) {
    throw new ApiError(
      `Invalid recipe: the 'recipe' field is not JSON: ${e instanceof Error ? e.message : e}`,
      { status: 400, code: "invalid_recipe", details: { field: "recipe" }, cause: e },
    );
  }
  try {
    return validatePruneRecipe(json);
  } catch (e) {
    if (!(e instanceof TypeError || e instanceof RangeError || e instanceof SyntaxError)) throw e;
    const detail = e.message.replace(/^Invalid prune recipe: /, "");
    const parsed = PruneRecipeSchema.safeParse(json);
    const issue = parsed.success ? undefined : parsed.error.issues[0];
    const field = issue === undefined ? fieldOf(detail) : formatPath(
      issue.code === "unrecognized_keys" ? [...issue.path, issue.keys[0] ?? ""] : issue.path,
    );
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

function formatPath(path: readonly PropertyKey[]): string {
  return path.map((p, i) => typeof p === "number" ? `[${p}]` : `${i === 0 ? "" : "."}${String(p)}`)
    .join("");
}

function checkModel(part: FormPart): void {
  try {
    decodeModel(part.bytes);
  } catch (e) {
    if (!(e instanceof OnnxParseError)) throw e;
    throw new ApiError(`Cannot prune field '${part.name}': ${e.message}`, {
      status: 422,
      code: "invalid_model",
      details: { field: part.name, offset: e.offset },
      cause: e,
    });
  }
}

async function readDataset(part: FormPart, context: PruningRoutesContext): Promise<Dataset> {
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
      `Cannot prune field 'calibration': ${e instanceof Error ? e.message : String(e)}`,
      { status: 422, code: "invalid_dataset", details: { field: "calibration" }, cause: e },
    );
  }
}

/** `mlp.onnx` -> `mlp.pruned.onnx`, reduced to characters safe in a header. */
function prunedName(filename: string | undefined): string {
  const base = (filename ?? "model.onnx").split(/[\\/]/).pop()!.replace(/[^\w.-]/g, "_")
    .replace(/\.onnx$/i, "");
  return `${base || "model"}.pruned.onnx`;
}

function badField(field: string, why: string): ApiError {
  return new ApiError(`Cannot read the request: ${why}`, {
    status: 400,
    code: "bad_request",
    details: { field },
  });
}
