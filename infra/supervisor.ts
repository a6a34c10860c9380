/**
 * A small process supervisor for ModelPress's services: starts each service as its own
 * `deno run` process with `PORT` set, waits for its health check, prefixes its output with its
 * name, restarts it with backoff when it crashes (a few times, then gives up loudly), and on
 * shutdown forwards the signal to every child and waits for all of them to exit.
 *
 * `deno task start` runs it over the list in `infra/services.ts` (see `scripts/start.ts`).
 * @module
 */
import { isAbsolute, join } from "node:path";
import { fileURLToPath } from "node:url";
import { formatTable } from "@modelpress/cli";
import type { ServiceSpec } from "./services.ts";

/** Where a service is in its life. */
export type ServiceState =
  | "starting" // spawned, health check not passed yet
  | "healthy" // health check passed
  | "unhealthy" // running, but the health check never passed
  | "restarting" // crashed, waiting out the backoff before the next start
  | "failed" // crashed too often; the supervisor gave up on it
  | "stopping" // asked to stop
  | "stopped"; // exited during shutdown

/** A snapshot of one service. */
export interface ServiceStatus {
  /** The service's name. */
  readonly name: string;
  /** Its state. */
  readonly state: ServiceState;
  /** PID of the running process, or null when none runs. */
  readonly pid: number | null;
  /** Its port. */
  readonly port: number;
  /** Its health check URL. */
  readonly url: string;
  /** How often it was restarted after a crash. */
  readonly restarts: number;
  /** How its last process ended (`code 1`, `signal SIGTERM`), or null. */
  readonly lastExit: string | null;
}

/** How health checks are made. */
export interface HealthCheckOptions {
  /** Timeout of one GET in milliseconds (default 2000). */
  readonly timeoutMs?: number;
  /** Pause between attempts in milliseconds (default 250). */
  readonly intervalMs?: number;
  /** Attempts before a service is declared unhealthy (default 120, about 30 s). */
  readonly attempts?: number;
}

/** How crashed services are restarted. */
export interface RestartOptions {
  /** Restarts in a row before giving up (default 3). */
  readonly maxRestarts?: number;
  /** Wait before the first restart in milliseconds; doubles each time (default 500). */
  readonly backoffMs?: number;
  /** Longest wait between restarts in milliseconds (default 10000). */
  readonly maxBackoffMs?: number;
  /** A service that ran this long before crashing gets a fresh restart budget (default 60000). */
  readonly stableMs?: number;
}

/** Options for {@linkcode Supervisor}. */
export interface SupervisorOptions {
  /** Folder that relative entries are resolved against and services run in (default: repo root). */
  readonly root?: string;
  /** Receives every log line: the supervisor's and the services' (prefixed with `[name]`). */
  readonly log?: (line: string) => void;
  /** Host for health checks (default `127.0.0.1`). */
  readonly host?: string;
  /** Health check settings. */
  readonly health?: HealthCheckOptions;
  /** Restart settings. */
  readonly restart?: RestartOptions;
  /** How long to wait for children to exit after the stop signal before killing them (default 10000). */
  readonly stopTimeoutMs?: number;
}

/** Options for {@linkcode Supervisor.stop}. */
export interface StopOptions {
  /** Signal sent to every child (default `SIGTERM`). */
  readonly signal?: Deno.Signal;
  /** Kill the children at once with SIGKILL (a second Ctrl-C). */
  readonly force?: boolean;
}

const REPO_ROOT = fileURLToPath(new URL("../", import.meta.url));
const TERMINAL: ReadonlySet<ServiceState> = new Set(["failed", "stopped"]);
const SETTLING: ReadonlySet<ServiceState> = new Set(["starting", "restarting"]);

interface Runner {
  readonly spec: ServiceSpec;
  readonly url: string;
  state: ServiceState;
  child: Deno.ChildProcess | null;
  restarts: number;
  crashesInRow: number;
  lastExit: string | null;
  startedAt: number;
}

/**
 * Checks a service list: names and ports unique, ports valid, health paths absolute, entries
 * present on disk.
 *
 * @param services The list.
 * @param options `root` that relative entries are resolved against (default: repo root).
 * @throws {TypeError} Naming the first problem, such as `Cannot start service 'prune': port 8101
 *   is already used by 'quantize'`.
 * @example
 * ```ts
 * import { SERVICES } from "./services.ts";
 * import { validateServices } from "./supervisor.ts";
 * validateServices(SERVICES);
 * ```
 */
