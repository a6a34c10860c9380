/**
 * A bounded, in-memory job queue: at most `concurrency` jobs run at once, at most `maxQueued`
 * wait, the rest are refused ({@linkcode QueueFullError}, which the service answers with 503 and
 * Retry-After). Jobs are cancelled through an AbortSignal; finished jobs are kept for `ttlMs`
 * so that clients can collect their result, then forgotten. Expiry is checked whenever the
 * queue is used, so the queue owns no timer.
 * @module
 */

/** Where a job is in its life. */
export type JobStatus = "queued" | "running" | "succeeded" | "failed" | "cancelled";

/** Progress a task reports while it runs. */
export interface ProgressUpdate {
  /** What the task is doing now, such as `"accuracy"`, `"latency"` or `"quantize"`. */
  readonly phase: string;
  /** Units of work done in this phase. */
  readonly done: number;
  /** Units of work in this phase. */
  readonly total: number;
  /** Throughput of the phase so far, in units of work per second (0 when unknown). */
  readonly samplesPerSecond: number;
}

/** A job's last reported progress. */
export interface JobProgress extends ProgressUpdate {
  /** `done / total` in percent, rounded to 0.1 (100 when total is 0). */
  readonly percent: number;
}

/** Why a job failed, as the service reports it. */
export interface JobError {
  /** Machine-readable code, such as `invalid_dataset`. */
  readonly code: string;
  /** What went wrong, for people. */
  readonly message: string;
  /** Extra machine-readable facts. */
  readonly details?: Readonly<Record<string, unknown>>;
}

/** A job as clients see it: JSON-serialisable, a copy. */
export interface JobSnapshot<T> {
  /** The job's id. */
  readonly id: string;
  /** Its status. */
  readonly status: JobStatus;
  /** Whether cancellation was asked for (a running job stops at its next check). */
  readonly cancelRequested: boolean;
  /** When it was submitted (ISO 8601). */
  readonly createdAt: string;
  /** When it started running, or null. */
  readonly startedAt: string | null;
  /** When it finished (succeeded, failed or cancelled), or null. */
  readonly finishedAt: string | null;
  /** When a finished job will be forgotten, or null while it is not finished. */
  readonly expiresAt: string | null;
  /** The last progress report, or null before the first. */
  readonly progress: JobProgress | null;
  /** The result, once succeeded. */
  readonly result?: T;
  /** The error, once failed. */
  readonly error?: JobError;
}

/** What a task gets to run with. */
export interface JobContext {
  /** Aborted when the job is cancelled. */
  readonly signal: AbortSignal;
  /** Records progress; cheap enough to call per batch. */
  readonly onProgress: (update: ProgressUpdate) => void;
}

/** The work of one job. */
export type JobTask<T> = (context: JobContext) => Promise<T>;

/** Options for {@linkcode JobQueue}. */
export interface JobQueueOptions {
  /** Jobs that run at the same time (default 1). */
  readonly concurrency?: number;
  /** Jobs that may wait for a slot (default 4); more are refused with {@linkcode QueueFullError}. */
  readonly maxQueued?: number;
  /** How long a finished job is kept, in milliseconds (default 15 minutes). */
  readonly ttlMs?: number;
  /** What the Retry-After of a refusal says, in seconds (default 5). */
  readonly retryAfterSeconds?: number;
  /** Turns a task's failure into the job's error (default: the message, code `internal`). */
  readonly describeError?: (error: unknown) => JobError;
  /** What a job is called in messages, such as `evaluation` (default `job`). */
  readonly jobName?: string;
  /** Clock in milliseconds since the epoch (for tests; default `Date.now`). */
  readonly now?: () => number;
}

/** What {@linkcode JobQueue.submit} returns. */
export interface SubmittedJob<T> {
  /** The job's id. */
  readonly id: string;
  /** Settles with the job's final snapshot once it has finished, however it finished. */
  readonly finished: Promise<JobSnapshot<T>>;
}

/**
 * Thrown by {@linkcode JobQueue.submit} when every slot is busy and the waiting line is full.
 *
 * @example
 * ```ts
 * import { QueueFullError } from "@modelpress/http";
 * const e = new QueueFullError("Cannot start job: 1 running, 4 waiting", { retryAfterSeconds: 5 });
 * e.retryAfterSeconds; // 5
 * ```
 */
