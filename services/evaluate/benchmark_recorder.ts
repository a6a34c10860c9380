/**
 * Records evaluations as runs in the benchmark service (`POST /v1/evaluations` of
 * `services/benchmark`), so that a client of the evaluate service gets its result stored with
 * one request.
 * @module
 */
import type { EvaluationReport } from "@modelpress/evaluate";

/** What is recorded about one evaluation besides its report. */
export interface RunRecord {
  /** The run's UUID (a retry with the same id and payload is the same run). */
  readonly id: string;
  /** The model's name, such as `mnist_mlp`. */
  readonly model: string;
  /** The recipe's config; its `name`, when a string, names it (default `{}`). */
  readonly recipe?: Readonly<Record<string, unknown>> | undefined;
  /** When the evaluation started and ended (ISO 8601). */
  readonly startedAt: string;
  readonly endedAt: string;
  /** Git commit and branch of the code that made the model. */
  readonly commit?: string | undefined;
  readonly branch?: string | undefined;
  /** Free-form tags and write-once params of the run. */
  readonly tags?: Readonly<Record<string, unknown>> | undefined;
  readonly params?: Readonly<Record<string, unknown>> | undefined;
  /** The compression reports, stored with the run. */
  readonly reports?: unknown;
}

/** A run the benchmark service has stored. */
export interface RecordedRun {
  /** The run's UUID. */
  readonly runId: string;
  /** `created` for a new run, `replayed` when the same run was stored before. */
  readonly status: "created" | "replayed";
  /** Regressions the benchmark service flagged on this run. */
  readonly regressions: number;
}

/** Options of one {@linkcode Recorder} call. */
export interface RecordOptions {
  /** Aborts the request (the job was cancelled). */
  readonly signal?: AbortSignal | undefined;
}

/**
 * Records one evaluation; rejects with an Error saying why it could not.
 * {@linkcode benchmarkRecorder} makes one that posts to the benchmark service.
 */
export type Recorder = (
  report: EvaluationReport,
  run: RunRecord,
  options?: RecordOptions,
) => Promise<RecordedRun>;

/** Options of {@linkcode benchmarkRecorder}. */
export interface BenchmarkRecorderOptions {
  /** How long one request may take, in milliseconds (default 30 000). */
  readonly timeoutMs?: number;
  /** The fetch to use (default `globalThis.fetch`). */
  readonly fetch?: typeof fetch;
}

/** Default of {@linkcode BenchmarkRecorderOptions.timeoutMs}. */
export const DEFAULT_RECORD_TIMEOUT_MS = 30_000;

/** The longest part of an error answer quoted in a message. */
const MAX_QUOTED_CHARS = 500;

/**
 * Makes a {@linkcode Recorder} that posts to `POST {baseUrl}/v1/evaluations` of the benchmark
 * service. A 201 is `created`, a 200 `replayed`; any other answer (such as 409, the id stored
 * with a different payload), an unreachable service or a timeout rejects with an Error whose
 * message names the run, the URL and the benchmark service's own error message.
 *
 * Non-finite numbers of the report are sent as the strings `"Infinity"`, `"-Infinity"` and
 * `"NaN"`, as the evaluate service answers them.
 *
 * @param baseUrl The benchmark service, such as `http://127.0.0.1:8104`.
 * @param options Timeout and fetch.
 * @returns The recorder.
 * @throws {TypeError} When `baseUrl` is not an http(s) URL.
 * @example
 * ```ts ignore
 * import { benchmarkRecorder } from "./benchmark_recorder.ts";
 * const record = benchmarkRecorder("http://127.0.0.1:8104");
 * const { runId, status } = await record(report, {
 *   id: crypto.randomUUID(),
 *   model: "mnist_mlp",
 *   recipe: { name: "int8-dynamic" },
 *   startedAt: "2026-01-01T00:00:00Z",
 *   endedAt: "2026-01-01T00:00:05Z",
 * });
 * ```
 */