export function validateServices(
  services: readonly ServiceSpec[],
  options: { readonly root?: string } = {},
): void {
  const names = new Map<string, ServiceSpec>();
  const ports = new Map<number, ServiceSpec>();
  for (const s of services) {
    const fail = (why: string): never => {
      throw new TypeError(`Cannot start service '${s.name}': ${why}`);
    };
    if (!/^[a-z][a-z0-9_-]*$/.test(s.name)) {
      fail("the name must be lower-case letters, digits, - or _");
    }
    if (names.has(s.name)) fail("the name is listed twice");
    if (!Number.isInteger(s.port) || s.port < 1 || s.port > 65535) {
      fail(`port ${s.port} is not between 1 and 65535`);
    }
    const other = ports.get(s.port);
    if (other) fail(`port ${s.port} is already used by '${other.name}'`);
    if (!s.healthPath.startsWith("/")) fail(`health path '${s.healthPath}' must start with /`);
    const entry = resolveEntry(s.entry, options.root ?? REPO_ROOT);
    let isFile = false;
    try {
      isFile = Deno.statSync(entry).isFile;
    } catch {
      // reported below
    }
    if (!isFile) fail(`entry file '${s.entry}' not found`);
    names.set(s.name, s);
    ports.set(s.port, s);
  }
}

/**
 * Runs services as child processes and keeps them running.
 *
 * @example
 * ```ts
 * import { Supervisor } from "./supervisor.ts";
 * const supervisor = new Supervisor([
 *   { name: "quantize", entry: "services/quantize/main.ts", port: 8101, healthPath: "/health" },
 * ]);
 * await supervisor.start();
 * console.log(supervisor.status());
 * await supervisor.stop();
 * ```
 */
export class Supervisor {
  readonly #runners: readonly Runner[];
  readonly #root: string;
  readonly #log: (line: string) => void;
  readonly #health: Required<HealthCheckOptions>;
  readonly #restart: Required<RestartOptions>;
  readonly #stopTimeoutMs: number;
  readonly #abort = new AbortController();
  readonly #tasks = new Set<Promise<void>>();
  readonly #spawned: number[] = [];
  #waiters: (() => void)[] = [];
  #stopping = false;

