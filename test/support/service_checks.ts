/**
 * Test helpers for services built on `@modelpress/http`: multipart forms and requests, the
 * error body's checks, a gate that holds stand-in jobs until the test releases them, and a
 * stand-in model job runner built on it.
 * @module
 */
import assert from "node:assert/strict";
import { pollUntil } from "./poll_until.ts";
import { ApiError, type ProgressUpdate } from "@modelpress/http";

/** The body of every error answer. */
export interface ErrorBody {
  /** The error. */
  error: { code: string; message: string; details?: Record<string, unknown> };
}

/**
 * Checks that `res` is a JSON error answer of `status` with a message, and returns its error.
 *
 * @param res The response.
 * @param status The status it must have.
 * @returns The error.
 */
export async function errorOf(res: Response, status: number): Promise<ErrorBody["error"]> {
  const body = await res.json() as ErrorBody;
  assert.equal(res.status, status, JSON.stringify(body));
  assert.match(res.headers.get("content-type") ?? "", /^application\/json/);
  assert.equal(typeof body.error.message, "string");
  return body.error;
}

/** A file field of {@linkcode multipartForm}. */
export interface FileField {
  /** The file's bytes. */
  readonly bytes: Uint8Array;
  /** Its name. */
  readonly filename: string;
}

/** A field of {@linkcode multipartForm}: text, a file, or nothing (left out). */
export type FormField = string | FileField | undefined;

/**
 * Builds a multipart form from fields in order; undefined ones are left out.
 *
 * @param fields The fields.
 * @returns The form.
 */
export function multipartForm(fields: Readonly<Record<string, FormField>>): FormData {
  const form = new FormData();
  for (const [name, field] of Object.entries(fields)) {
    if (field === undefined) continue;
    if (typeof field === "string") form.set(name, field);
    else form.set(name, new File([field.bytes as BlobPart], field.filename));
  }
  return form;
}

/**
 * A file field, or undefined when there are no bytes.
 *
 * @param bytes The bytes, if any.
 * @param filename The file's name.
 * @returns The field.
 */
export function fileField(bytes: Uint8Array | undefined, filename: string): FormField {
  return bytes ? { bytes, filename } : undefined;
}

/**
 * A JSON text field: the value stringified unless already a string; undefined stays undefined.
 *
 * @param value The value.
 * @returns The field.
 */
export function jsonField(value: unknown): FormField {
  if (value === undefined) return undefined;
  return typeof value === "string" ? value : JSON.stringify(value);
}

/**
 * Posts a form to an app in-process.
 *
 * @param app The app (`app.request`).
 * @param path The path.
 * @param form The form.
 * @param headers More headers.
 * @returns The response.
 */
export function postForm(
  app: { request: (path: string, init: RequestInit) => Response | Promise<Response> },
  path: string,
  form: FormData,
  headers: Record<string, string> = {},
): Promise<Response> {
  return Promise.resolve(app.request(path, { method: "POST", body: form, headers }));
}

/** Holds stand-in jobs until the test releases them; see {@linkcode jobGate}. */
export interface JobGate {
  /** Marks a job started, then waits until released (or rejects with `signal`'s reason). */
  hold(signal: AbortSignal | undefined): Promise<void>;
  /** Resolves when a job has started. */
  started(): Promise<void>;
  /** Lets every held job go on. */
  release(): void;
}

/**
 * Makes a gate: stand-in jobs call `hold` after reporting progress, the test awaits `started`,
 * checks what it wants, and calls `release`; an aborted job rejects with the signal's reason, as
 * the libraries do.
 *
 * @returns The gate.
 */
export function jobGate(): JobGate {
  let release!: () => void;
  let gate = new Promise<void>((r) => (release = r));
  let onStart!: () => void;
  let startedPromise = new Promise<void>((r) => (onStart = r));
  return {
    hold: async (signal) => {
      onStart();
      await new Promise<void>((resolve, reject) => {
        gate.then(resolve);
        signal?.addEventListener("abort", () => reject(signal.reason), { once: true });
      });
    },
    started: () => startedPromise,
    release: () => {
      release();
      gate = new Promise<void>((r) => (release = r));
      startedPromise = new Promise<void>((r) => (onStart = r));
    },
  };
}