export function benchmarkRecorder(
  baseUrl: string,
  options: BenchmarkRecorderOptions = {},
): Recorder {
  const base = new URL(baseUrl);
  if (base.protocol !== "http:" && base.protocol !== "https:") {
    throw new TypeError(`Cannot record runs at '${baseUrl}': not an http(s) URL`);
  }
  const url = `${base.href.replace(/\/+$/, "")}/v1/evaluations`;
  const timeoutMs = options.timeoutMs ?? DEFAULT_RECORD_TIMEOUT_MS;
  const doFetch = options.fetch ?? fetch;
  return async (report, run, recordOptions = {}) => {
    const fail = (why: string, cause?: unknown): Error =>
      new Error(`Cannot record run '${run.id}' at ${url}: ${why}`, { cause });
    const timeout = AbortSignal.timeout(timeoutMs);
    const signal = recordOptions.signal
      ? AbortSignal.any([recordOptions.signal, timeout])
      : timeout;
    let response: Response;
    let text: string;
    try {
      response = await doFetch(url, {
        method: "POST",
        headers: { "Content-Type": "application/json" },
        body: runBody(report, run),
        signal,
      });
      text = await response.text();
    } catch (e) {
      if (recordOptions.signal?.aborted) throw recordOptions.signal.reason;
      if (timeout.aborted) throw fail(`no answer within ${timeoutMs} ms`, e);
      throw fail(`the benchmark service is unreachable: ${messageOf(e)}`, e);
    }
    if (response.status !== 200 && response.status !== 201) {
      throw fail(`HTTP ${response.status}: ${errorMessage(text)}`);
    }
    const answer = parseJson(text) as {
      runs?: { id?: unknown }[];
      regressions?: unknown[];
    } | undefined;
    const runId = answer?.runs?.[0]?.id;
    if (typeof runId !== "string") {
      throw fail(`unexpected answer (HTTP ${response.status}): ${quote(text)}`);
    }
    return {
      runId,
      status: response.status === 201 ? "created" : "replayed",
      regressions: Array.isArray(answer?.regressions) ? answer.regressions.length : 0,
    };
  };
}

/** The JSON body of `POST /v1/evaluations` of the benchmark service. */
function runBody(report: EvaluationReport, run: RunRecord): string {
  const body = {
    id: run.id,
    model: run.model,
    recipe: run.recipe ?? {},
    startedAt: run.startedAt,
    endedAt: run.endedAt,
    ...(run.commit !== undefined && { commit: run.commit }),
    ...(run.branch !== undefined && { branch: run.branch }),
    ...(run.tags !== undefined && { tags: run.tags }),
    ...(run.params !== undefined && { params: run.params }),
    ...(run.reports !== undefined && { reports: run.reports }),
    evaluation: report,
  };
  // JSON would write an SQNR of Infinity (identical outputs) as null; keep it as the service does.
  return JSON.stringify(
    body,
    (_key, v: unknown) => typeof v === "number" && !Number.isFinite(v) ? String(v) : v,
  );
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/** The benchmark service's `{ error: { code, message } }`, or the text itself. */
function errorMessage(text: string): string {
  const error = (parseJson(text) as { error?: { code?: unknown; message?: unknown } } | undefined)
    ?.error;
  if (typeof error?.message === "string") {
    return typeof error.code === "string"
      ? `${error.code}: ${quote(error.message)}`
      : quote(error.message);
  }
  return quote(text) || "(empty body)";
}

function quote(text: string): string {
  return text.length > MAX_QUOTED_CHARS ? `${text.slice(0, MAX_QUOTED_CHARS)}...` : text;
}

/** The message, with its cause's: Deno's fetch says only "fetch failed", its cause says why. */
function messageOf(e: unknown): string {
  if (!(e instanceof Error)) return String(e);
  return e.cause instanceof Error ? `${e.message}: ${e.cause.message}` : e.message;
}
