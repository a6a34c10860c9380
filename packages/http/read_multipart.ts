/**
 * A streaming `multipart/form-data` reader with size limits. Hono's `parseBody()` (and
 * `Request.formData()`) read the whole body before anyone can look at it; this reader counts
 * bytes as they arrive and stops at the first byte over a limit, so an upload that is too large
 * costs the server at most the limit, not the upload.
 * @module
 */
import { Buffer } from "node:buffer";
import { ApiError } from "./api_error.ts";

/** One part of a multipart body, read completely. */
export interface FormPart {
  /** The form field's name (`name=` of its Content-Disposition). */
  readonly name: string;
  /** The file name the client sent (`filename=`), or undefined for a plain field. */
  readonly filename: string | undefined;
  /** The part's Content-Type, or undefined when it has none. */
  readonly contentType: string | undefined;
  /** The part's content. */
  readonly bytes: Uint8Array;
}

/** Limits and options for {@linkcode readMultipart}. */
export interface ReadMultipartOptions {
  /** Most bytes the whole body may have (checked against Content-Length first, then counted). */
  readonly maxBodyBytes: number;
  /**
   * Most bytes of one part's content, by field name. Parts whose name is not listed are refused
   * with 400 (an unknown field), unless `otherPartBytes` is given.
   */
  readonly partLimits: Readonly<Record<string, number>>;
  /** Limit for parts whose name is not in `partLimits`; when absent such parts are refused. */
  readonly otherPartBytes?: number;
  /** Most parts in one body (default 16). */
  readonly maxParts?: number;
  /** Most bytes of one part's headers (default 16 KiB). */
  readonly maxHeaderBytes?: number;
}

const CRLF = Buffer.from("\r\n");
const HEADER_END = Buffer.from("\r\n\r\n");
const DEFAULT_MAX_PARTS = 16;
const DEFAULT_MAX_HEADER_BYTES = 16 * 1024;
const decoder = new TextDecoder();

/**
 * Finds the boundary of a `multipart/form-data` Content-Type.
 *
 * @param contentType The request's Content-Type header, or null.
 * @returns The boundary.
 * @throws {ApiError} 415 when the type is not multipart/form-data, 400 when it has no boundary.
 * @example
 * ```ts
 * import { multipartBoundary } from "@modelpress/http";
 * multipartBoundary('multipart/form-data; boundary="abc"'); // "abc"
 * ```
 */
export function multipartBoundary(contentType: string | null): string {
  const [type = "", ...params] = (contentType ?? "").split(";");
  if (type.trim().toLowerCase() !== "multipart/form-data") {
    throw new ApiError(
      `Cannot read the request: Content-Type must be multipart/form-data, got ${
        contentType === null ? "none" : `'${contentType}'`
      }`,
      { status: 415, code: "unsupported_media_type", details: { expected: "multipart/form-data" } },
    );
  }
  for (const param of params) {
    const eq = param.indexOf("=");
    if (eq === -1 || param.slice(0, eq).trim().toLowerCase() !== "boundary") continue;
    let value = param.slice(eq + 1).trim();
    if (value.startsWith('"') && value.endsWith('"') && value.length >= 2) {
      value = value.slice(1, -1);
    }
    if (value.length >= 1 && value.length <= 70) return value;
  }
  throw new ApiError("Cannot read the request: multipart/form-data without a valid boundary", {
    status: 400,
    code: "bad_request",
  });
}

/**
 * Reads a `multipart/form-data` request body part by part while it streams in, enforcing a limit
 * on the whole body and one per part. A Content-Length over the limit is refused before a byte
 * is read; a body without one (chunked) is refused at the first byte over the limit, and the
 * rest of it is not read.
 *
 * @param request The request.
 * @param options The limits, and which field names are expected.
 * @returns The parts, in the order they came.
 * @throws {ApiError} 415 (not multipart/form-data), 413 (body or a part over its limit), 400
 * (malformed body, unknown field, too many parts).
 * @example
 * ```ts
 * import { readMultipart } from "@modelpress/http";
 * const form = new FormData();
 * form.set("model", new File([new Uint8Array(8)], "m.onnx"));
 * const parts = await readMultipart(new Request("http://x/", { method: "POST", body: form }), {
 *   maxBodyBytes: 1024,
 *   partLimits: { model: 512 },
 * });
 * parts[0]?.bytes.length; // 8
 * ```
 */
