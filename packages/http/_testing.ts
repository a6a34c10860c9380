/**
 * Test helpers for services built on `@modelpress/http`: multipart forms and requests, the
 * error body's checks, and a gate that holds stand-in jobs until the test releases them.
 * @module
 */
import assert from "node:assert/strict";

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