export class QueueFullError extends Error {
  /** Seconds after which trying again makes sense. */
  readonly retryAfterSeconds: number;

  /**
   * Makes the error.
   *
   * @param message What is full.
   * @param options When to try again.
   */
  constructor(message: string, options: { readonly retryAfterSeconds: number }) {
    super(message);
    this.name = "QueueFullError";
    this.retryAfterSeconds = options.retryAfterSeconds;
  }
}

interface Job<T> {
  readonly id: string;
  readonly controller: AbortController;
  readonly createdAt: number;
  task: JobTask<T> | undefined;
  status: JobStatus;
  startedAt: number | null;
  finishedAt: number | null;
  progress: JobProgress | null;
  result?: T;
  error?: JobError;
  resolve: (snapshot: JobSnapshot<T>) => void;
}

/**
 * Runs jobs with bounded concurrency and a bounded waiting line.
 *
 * @example
 * ```ts
 * import { JobQueue } from "@modelpress/http";
 * const queue = new JobQueue<number>({ concurrency: 1, maxQueued: 2 });
 * const job = queue.submit(async ({ onProgress }) => {
 *   onProgress({ phase: "count", done: 1, total: 1, samplesPerSecond: 0 });
 *   return 42;
 * });
 * console.log((await job.finished).result); // 42
 * ```
 */
export class JobQueue<T> {
  readonly #jobs = new Map<string, Job<T>>();
  readonly #waiting: Job<T>[] = [];
  readonly #concurrency: number;
  readonly #maxQueued: number;
  readonly #ttlMs: number;
  readonly #retryAfterSeconds: number;
  readonly #describeError: (error: unknown) => JobError;
  readonly #now: () => number;
  readonly #jobName: string;
  #running = 0;