export async function readMultipart(
  request: Request,
  options: ReadMultipartOptions,
): Promise<FormPart[]> {
  const boundary = multipartBoundary(request.headers.get("content-type"));
  const declared = request.headers.get("content-length");
  if (declared !== null && Number(declared) > options.maxBodyBytes) {
    throw tooLarge("the request body", Number(declared), options.maxBodyBytes);
  }
  if (request.body === null) throw badRequest("the request has no body");
  const parser = new MultipartParser(boundary, options);
  const reader = request.body.getReader();
  let total = 0;
  try {
    while (true) {
      const { done, value } = await reader.read();
      if (done) break;
      total += value.length;
      if (total > options.maxBodyBytes) {
        throw tooLarge(
          "the request body",
          declared === null ? total : Number(declared),
          options.maxBodyBytes,
        );
      }
      parser.push(value);
    }
  } catch (e) {
    // Stop reading what is left: the answer is already known.
    reader.cancel().catch(() => {});
    throw e;
  }
  return parser.finish();
}

type State = "preamble" | "delimiter" | "headers" | "content" | "epilogue";

/** The state machine behind {@linkcode readMultipart}: feed it chunks, then finish. */
class MultipartParser {
  readonly #delimiter: Buffer;
  readonly #options: ReadMultipartOptions;
  readonly #parts: FormPart[] = [];
  // The body is read as if it began with CRLF, so that the first boundary looks like the others.
  #pending: Buffer = Buffer.from(CRLF);
  #state: State = "preamble";
  #name = "";
  #filename: string | undefined;
  #contentType: string | undefined;
  #limit = 0;
  #chunks: Uint8Array[] = [];
  #size = 0;

  constructor(boundary: string, options: ReadMultipartOptions) {
    this.#delimiter = Buffer.from(`\r\n--${boundary}`);
    this.#options = options;
  }