/** What a stand-in job runner is given: a signal and a progress callback, as the libraries. */
export interface RunnerOptions {
  /** Cancels the run. */
  readonly signal?: AbortSignal;
  /** Progress. */
  readonly onProgress?: (update: ProgressUpdate) => void;
}

/** A stand-in model job runner whose runs the test releases one by one. */
export interface ControlledRunner<R, O, M> {
  /** Pass as the service's runner (`prune`, `quantize`). */
  readonly run: (model: Uint8Array, recipe: R, options: O) => Promise<M>;
  /** Recipes and options of every call so far. */
  readonly calls: { recipe: R; options: O }[];
  /** Resolves when a call has started (and reported its first progress). */
  started(): Promise<void>;
  /** Lets every running call finish. */
  release(): void;
}

/**
 * Makes a runner that records its call, reports `progress`, and then waits until released or
 * aborted (rejecting with the signal's reason); released, it answers `result(model, recipe)`.
 *
 * @param result The stand-in result of a run.
 * @param progress The progress each run reports first.
 * @returns The runner and its controls.
 * @example
 * ```ts
 * import { controlledRunner } from "../../test/support/service_checks.ts";
 * const runner = controlledRunner(
 *   (model: Uint8Array, recipe: { bits: number }) => ({ model, bits: recipe.bits }),
 *   { phase: "quantize", done: 1, total: 2, samplesPerSecond: 1 },
 * );
 * const pending = runner.run(new Uint8Array(1), { bits: 8 }, {});
 * await runner.started();
 * runner.release();
 * (await pending).bits; // 8
 * ```
 */
export function controlledRunner<R, O extends RunnerOptions, M>(
  result: (model: Uint8Array, recipe: R) => M,
  progress: ProgressUpdate,
): ControlledRunner<R, O, M> {
  const calls: ControlledRunner<R, O, M>["calls"] = [];
  const gate = jobGate();
  return {
    calls,
    run: async (model, recipe, options) => {
      calls.push({ recipe, options });
      options.onProgress?.(progress);
      await gate.hold(options.signal);
      return result(model, recipe);
    },
    started: gate.started,
    release: gate.release,
  };
}

/** A {@linkcode ControlledRunner} whose `run` is named as the service's deps name it. */
export type NamedRunner<K extends string, R, O, M> =
  & { readonly [P in K]: ControlledRunner<R, O, M>["run"] }
  & Omit<ControlledRunner<R, O, M>, "run">;

/**
 * A {@linkcode controlledRunner} with `run` under the name the service's deps use.
 *
 * @param name The name (`prune`, `quantize`).
 * @param runner The runner.
 * @returns The runner with its `run` renamed.
 * @example
 * ```ts
 * import { controlledRunner, namedRunner } from "../../test/support/service_checks.ts";
 * const pruner = namedRunner("prune", controlledRunner(
 *   (model: Uint8Array, _recipe: unknown) => ({ model }),
 *   { phase: "prune", done: 1, total: 2, samplesPerSecond: 1 },
 * ));
 * typeof pruner.prune; // "function"
 * ```
 */
export function namedRunner<K extends string, R, O, M>(
  name: K,
  runner: ControlledRunner<R, O, M>,
): NamedRunner<K, R, O, M> {
  const { run, ...controls } = runner;
  return { [name]: run, ...controls } as NamedRunner<K, R, O, M>;
}

/** Parts of {@linkcode recipeForm}. */
export interface RecipeFormParts {
  /** The model's bytes. */
  readonly model?: Uint8Array;
  /** The recipe (stringified unless already a string). */
  readonly recipe?: unknown;
  /** A built-in dataset name, or the bytes of a file. */
  readonly calibration?: string | Uint8Array;
}

/**
 * Builds the multipart form of a model-and-recipe upload (`POST /v1/prunings`,
 * `POST /v1/quantizations`): the model as `mlp.onnx`, the recipe as JSON, the calibration as a
 * built-in's name or a file `data.npz`; parts not given are left out.
 *
 * @param parts What to put in it.
 * @returns The form.
 * @example
 * ```ts
 * import { recipeForm } from "../../test/support/service_checks.ts";
 * const form = recipeForm({ recipe: { method: "dynamic" }, calibration: "mnist" });
 * form.get("recipe"); // '{"method":"dynamic"}'
 * ```
 */
