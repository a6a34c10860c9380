/**
 * What the services that take a model, a JSON recipe and calibration data in one
 * `multipart/form-data` upload do with its parts, worded the same way everywhere: a 400 naming
 * the field, the parts by name, a model that must decode, a JSON part, a calibration part
 * (an uploaded file or a built-in dataset's name), and the download name of a derived model.
 * @module
 */
import type { z } from "@hono/zod-openapi";
import { decodeModel, OnnxParseError } from "@modelpress/onnx";
import { ApiError, type ApiErrorCode } from "./api_error.ts";
import { type FormPart, readMultipart } from "./read_multipart.ts";

/** Upload limits in bytes of a service that takes a model, a recipe and calibration data. */
export interface RecipeUploadLimits {
  /** The whole request body. */
  readonly maxBodyBytes: number;
  /** The `model` part. */
  readonly maxModelBytes: number;
  /** An uploaded `calibration` part. */
  readonly maxDatasetBytes: number;
  /** The `recipe` part. */
  readonly maxRecipeBytes: number;
}

/**
 * Reads a model-and-recipe upload: the `model`, `recipe` and `calibration` parts within their
 * limits (see `readMultipart`), by name ({@linkcode partsByName}).
 *
 * @param request The request.
 * @param limits The upload limits.
 * @returns The parts by name.
 * @throws {ApiError} 413 over a limit, 415 when not multipart, 400 for an unknown or repeated
 * field.
 * @example
 * ```ts
 * import { readRecipeUpload } from "@modelpress/http";
 * const form = new FormData();
 * form.set("recipe", '{"method":"dynamic"}');
 * const parts = await readRecipeUpload(
 *   new Request("http://x/", { method: "POST", body: form }),
 *   { maxBodyBytes: 1 << 20, maxModelBytes: 1 << 20, maxDatasetBytes: 1 << 20, maxRecipeBytes: 1024 },
 * );
 * parts.has("recipe"); // true
 * ```
 */
export async function readRecipeUpload(
  request: Request,
  limits: RecipeUploadLimits,
): Promise<Map<string, FormPart>> {
  return partsByName(
    await readMultipart(request, {
      maxBodyBytes: limits.maxBodyBytes,
      partLimits: {
        model: limits.maxModelBytes,
        recipe: limits.maxRecipeBytes,
        calibration: limits.maxDatasetBytes,
      },
    }),
  );
}

/**
 * The 400 (`bad_request`) of a request whose field `field` is missing, repeated or wrong:
 * "Cannot read the request: <why>", with `details.field`.
 *
 * @param field The field's name.
 * @param why What is wrong, in words.
 * @returns The error to throw.
 * @example
 * ```ts
 * import { badField } from "@modelpress/http";
 * badField("model", "the 'model' field is missing").message;
 * // "Cannot read the request: the 'model' field is missing"
 * ```
 */
export function badField(field: string, why: string): ApiError {
  return new ApiError(`Cannot read the request: ${why}`, {
    status: 400,
    code: "bad_request",
    details: { field },
  });
}

/**
 * The parts of a form by field name; a field given twice is a 400 ({@linkcode badField}).
 *
 * @param parts The parts, as `readMultipart` returns them.
 * @returns The parts by name.
 * @throws {ApiError} 400 when a field is given twice.
 * @example
 * ```ts
 * import { partsByName } from "@modelpress/http";
 * const parts = partsByName([
 *   { name: "recipe", filename: undefined, contentType: undefined, bytes: new Uint8Array() },
 * ]);
 * parts.has("recipe"); // true
 * ```
 */
export function partsByName(parts: readonly FormPart[]): Map<string, FormPart> {
  const byName = new Map<string, FormPart>();
  for (const part of parts) {
    if (byName.has(part.name)) throw badField(part.name, `field '${part.name}' is given twice`);
    byName.set(part.name, part);
  }
  return byName;
}

/**
 * Checks that a part decodes as an ONNX model: otherwise a 422 (`invalid_model`)
 * "Cannot <verb> field '<name>': <why>" with the field and the byte offset in `details`.
 *
 * @param part The model's part.
 * @param verb What the service does with it, for the message (`prune`, `quantize`).
 * @throws {ApiError} 422 when the bytes are not an ONNX model.
 * @example
 * ```ts
 * import { checkModelPart } from "@modelpress/http";
 * const part = { name: "model", filename: "m.onnx", contentType: undefined, bytes: new Uint8Array([0xff]) };
 * try {
 *   checkModelPart(part, "prune");
 * } catch (e) {
 *   console.log((e as Error).message); // "Cannot prune field 'model': ..."
 * }
 * ```
 */