  /**
   * Makes an empty queue.
   *
   * @param options Concurrency, waiting-line length, time to live, clock.
   */
  constructor(options: JobQueueOptions = {}) {
    this.#concurrency = positiveInteger("concurrency", options.concurrency ?? 1);
    this.#maxQueued = options.maxQueued ?? 4;
    if (!Number.isInteger(this.#maxQueued) || this.#maxQueued < 0) {
      throw new RangeError(`Cannot make job queue: maxQueued must be >= 0, got ${this.#maxQueued}`);
    }
    this.#ttlMs = options.ttlMs ?? 15 * 60_000;
    this.#retryAfterSeconds = options.retryAfterSeconds ?? 5;
    this.#describeError = options.describeError ??
      ((e) => ({ code: "internal", message: e instanceof Error ? e.message : String(e) }));
    this.#now = options.now ?? Date.now;
    this.#jobName = options.jobName ?? "job";
  }

  /** Jobs running now. */
  get running(): number {
    return this.#running;
  }

  /** Jobs waiting for a slot. */
  get queued(): number {
    return this.#waiting.length;
  }

  /**
   * Submits a job: it starts at once when a slot is free, else waits in line.
   *
   * @param task The work.
   * @returns The job's id and a promise of its final snapshot.
   * @throws {QueueFullError} When every slot is busy and the line is full.
   */
  submit(task: JobTask<T>): SubmittedJob<T> {
    this.#expire();
    if (this.#running >= this.#concurrency && this.#waiting.length >= this.#maxQueued) {
      throw new QueueFullError(
        `Cannot start ${this.#jobName}: ${this.#running} running and ${this.#waiting.length} waiting, ` +
          `the most this server takes; try again in ${this.#retryAfterSeconds} s`,
        { retryAfterSeconds: this.#retryAfterSeconds },
      );
    }
    let resolve!: (snapshot: JobSnapshot<T>) => void;
    const finished = new Promise<JobSnapshot<T>>((r) => (resolve = r));
    const job: Job<T> = {
      id: crypto.randomUUID(),
      controller: new AbortController(),
      createdAt: this.#now(),
      task,
      status: "queued",
      startedAt: null,
      finishedAt: null,
      progress: null,
      resolve,
    };
    this.#jobs.set(job.id, job);
    this.#waiting.push(job);
    this.#pump();
    return { id: job.id, finished };
  }

  /**
   * A snapshot of a job.
   *
   * @param id The job's id.
   * @returns The snapshot, or undefined for an unknown or expired job.
   */
  get(id: string): JobSnapshot<T> | undefined {
    this.#expire();
    const job = this.#jobs.get(id);
    return job && this.#snapshot(job);
  }

  /**
   * Cancels a job: a waiting one is cancelled at once, a running one is signalled and counts as
   * cancelled when its task returns. A finished job is left as it is.
   *
   * @param id The job's id.
   * @returns The job's snapshot after the request, or undefined for an unknown or expired job.
   */
  cancel(id: string): JobSnapshot<T> | undefined {
    this.#expire();
    const job = this.#jobs.get(id);
    if (!job) return undefined;
    if (job.status === "queued") {
      this.#waiting.splice(this.#waiting.indexOf(job), 1);
      job.controller.abort(new DOMException("The job was cancelled", "AbortError"));
      this.#finish(job, "cancelled");
    } else if (job.status === "running") {
      job.controller.abort(new DOMException("The job was cancelled", "AbortError"));
    }
    return this.#snapshot(job);
  }

  /**
   * Cancels a job if it has not finished, and forgets it at once.
   *
   * @param id The job's id.
   * @returns Whether there was such a job.
   */
  delete(id: string): boolean {
    if (this.cancel(id) === undefined) return false;
    this.#jobs.delete(id);
    return true;
  }

  /** Cancels every job (for shutdown). */
  cancelAll(): void {
    for (const id of [...this.#jobs.keys()]) this.cancel(id);
  }

  #pump(): void {
    while (this.#running < this.#concurrency && this.#waiting.length > 0) {
      this.#start(this.#waiting.shift() as Job<T>);
    }
  }

  #start(job: Job<T>): void {
    const task = job.task as JobTask<T>;
    job.task = undefined; // the closure may hold large buffers; let them go when done
    job.status = "running";
    job.startedAt = this.#now();
    this.#running++;
    const context: JobContext = {
      signal: job.controller.signal,
      onProgress: (update) => {
        const percent = update.total > 0
          ? Math.round(Math.min(1, update.done / update.total) * 1000) / 10
          : 100;
        job.progress = {
          phase: update.phase,
          done: update.done,
          total: update.total,
          samplesPerSecond: update.samplesPerSecond,
          percent,
        };
      },
    };
    // A task that throws synchronously is a failure like any other.
    Promise.resolve().then(() => task(context)).then(
      (result) => {
        if (job.controller.signal.aborted) return this.#finish(job, "cancelled");
        job.result = result;
        this.#finish(job, "succeeded");
      },
      (error) => {
        if (job.controller.signal.aborted) return this.#finish(job, "cancelled");
        job.error = this.#describeError(error);
        this.#finish(job, "failed");
      },
    ).finally(() => {
      this.#running--;
      this.#pump();
    });
  }

  #finish(job: Job<T>, status: "succeeded" | "failed" | "cancelled"): void {
    job.status = status;
    job.finishedAt = this.#now();
    job.resolve(this.#snapshot(job));
  }

  #expire(): void {
    const now = this.#now();
    for (const [id, job] of this.#jobs) {
      if (job.finishedAt !== null && now - job.finishedAt >= this.#ttlMs) this.#jobs.delete(id);
    }
  }

  #snapshot(job: Job<T>): JobSnapshot<T> {
    const iso = (ms: number | null): string | null =>
      ms === null ? null : new Date(ms).toISOString();
    return {
      id: job.id,
      status: job.status,
      cancelRequested: job.controller.signal.aborted,
      createdAt: new Date(job.createdAt).toISOString(),
      startedAt: iso(job.startedAt),
      finishedAt: iso(job.finishedAt),
      expiresAt: iso(job.finishedAt === null ? null : job.finishedAt + this.#ttlMs),
      progress: job.progress,
      ...(job.result === undefined ? {} : { result: job.result }),
      ...(job.error === undefined ? {} : { error: job.error }),
    };
  }
}

function positiveInteger(name: string, value: number): number {
  if (!Number.isInteger(value) || value < 1) {
    throw new RangeError(`Cannot make job queue: ${name} must be a positive integer, got ${value}`);
  }
  return value;
}