export function recipeForm(parts: RecipeFormParts): FormData {
  return multipartForm({
    model: fileField(parts.model, "mlp.onnx"),
    recipe: jsonField(parts.recipe),
    calibration: typeof parts.calibration === "string"
      ? parts.calibration
      : fileField(parts.calibration, "data.npz"),
  });
}

/** An app under test: what `app.request` of Hono offers. */
export interface TestApp {
  /** Answers a request in-process. */
  request(path: string, init?: RequestInit): Response | Promise<Response>;
}

/** A job as the model job services answer it, loosely typed, for the checks below. */
export interface ModelJobBody<R = unknown> {
  /** The job's id. */
  id: string;
  /** Its status. */
  status: string;
  /** Whether a cancel was asked for. */
  cancelRequested: boolean;
  /** Its progress. */
  progress: { phase: string; done: number; total: number; percent: number } | null;
  /** The result once it succeeded. */
  result?: { report: R; model: { url: string; bytes: number }; reportUrl?: string };
  /** The error once it failed. */
  error?: ErrorBody["error"];
}

/**
 * What the checks below submit: the parts of a model-and-recipe form ({@linkcode recipeForm}),
 * or a ready form, for a service whose form is another (`POST /v1/evaluations`).
 */
export type SubmitForm = RecipeFormParts | FormData;

/**
 * Posts a model-and-recipe form ({@linkcode recipeForm}), or a ready form, to a job service.
 *
 * @param app The app.
 * @param path The collection's path (`/v1/prunings`).
 * @param parts The form's parts, or the form.
 * @param headers More headers.
 * @returns The response.
 */
export function postRecipeForm(
  app: TestApp,
  path: string,
  parts: SubmitForm,
  headers: Record<string, string> = {},
): Promise<Response> {
  return postForm(app, path, parts instanceof FormData ? parts : recipeForm(parts), headers);
}

/**
 * Checks `GET /health` of an idle service: 200 `{ status: "ok", service, jobs: 0 and 0 }`.
 *
 * @param app The app.
 * @param service The service's name.
 */
export async function assertIdleHealth(app: TestApp, service: string): Promise<void> {
  const res = await app.request("/health");
  assert.equal(res.status, 200);
  assert.deepEqual(await res.json(), {
    status: "ok",
    service,
    jobs: { running: 0, queued: 0 },
  });
}

/**
 * Checks that a JSON body is refused with 415 `unsupported_media_type`.
 *
 * @param app The app.
 * @param path The collection's path.
 * @param recipe A recipe to send as JSON.
 */
export async function assertRefusesJsonBody(
  app: TestApp,
  path: string,
  recipe: unknown,
): Promise<void> {
  const res = await app.request(path, {
    method: "POST",
    body: JSON.stringify({ recipe }),
    headers: { "content-type": "application/json" },
  });
  const error = await errorOf(res, 415);
  assert.equal(error.code, "unsupported_media_type");
  assert.match(error.message, /multipart\/form-data/);
}

/**
 * Checks the 400s of a model-and-recipe upload that every such service shares: no model, no
 * recipe, an unknown form field.
 *
 * @param app The app.
 * @param path The collection's path.
 * @param model A valid model's bytes.
 * @param recipe A valid recipe.
 */
export async function assertRefusesMissingAndUnknownParts(
  app: TestApp,
  path: string,
  model: Uint8Array,
  recipe: unknown,
): Promise<void> {
  const noModel = await errorOf(await postRecipeForm(app, path, { recipe }), 400);
  assert.equal(noModel.details?.field, "model");
  const noRecipe = await errorOf(await postRecipeForm(app, path, { model }), 400);
  assert.equal(noRecipe.details?.field, "recipe");
  const form = recipeForm({ model, recipe });
  form.set("options", "{}");
  const extra = await errorOf(await app.request(path, { method: "POST", body: form }), 400);
  assert.match(extra.message, /unknown form field 'options'/);
}

/**
 * Checks the upload limits of an app made with `limits: { maxModelBytes: 1024, maxBodyBytes:
 * 10_000 }`: a larger model part is a 413 naming the part, and a larger Content-Length is a 413
 * before the body is read.
 *
 * @param app The app, with those limits.
 * @param path The collection's path.
 * @param recipe A valid recipe.
 */