  push(chunk: Uint8Array): void {
    this.#pending = this.#pending.length === 0
      ? Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength)
      : Buffer.concat([this.#pending, chunk]);
    while (this.#step()) {
      // each step consumes part of #pending; stop when it needs more bytes
    }
  }

  finish(): FormPart[] {
    if (this.#state !== "epilogue") {
      throw badRequest("the multipart body ends before its final boundary");
    }
    return this.#parts;
  }

  /** Consumes what it can of #pending; returns whether to call again. */
  #step(): boolean {
    const buf = this.#pending;
    switch (this.#state) {
      case "preamble":
      case "content": {
        const at = buf.indexOf(this.#delimiter);
        if (at === -1) {
          // Keep a tail that may be the start of the delimiter.
          const keep = Math.min(buf.length, this.#delimiter.length - 1);
          this.#take(buf.subarray(0, buf.length - keep));
          this.#pending = buf.subarray(buf.length - keep);
          return false;
        }
        this.#take(buf.subarray(0, at));
        if (this.#state === "content") this.#endPart();
        this.#pending = buf.subarray(at + this.#delimiter.length);
        this.#state = "delimiter";
        return true;
      }
      case "delimiter": {
        if (buf.length < 2) return false;
        if (buf[0] === 0x2d && buf[1] === 0x2d) { // "--": the final boundary
          this.#pending = Buffer.alloc(0);
          this.#state = "epilogue";
          return false;
        }
        // RFC 2046 allows linear white space after a boundary.
        const eol = buf.indexOf(CRLF);
        if (eol === -1) {
          if (buf.length > 256) throw badRequest("a multipart boundary line is malformed");
          return false;
        }
        if (buf.subarray(0, eol).toString("latin1").trim() !== "") {
          throw badRequest("a multipart boundary line is malformed");
        }
        this.#pending = buf.subarray(eol + 2);
        this.#state = "headers";
        return true;
      }
      case "headers": {
        const maxHeader = this.#options.maxHeaderBytes ?? DEFAULT_MAX_HEADER_BYTES;
        // A part without headers starts right away with the blank line.
        const at = buf.subarray(0, 2).equals(CRLF) ? -2 : buf.indexOf(HEADER_END);
        if (at === -1) {
          if (buf.length > maxHeader) {
            throw badRequest(`a part's headers are over ${maxHeader} bytes`);
          }
          return false;
        }
        this.#startPart(at < 0 ? "" : decoder.decode(buf.subarray(0, at)));
        this.#pending = buf.subarray(at < 0 ? 2 : at + 4);
        this.#state = "content";
        return true;
      }
      case "epilogue":
        this.#pending = Buffer.alloc(0);
        return false;
    }
  }

  #startPart(headerText: string): void {
    const maxParts = this.#options.maxParts ?? DEFAULT_MAX_PARTS;
    if (this.#parts.length >= maxParts) {
      throw badRequest(`the body has more than ${maxParts} parts`);
    }
    let disposition: string | undefined;
    let contentType: string | undefined;
    for (const line of headerText.split("\r\n")) {
      const colon = line.indexOf(":");
      if (colon === -1) continue;
      const key = line.slice(0, colon).trim().toLowerCase();
      const value = line.slice(colon + 1).trim();
      if (key === "content-disposition") disposition = value;
      else if (key === "content-type") contentType = value;
    }
    const name = disposition === undefined ? undefined : dispositionParam(disposition, "name");
    if (name === undefined || !/^form-data\s*(;|$)/i.test(disposition ?? "")) {
      throw badRequest("a part has no Content-Disposition: form-data with a name");
    }
    const limit = this.#options.partLimits[name] ?? this.#options.otherPartBytes;
    if (limit === undefined) {
      const known = Object.keys(this.#options.partLimits).map((k) => `'${k}'`).join(", ");
      throw new ApiError(
        `Cannot read the request: unknown form field '${name}' (expected ${known})`,
        {
          status: 400,
          code: "bad_request",
          details: { part: name },
        },
      );
    }
    this.#name = name;
    this.#filename = dispositionParam(disposition ?? "", "filename");
    this.#contentType = contentType;
    this.#limit = limit;
    this.#chunks = [];
    this.#size = 0;
  }

  #take(bytes: Uint8Array): void {
    if (this.#state !== "content" || bytes.length === 0) return;
    this.#size += bytes.length;
    if (this.#size > this.#limit) {
      throw new ApiError(
        `Cannot read the request: part '${this.#name}' is over its limit of ${this.#limit} bytes`,
        {
          status: 413,
          code: "payload_too_large",
          details: { part: this.#name, limitBytes: this.#limit },
        },
      );
    }
    this.#chunks.push(bytes);
  }

  #endPart(): void {
    // A plain, compact Uint8Array: the chunks are views into larger buffers.
    const bytes = new Uint8Array(this.#size);
    let offset = 0;
    for (const chunk of this.#chunks) {
      bytes.set(chunk, offset);
      offset += chunk.length;
    }
    this.#parts.push({
      name: this.#name,
      filename: this.#filename,
      contentType: this.#contentType,
      bytes,
    });
    this.#chunks = [];
  }
}

/** Reads `key="value"` (or `key=value`) from a Content-Disposition value. */
function dispositionParam(disposition: string, key: string): string | undefined {
  const re = new RegExp(`(?:^|;)\\s*${key}\\s*=\\s*(?:"((?:[^"\\\\]|\\\\.)*)"|([^;]*))`, "i");
  const m = re.exec(disposition);
  if (!m) return undefined;
  return m[1] !== undefined ? m[1].replace(/\\(.)/g, "$1") : m[2]?.trim();
}

function badRequest(why: string): ApiError {
  return new ApiError(`Cannot read the request: ${why}`, { status: 400, code: "bad_request" });
}

function tooLarge(what: string, bytes: number, limit: number): ApiError {
  return new ApiError(`Cannot read the request: ${what} is over its limit of ${limit} bytes`, {
    status: 413,
    code: "payload_too_large",
    details: { limitBytes: limit, ...(Number.isFinite(bytes) ? { receivedBytes: bytes } : {}) },
  });
}