export function checkModelPart(part: FormPart, verb: string): void {
  try {
    decodeModel(part.bytes);
  } catch (e) {
    if (!(e instanceof OnnxParseError)) throw e;
    throw new ApiError(`Cannot ${verb} field '${part.name}': ${e.message}`, {
      status: 422,
      code: "invalid_model",
      details: { field: part.name, offset: e.offset },
      cause: e,
    });
  }
}

/**
 * The `model` part, which must be given (400 otherwise) and decode as an ONNX model (422
 * otherwise, see {@linkcode checkModelPart}).
 *
 * @param parts The parts by name.
 * @param verb What the service does with the model, for messages (`prune`, `quantize`).
 * @returns The model's part.
 * @throws {ApiError} 400 when missing, 422 when not an ONNX model.
 * @example
 * ```ts
 * import { modelPart } from "@modelpress/http";
 * try {
 *   modelPart(new Map(), "prune");
 * } catch (e) {
 *   console.log((e as Error).message); // "Cannot read the request: the 'model' field (an ONNX file) is missing"
 * }
 * ```
 */
export function modelPart(parts: ReadonlyMap<string, FormPart>, verb: string): FormPart {
  const model = parts.get("model");
  if (model === undefined) throw badField("model", "the 'model' field (an ONNX file) is missing");
  checkModelPart(model, verb);
  return model;
}

/**
 * Parses a part as JSON; text that is not JSON is a 400 "Invalid <name>: the '<name>' field is
 * not JSON: <why>" with `code` and `details.field`.
 *
 * @param part The part.
 * @param code The error code (`invalid_recipe`, `invalid_options`).
 * @returns The parsed value (not yet validated).
 * @throws {ApiError} 400 when the part is not JSON.
 * @example
 * ```ts
 * import { parseJsonPart } from "@modelpress/http";
 * const bytes = new TextEncoder().encode('{"method":"dynamic"}');
 * parseJsonPart({ name: "recipe", filename: undefined, contentType: undefined, bytes }, "invalid_recipe");
 * // { method: "dynamic" }
 * ```
 */
export function parseJsonPart(
  part: FormPart,
  code: "invalid_recipe" | "invalid_options",
): unknown {
  try {
    return JSON.parse(new TextDecoder().decode(part.bytes));
  } catch (e) {
    throw new ApiError(
      `Invalid ${part.name}: the '${part.name}' field is not JSON: ${
        e instanceof Error ? e.message : e
      }`,
      { status: 400, code, details: { field: part.name }, cause: e },
    );
  }
}

/** Where a calibration part's data is, as {@linkcode readCalibrationPart} hands it to `load`. */
export type CalibrationLoadOptions = { readonly name?: string } | { readonly split: "train" };

/** Options of {@linkcode readCalibrationPart}. */
export interface ReadCalibrationPartOptions<T, B extends string> {
  /** What the service does, for messages (`prune`, `quantize`). */
  readonly verb: string;
  /** What needs calibration data in this request, in words (`method 'static'`), or undefined. */
  readonly neededBy: string | undefined;
  /** What uses calibration data at all, in words, for a part given that nothing needs. */
  readonly usedBy: string;
  /** The names of the built-in datasets a text part may name (`mnist`). */
  readonly builtins: readonly B[];
  /** Loads the dataset: `loadDataset` of `@modelpress/evaluate`, or a stand-in. */
  readonly load: (source: Uint8Array | B, options: CalibrationLoadOptions) => Promise<T>;
}

/**
 * Reads the `calibration` part: required when something in the request needs it (400
 * otherwise), refused when nothing does (400), then loaded: an uploaded file (a part with a file
 * name, or a Content-Type other than text/plain) as its bytes under its file name, a text part
 * as the name of a built-in dataset on its train split (so that evaluating on the test split
 * stays fair). A dataset that does not load is a 422 (`invalid_dataset`)
 * "Cannot <verb> field '<name>': <why>".
 *
 * @param part The `calibration` part, if given.
 * @param options What needs and uses calibration, the built-ins and the loader.
 * @returns The dataset, or undefined when none is needed.
 * @throws {ApiError} 400 for a part missing, unused or naming an unknown built-in; 422 when
 * loading fails.
 * @example
 * ```ts
 * import { readCalibrationPart } from "@modelpress/http";
 * const bytes = new TextEncoder().encode("mnist");
 * const dataset = await readCalibrationPart(
 *   { name: "calibration", filename: undefined, contentType: undefined, bytes },
 *   {
 *     verb: "quantize",
 *     neededBy: "method 'static'",
 *     usedBy: "method 'static'",
 *     builtins: ["mnist"],
 *     load: (source, options) => Promise.resolve({ source, options }),
 *   },
 * );
 * // { source: "mnist", options: { split: "train" } }
 * ```
 */