export async function assertUploadLimits(
  app: TestApp,
  path: string,
  recipe: unknown,
): Promise<void> {
  const part = await errorOf(
    await postRecipeForm(app, path, { model: new Uint8Array(4096), recipe }),
    413,
  );
  assert.equal(part.code, "payload_too_large");
  assert.deepEqual(part.details, { part: "model", limitBytes: 1024 });
  await assertContentLengthLimit(app, path);
}

/**
 * Checks that with `limits: { maxBodyBytes: 10_000 }` a larger Content-Length is a 413 naming the
 * limit, answered before the body is read.
 *
 * @param app The app, with that limit.
 * @param path The collection's path.
 */
export async function assertContentLengthLimit(app: TestApp, path: string): Promise<void> {
  let pulled = 0;
  const body = new ReadableStream<Uint8Array>({
    pull(controller) {
      pulled++;
      controller.enqueue(new Uint8Array(1024));
    },
  });
  const res = await app.request(path, {
    method: "POST",
    body,
    headers: { "content-type": "multipart/form-data; boundary=x", "content-length": "99999999" },
  });
  const whole = await errorOf(res, 413);
  assert.equal(whole.details?.limitBytes, 10_000);
  assert.ok(pulled <= 1, `pulled ${pulled} chunks`);
}

/**
 * Checks that bytes that are not an ONNX model are a 422 `invalid_model` naming the field and the
 * parser's byte offset.
 *
 * @param app The app.
 * @param path The collection's path.
 * @param recipe A valid recipe.
 */
export async function assertRefusesInvalidModel(
  app: TestApp,
  path: string,
  recipe: unknown,
): Promise<void> {
  const garbage = new Uint8Array([0x08, 0x07, 0x12, 0xff, 0xff, 0xff]);
  const error = await errorOf(await postRecipeForm(app, path, { model: garbage, recipe }), 422);
  assert.equal(error.code, "invalid_model");
  assert.equal(error.details?.field, "model");
  assert.equal(typeof error.details?.offset, "number");
  assert.match(error.message, new RegExp(`at byte ${error.details?.offset}: `));
}

/**
 * Submits a job to an app whose runner is `runner` and whose threshold makes it a 202, and
 * checks its Location, its progress once started, and the 409 of its model (of `subpaths`,
 * default `["model"]`) while it runs.
 *
 * @param app The app.
 * @param path The collection's path.
 * @param parts The form's parts, or the form.
 * @param options The runner's controls, the progress it reports, as the job shows it, and the
 * subpaths that are not ready while it runs.
 * @returns The job's URL (Location).
 */
export async function assertRunningJob(
  app: TestApp,
  path: string,
  parts: SubmitForm,
  options: {
    readonly runner: { started(): Promise<void> };
    readonly progress: unknown;
    readonly subpaths?: readonly string[];
  },
): Promise<string> {
  const res = await postRecipeForm(app, path, parts);
  assert.equal(res.status, 202);
  const location = res.headers.get("location") ?? "";
  const created = await res.json() as ModelJobBody;
  assert.equal(location, `${path}/${created.id}`);
  await options.runner.started();
  const running = await (await app.request(location)).json() as ModelJobBody;
  assert.equal(running.status, "running");
  assert.deepEqual(running.progress, options.progress);
  for (const sub of options.subpaths ?? ["model"]) {
    const early = await errorOf(await app.request(`${location}/${sub}`), 409);
    assert.equal(early.details?.status, "running");
    assert.match(early.message, /poll until it succeeds/);
  }
  return location;
}

/**
 * Cancels a running job and checks that it ends cancelled, with no result and a 409 model (a 409
 * for each of `subpaths`, default `["model"]`).
 *
 * @param app The app.
 * @param location The job's URL.
 * @param subpaths The job's subpaths that have nothing to give once it is cancelled.
 */
export async function assertCancels(
  app: TestApp,
  location: string,
  subpaths: readonly string[] = ["model"],
): Promise<void> {
  const cancel = await app.request(`${location}/cancel`, { method: "POST" });
  assert.ok(cancel.status === 200 || cancel.status === 202, String(cancel.status));
  assert.equal((await cancel.json() as ModelJobBody).cancelRequested, true);
  const final = await pollUntil(async () => {
    const body = await (await app.request(location)).json() as ModelJobBody;
    return body.status === "running" ? undefined : body;
  });
  assert.equal(final.status, "cancelled");
  assert.equal(final.result, undefined);
  for (const sub of subpaths) {
    const none = await errorOf(await app.request(`${location}/${sub}`), 409);
    assert.equal(none.details?.status, "cancelled");
  }
}