  /**
   * Makes a supervisor; nothing starts until {@linkcode Supervisor.start}.
   *
   * @param services The services, in start order; checked with {@linkcode validateServices}.
   * @param options Root folder, logger, health and restart settings.
   */
  constructor(services: readonly ServiceSpec[], options: SupervisorOptions = {}) {
    this.#root = options.root ?? REPO_ROOT;
    validateServices(services, { root: this.#root });
    const host = options.host ?? "127.0.0.1";
    this.#runners = services.map((spec) => ({
      spec: Object.freeze({ ...spec }),
      url: `http://${host}:${spec.port}${spec.healthPath}`,
      state: "stopped",
      child: null,
      restarts: 0,
      crashesInRow: 0,
      lastExit: null,
      startedAt: 0,
    }));
    this.#log = options.log ?? ((line) => console.log(line));
    this.#health = Object.freeze({
      timeoutMs: options.health?.timeoutMs ?? 2000,
      intervalMs: options.health?.intervalMs ?? 250,
      attempts: options.health?.attempts ?? 120,
    });
    this.#restart = Object.freeze({
      maxRestarts: options.restart?.maxRestarts ?? 3,
      backoffMs: options.restart?.backoffMs ?? 500,
      maxBackoffMs: options.restart?.maxBackoffMs ?? 10_000,
      stableMs: options.restart?.stableMs ?? 60_000,
    });
    this.#stopTimeoutMs = options.stopTimeoutMs ?? 10_000;
  }

  /**
   * Starts the services one after the other, each once the one before it is healthy (or has
   * crashed, or was declared unhealthy).
   *
   * @returns The status of every service once all have settled (none starting or restarting).
   */
  async start(): Promise<ServiceStatus[]> {
    for (const runner of this.#runners) {
      if (this.#stopping) break;
      this.#spawn(runner);
      await this.#waitHealthy(runner);
    }
    return await this.settled();
  }

  /**
   * Waits until no service is starting or restarting.
   *
   * @returns The status of every service then.
   */
  async settled(): Promise<ServiceStatus[]> {
    while (this.#runners.some((r) => SETTLING.has(r.state))) await this.#changed();
    return this.status();
  }

  /**
   * Waits until every service has failed or stopped: after {@linkcode stop}, or when the
   * supervisor gave up on all of them.
   */
  async allDown(): Promise<void> {
    while (!this.#runners.every((r) => TERMINAL.has(r.state))) await this.#changed();
  }

  /**
   * A snapshot of every service.
   *
   * @returns One status per service, in list order.
   */
  status(): ServiceStatus[] {
    return this.#runners.map((r) => ({
      name: r.spec.name,
      state: r.state,
      pid: r.child?.pid ?? null,
      port: r.spec.port,
      url: r.url,
      restarts: r.restarts,
      lastExit: r.lastExit,
    }));
  }

  /**
   * PIDs of every process this supervisor started, restarts included.
   *
   * @returns The PIDs, in start order.
   */
  spawnedPids(): number[] {
    return [...this.#spawned];
  }

  /**
   * Stops every service: sends the signal to each child, waits for all to exit, and kills the
   * ones still running after `stopTimeoutMs`. Pending restarts are cancelled. Safe to call
   * again; `force` kills at once.
   *
   * @param options The signal to forward, or `force`.
   */
  async stop(options: StopOptions = {}): Promise<void> {
    const first = !this.#stopping;
    this.#stopping = true;
    this.#abort.abort();
    const signal: Deno.Signal = options.force ? "SIGKILL" : options.signal ?? "SIGTERM";
    for (const runner of this.#runners) {
      if (runner.child) {
        if (first) this.#setState(runner, "stopping");
        kill(runner.child, signal);
      } else if (!TERMINAL.has(runner.state)) {
        this.#setState(runner, "stopped");
      }
    }
    const timer = new Promise<"timeout">((resolve) => {
      const id = setTimeout(() => resolve("timeout"), this.#stopTimeoutMs);
      this.#idle().finally(() => clearTimeout(id));
    });
    if ((await Promise.race([this.#idle().then(() => "idle" as const), timer])) === "timeout") {
      for (const runner of this.#runners) {
        if (!runner.child) continue;
        this.#log(
          `supervisor: '${runner.spec.name}' did not exit ${this.#stopTimeoutMs} ms after ` +
            `${signal}; killing it`,
        );
        kill(runner.child, "SIGKILL");
      }
    }
    await this.#idle();
  }

  #spawn(runner: Runner): void {
    const { spec } = runner;
    const child = new Deno.Command(Deno.execPath(), {
      args: ["run", ...(spec.permissions ?? ["-A"]), resolveEntry(spec.entry, this.#root)],
      cwd: this.#root,
      env: { ...spec.env, PORT: String(spec.port) },
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    runner.child = child;
    runner.startedAt = performance.now();
    this.#spawned.push(child.pid);
    this.#setState(runner, "starting");
    this.#log(`supervisor: started '${spec.name}' (pid ${child.pid}, port ${spec.port})`);
    const output = Promise.all([
      this.#pump(child.stdout, spec.name),
      this.#pump(child.stderr, spec.name),
    ]);
    this.#track(
      child.status.then(async (status) => {
        await output;
        await this.#onExit(runner, status);
      }),
    );
  }

  async #onExit(runner: Runner, status: Deno.CommandStatus): Promise<void> {
    const uptime = performance.now() - runner.startedAt;
    runner.child = null;
    runner.lastExit = status.signal ? `signal ${status.signal}` : `code ${status.code}`;
    const name = runner.spec.name;
    if (this.#stopping) {
      this.#log(`supervisor: '${name}' exited (${runner.lastExit})`);
      this.#setState(runner, "stopped");
      return;
    }
    if (uptime >= this.#restart.stableMs) runner.crashesInRow = 0;
    if (runner.crashesInRow >= this.#restart.maxRestarts) {
      this.#log(
        `supervisor: !!! GAVE UP on '${name}': it exited (${runner.lastExit}) after ` +
          `${runner.crashesInRow} restarts in a row. Its output is above, prefixed [${name}].`,
      );
      this.#setState(runner, "failed");
      return;
    }
    runner.crashesInRow++;
    runner.restarts++;
    const delay = Math.min(
      this.#restart.backoffMs * 2 ** (runner.crashesInRow - 1),
      this.#restart.maxBackoffMs,
    );
    this.#log(
      `supervisor: '${name}' crashed (${runner.lastExit}); restarting in ${delay} ms ` +
        `(restart ${runner.crashesInRow} of ${this.#restart.maxRestarts})`,
    );
    this.#setState(runner, "restarting");
    await sleep(delay, this.#abort.signal);
    if (this.#stopping) {
      this.#setState(runner, "stopped");
      return;
    }
    this.#spawn(runner);
    await this.#waitHealthy(runner);
  }

  async #waitHealthy(runner: Runner): Promise<void> {
    const child = runner.child;
    let lastError = "no attempt made";
    for (let attempt = 1; attempt <= this.#health.attempts; attempt++) {
      if (this.#stopping || runner.child !== child) return;
      const error = await probe(runner.url, this.#health.timeoutMs, this.#abort.signal);
      if (this.#stopping || runner.child !== child) return;
      if (error === null) {
        this.#log(`supervisor: '${runner.spec.name}' is healthy (${runner.url})`);
        this.#setState(runner, "healthy");
        return;
      }
      lastError = error;
      await sleep(this.#health.intervalMs, this.#abort.signal);
    }
    if (this.#stopping || runner.child !== child) return;
    this.#log(
      `supervisor: !!! '${runner.spec.name}' is not healthy after ${this.#health.attempts} ` +
        `checks (GET ${runner.url}: ${lastError}); it keeps running, but look at its output above`,
    );
    this.#setState(runner, "unhealthy");
  }

  async #pump(stream: ReadableStream<Uint8Array>, name: string): Promise<void> {
    let pending = "";
    for await (const text of stream.pipeThrough(new TextDecoderStream())) {
      const lines = (pending + text).split("\n");
      pending = lines.pop() ?? "";
      for (const line of lines) this.#log(`[${name}] ${line.replace(/\r$/, "")}`);
    }
    if (pending) this.#log(`[${name}] ${pending}`);
  }

  #setState(runner: Runner, state: ServiceState): void {
    runner.state = state;
    const waiters = this.#waiters;
    this.#waiters = [];
    for (const wake of waiters) wake();
  }

  #changed(): Promise<void> {
    return new Promise((resolve) => this.#waiters.push(resolve));
  }

  #track(task: Promise<void>): void {
    const tracked = task.catch((e) => {
      this.#log(`supervisor: internal error: ${e instanceof Error ? e.message : String(e)}`);
    }).finally(() => this.#tasks.delete(tracked));
    this.#tasks.add(tracked);
  }

  /** Resolves once no child runs and no restart is pending. */
  async #idle(): Promise<void> {
    while (this.#tasks.size > 0) await Promise.all([...this.#tasks]);
  }
}

/**
 * Formats statuses as the table `deno task start` prints.
 *
 * @param statuses From {@linkcode Supervisor.status}.
 * @returns Aligned text, one line per service after a header.
 * @example
 * ```ts
 * import { formatStatusTable } from "./supervisor.ts";
 * console.log(formatStatusTable([{
 *   name: "quantize", state: "healthy", pid: 4242, port: 8101,
 *   url: "http://127.0.0.1:8101/health", restarts: 0, lastExit: null,
 * }]));
 * ```
 */
export function formatStatusTable(statuses: readonly ServiceStatus[]): string {
  return formatTable(
    statuses.map((s) => [
      s.name,
      s.state,
      s.pid === null ? "-" : String(s.pid),
      String(s.port),
      String(s.restarts),
      s.lastExit ?? "-",
      s.url,
    ]),
    {
      header: ["service", "state", "pid", "port", "restarts", "last exit", "health check"],
      align: ["left", "left", "right", "right", "right", "left", "left"],
    },
  );
}

/** Options for {@linkcode runSupervisor}. */
export interface RunSupervisorOptions extends SupervisorOptions {
  /** Stops the services when aborted (in addition to SIGINT and SIGTERM). */
  readonly signal?: AbortSignal;
  /** Listen for SIGINT and SIGTERM (default true). */
  readonly handleSignals?: boolean;
}

/**
 * What `deno task start` does: starts the services, prints a status table, keeps them running
 * until SIGINT/SIGTERM (a second one kills at once) or until every service has failed, then
 * forwards that signal to every child, waits for all of them to exit and prints the final table.
 *
 * @param services The services, in start order.
 * @param options Supervisor options, an abort signal and whether to handle OS signals.
 * @returns The exit code: 0 after a requested stop, 1 when a service failed.
 * @example
 * ```ts
 * import { SERVICES } from "./services.ts";
 * import { runSupervisor } from "./supervisor.ts";
 * Deno.exitCode = await runSupervisor(SERVICES);
 * ```
 */
export async function runSupervisor(
  services: readonly ServiceSpec[],
  options: RunSupervisorOptions = {},
): Promise<number> {
  const log = options.log ?? ((line: string) => console.log(line));
  if (services.length === 0) {
    log("supervisor: no services are listed in infra/services.ts, so there is nothing to start.");
    return 0;
  }
  const supervisor = new Supervisor(services, { ...options, log });
  let requested: Deno.Signal | null = null;
  const stopRequested = Promise.withResolvers<void>();
  const onSignal = (signal: Deno.Signal): void => {
    if (requested) {
      log(`supervisor: ${signal} again; killing every service now`);
      void supervisor.stop({ force: true });
      return;
    }
    requested = signal;
    log(`supervisor: ${signal} received; stopping every service`);
    stopRequested.resolve();
  };
  const listeners = (options.handleSignals ?? true)
    ? (["SIGINT", "SIGTERM"] as const).map((signal) => {
      const listener = (): void => onSignal(signal);
      Deno.addSignalListener(signal, listener);
      return [signal, listener] as const;
    })
    : [];
  const onAbort = (): void => onSignal("SIGTERM");
  options.signal?.addEventListener("abort", onAbort, { once: true });
  try {
    const started = supervisor.start();
    await Promise.race([started, stopRequested.promise]);
    if (!requested) {
      log(formatStatusTable(await started).trimEnd());
      await Promise.race([stopRequested.promise, supervisor.allDown()]);
      if (!requested) log("supervisor: every service has stopped; exiting");
    }
    // The children get the signal the supervisor got (Ctrl-C stays SIGINT).
    await supervisor.stop({ signal: requested ?? "SIGTERM" });
    const final = supervisor.status();
    log(formatStatusTable(final).trimEnd());
    return final.some((s) => s.state === "failed") ? 1 : 0;
  } finally {
    for (const [signal, listener] of listeners) Deno.removeSignalListener(signal, listener);
    options.signal?.removeEventListener("abort", onAbort);
  }
}

function resolveEntry(entry: string, root: string): string {
  return isAbsolute(entry) ? entry : join(root, entry);
}

function kill(child: Deno.ChildProcess, signal: Deno.Signal): void {
  try {
    child.kill(signal);
  } catch {
    // Already exited; its status promise reports how.
  }
}

/** One health check: null when the URL answered 2xx, else what went wrong. */
async function probe(url: string, timeoutMs: number, stop: AbortSignal): Promise<string | null> {
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), timeoutMs);
  const onStop = (): void => controller.abort();
  stop.addEventListener("abort", onStop, { once: true });
  try {
    const response = await fetch(url, { signal: controller.signal });
    await response.body?.cancel();
    return response.ok ? null : `HTTP ${response.status}`;
  } catch (e) {
    if (controller.signal.aborted && !stop.aborted) return `no answer within ${timeoutMs} ms`;
    return e instanceof Error ? e.message : String(e);
  } finally {
    clearTimeout(timer);
    stop.removeEventListener("abort", onStop);
  }
}

/** Waits `ms`, or less when `signal` aborts. */
function sleep(ms: number, signal: AbortSignal): Promise<void> {
  if (signal.aborted) return Promise.resolve();
  return new Promise((resolve) => {
    const done = (): void => {
      clearTimeout(timer);
      signal.removeEventListener("abort", done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal.addEventListener("abort", done, { once: true });
  });
}