export async function readCalibrationPart<T, B extends string>(
  part: FormPart | undefined,
  options: ReadCalibrationPartOptions<T, B>,
): Promise<T | undefined> {
  const { neededBy, builtins } = options;
  if (neededBy !== undefined && part === undefined) {
    throw badField(
      "calibration",
      `${neededBy} needs the 'calibration' field (an .npz file, or "mnist")`,
    );
  }
  if (part === undefined) return undefined;
  if (neededBy === undefined) {
    throw badField("calibration", `the 'calibration' field is only used by ${options.usedBy}`);
  }
  const isFile = part.filename !== undefined ||
    (part.contentType !== undefined && !part.contentType.startsWith("text/plain"));
  let source: Uint8Array | B;
  if (isFile) {
    source = part.bytes;
  } else {
    const name = new TextDecoder().decode(part.bytes).trim();
    if (!(builtins as readonly string[]).includes(name)) {
      throw badField(
        "calibration",
        `unknown built-in dataset '${name}' (built in: ${builtins.join(", ")}; ` +
          "or upload an .npz file)",
      );
    }
    source = name as B;
  }
  try {
    return await options.load(
      source,
      isFile ? (part.filename !== undefined ? { name: part.filename } : {}) : { split: "train" },
    );
  } catch (e) {
    throw new ApiError(
      `Cannot ${options.verb} field '${part.name}': ${e instanceof Error ? e.message : String(e)}`,
      { status: 422, code: "invalid_dataset", details: { field: part.name }, cause: e },
    );
  }
}

/**
 * What a job's task throws when its work throws: the error itself once the job was cancelled
 * (the signal's reason), else a 422 with `code` and the error's message.
 *
 * @param error What the work threw.
 * @param signal The job's signal.
 * @param code The failed job's code (`pruning_failed`).
 * @returns The error to throw.
 * @example
 * ```ts
 * import { jobFailure } from "@modelpress/http";
 * jobFailure(new RangeError("too sparse"), new AbortController().signal, "pruning_failed");
 * // ApiError 422 pruning_failed "too sparse"
 * ```
 */
export function jobFailure(error: unknown, signal: AbortSignal, code: ApiErrorCode): unknown {
  if (signal.aborted) return error;
  return new ApiError(error instanceof Error ? error.message : String(error), {
    status: 422,
    code,
    cause: error,
  });
}

/**
 * The download name of a model made from an upload: `mlp.onnx` -> `mlp.<tag>.onnx`, reduced to
 * characters safe in a header (`model.<tag>.onnx` when there is no name).
 *
 * @param filename The uploaded file's name, if any.
 * @param tag What was done to it (`pruned`, `quantized`).
 * @returns The file name.
 * @example
 * ```ts
 * import { derivedModelName } from "@modelpress/http";
 * derivedModelName("dir/my model.onnx", "pruned"); // "my_model.pruned.onnx"
 * ```
 */
export function derivedModelName(filename: string | undefined, tag: string): string {
  const base = (filename ?? "model.onnx").split(/[\\/]/).pop()!.replace(/[^\w.-]/g, "_")
    .replace(/\.onnx$/i, "");
  return `${base || "model"}.${tag}.onnx`;
}

/**
 * A field path as messages and `details.field` name it: `bounds[0].min`, `calibration.samples`.
 *
 * @param path The path's keys (a zod issue's `path`).
 * @returns The path in words.
 * @example
 * ```ts
 * import { formatFieldPath } from "@modelpress/http";
 * formatFieldPath(["bounds", 0, "min"]); // "bounds[0].min"
 * ```
 */
export function formatFieldPath(path: readonly PropertyKey[]): string {
  return path.map((p, i) => typeof p === "number" ? `[${p}]` : `${i === 0 ? "" : "."}${String(p)}`)
    .join("");
}

/**
 * The field a zod issue is about: its path, or for an unknown key (reported at its parent) the
 * key itself.
 *
 * @param issue The issue.
 * @returns The field's path ({@linkcode formatFieldPath}).
 * @example
 * ```ts
 * import { z } from "@hono/zod-openapi";
 * import { issueField } from "@modelpress/http";
 * const result = z.strictObject({ a: z.strictObject({}) }).safeParse({ a: { b: 1 } });
 * if (!result.success) issueField(result.error.issues[0]!); // "a.b"
 * ```
 */
export function issueField(issue: z.ZodError["issues"][number]): string {
  return formatFieldPath(
    issue.code === "unrecognized_keys" ? [...issue.path, issue.keys[0] ?? ""] : issue.path,
  );
}