/**
 * Checks `Prefer: respond-async`: a small model is a 202 job all the same, which succeeds with a
 * model to download, after which its cancel is a 409.
 *
 * @param app The app (with a runner that finishes at once).
 * @param path The collection's path.
 * @param parts The form's parts.
 * @returns The finished job.
 */
export async function assertPreferAsync(
  app: TestApp,
  path: string,
  parts: RecipeFormParts,
): Promise<ModelJobBody> {
  const res = await postRecipeForm(app, path, parts, { prefer: "respond-async" });
  assert.equal(res.status, 202);
  const location = res.headers.get("location") ?? "";
  const done = await pollUntil(async () => {
    const body = await (await app.request(location)).json() as ModelJobBody;
    return body.status === "succeeded" ? body : undefined;
  });
  assert.equal((await app.request(done.result?.model.url ?? "")).status, 200);
  const conflict = await errorOf(await app.request(`${location}/cancel`, { method: "POST" }), 409);
  assert.equal(conflict.code, "conflict");
  return done;
}

/**
 * Checks the 503 of a full queue: with an app made with `queueOptions: { concurrency: 1,
 * maxQueued: 0, retryAfterSeconds: 7 }` and a held runner, a second job is refused with `busy`
 * and Retry-After 7; the runner is released after.
 *
 * @param app The app.
 * @param path The collection's path.
 * @param parts The form's parts, or the form.
 * @param options The runner's controls and the job's name.
 * @returns The URL (Location) of the first job, released.
 */
export async function assertBusy(
  app: TestApp,
  path: string,
  parts: SubmitForm,
  options: { readonly runner: Pick<JobGate, "started" | "release">; readonly jobName: string },
): Promise<string> {
  const first = await postRecipeForm(app, path, parts, { prefer: "respond-async" });
  assert.equal(first.status, 202);
  await options.runner.started();
  const busy = await postRecipeForm(app, path, parts);
  const error = await errorOf(busy, 503);
  assert.equal(error.code, "busy");
  assert.match(error.message, new RegExp(`Cannot start ${options.jobName}`));
  assert.equal(busy.headers.get("retry-after"), "7");
  options.runner.release();
  return first.headers.get("location") ?? "";
}

/**
 * Checks the 404s of jobs: unknown (and its `subpaths`), expired after the queue's 60 s time to
 * live (`advance` moves the queue's clock), and deleted (204, then 404 for GET and DELETE); and
 * an unknown route.
 *
 * @param app The app, with a queue of `ttlMs: 60_000` whose clock `advance` moves.
 * @param path The collection's path.
 * @param parts The form's parts (of a job that finishes at once).
 * @param options Subpaths of a job (`["model"]`) and how to move the clock by some ms.
 */
export async function assertJobsExpireAndDelete(
  app: TestApp,
  path: string,
  parts: RecipeFormParts,
  options: { readonly subpaths: readonly string[]; readonly advance: (ms: number) => void },
): Promise<void> {
  const unknown = await errorOf(await app.request(`${path}/nope`), 404);
  assert.equal(unknown.code, "not_found");
  assert.match(unknown.message, /'nope'/);
  for (const sub of options.subpaths) await errorOf(await app.request(`${path}/nope/${sub}`), 404);
  const { id } = await (await postRecipeForm(app, path, parts)).json() as ModelJobBody;
  assert.equal((await app.request(`${path}/${id}`)).status, 200);
  options.advance(60_000);
  await errorOf(await app.request(`${path}/${id}/model`), 404);
  const second = await (await postRecipeForm(app, path, parts)).json() as ModelJobBody;
  const del = await app.request(`${path}/${second.id}`, { method: "DELETE" });
  assert.equal(del.status, 204);
  await errorOf(await app.request(`${path}/${second.id}`), 404);
  await errorOf(await app.request(`${path}/${second.id}`, { method: "DELETE" }), 404);
  assert.equal((await errorOf(await app.request("/v2/nothing"), 404)).code, "not_found");
}

/**
 * Checks `GET /openapi.json` of a model job service: OpenAPI 3.1, exactly `/health`, the
 * collection, its job routes and `subpaths`, the POST's and the subpaths' statuses, and the named
 * component schemas.
 *
 * @param app The app.
 * @param path The collection's path.
 * @param options Subpaths of a job besides `cancel` (`["model"]`), and schema names.
 */
export async function assertModelJobOpenApi(
  app: TestApp,
  path: string,
  options: { readonly subpaths: readonly string[]; readonly schemas: readonly string[] },
): Promise<void> {
  const res = await app.request("/openapi.json");
  assert.equal(res.status, 200);
  const doc = await res.json() as {
    openapi: string;
    paths: Record<string, Record<string, { responses: Record<string, unknown> }>>;
    components: { schemas: Record<string, unknown> };
  };
  assert.equal(doc.openapi, "3.1.0");
  const subpaths = options.subpaths.map((s) => `${path}/{id}/${s}`);
  assert.deepEqual(
    Object.keys(doc.paths).sort(),
    ["/health", path, `${path}/{id}`, `${path}/{id}/cancel`, ...subpaths].sort(),
  );
  assert.deepEqual(Object.keys(doc.paths[path] ?? {}), ["post"]);
  assert.deepEqual(Object.keys(doc.paths[`${path}/{id}`] ?? {}).sort(), ["delete", "get"]);
  assert.deepEqual(
    Object.keys(doc.paths[path]?.post?.responses ?? {}).sort(),
    ["200", "202", "400", "413", "415", "422", "503"],
  );
  for (const sub of subpaths) {
    assert.deepEqual(
      Object.keys(doc.paths[sub]?.get?.responses ?? {}).sort(),
      ["200", "404", "409"],
    );
  }
  for (const name of options.schemas) {
    assert.ok(name in doc.components.schemas, `schema ${name}`);
  }
}

/**
 * Runs `f` and returns the {@linkcode ApiError} it throws (failing when it throws nothing, or
 * something else).
 *
 * @param f What should throw.
 * @returns The error.
 */
export function thrownApiError(f: () => unknown): ApiError {
  try {
    f();
  } catch (e) {
    assert.ok(e instanceof ApiError, String(e));
    return e;
  }
  assert.fail("did not throw");
}

/**
 * A `post(app, parts, headers?)` of {@linkcode postRecipeForm} to one collection.
 *
 * @param path The collection's path (`/v1/prunings`).
 * @returns The function.
 */
export function recipePoster(
  path: string,
): (app: TestApp, parts: RecipeFormParts, headers?: Record<string, string>) => Promise<Response> {
  return (app, parts, headers = {}) => postRecipeForm(app, path, parts, headers);
}

/**
 * Checks the direct answer (200) to a small model: a succeeded job with Content-Location, its
 * model's URL, and a download that is `application/octet-stream` named `filename` with the
 * stated number of bytes, the stand-in runners' prefix of the upload.
 *
 * @param app The app (with a stand-in runner that answers at once).
 * @param path The collection's path.
 * @param parts The form's parts, with a model.
 * @param filename The download's file name (`mlp.pruned.onnx`).
 * @returns The job.
 */
export async function assertDirectAnswer<R>(
  app: TestApp,
  path: string,
  parts: RecipeFormParts & { readonly model: Uint8Array },
  filename: string,
): Promise<ModelJobBody<R>> {
  const res = await postRecipeForm(app, path, parts);
  const body = await res.json() as ModelJobBody<R>;
  assert.equal(res.status, 200, JSON.stringify(body));
  assert.equal(body.status, "succeeded");
  assert.equal(res.headers.get("content-location"), `${path}/${body.id}`);
  const url = body.result?.model.url ?? "";
  assert.equal(url, `${path}/${body.id}/model`);
  const download = await app.request(url);
  assert.equal(download.status, 200);
  assert.equal(download.headers.get("content-type"), "application/octet-stream");
  assert.equal(download.headers.get("content-disposition"), `attachment; filename="${filename}"`);
  const bytes = new Uint8Array(await download.arrayBuffer());
  assert.equal(bytes.length, body.result?.model.bytes);
  assert.deepEqual(bytes, parts.model.slice(0, bytes.length));
  return body;
}
