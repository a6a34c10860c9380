import assert from "node:assert/strict";
import type { ServiceSpec } from "./services.ts";
import { freePort } from "../test/support/free_port.ts";
import { isAlive } from "../test/support/is_alive.ts";
import { withTempDir } from "../test/support/temp_dir.ts";
import {
  formatStatusTable,
  runSupervisor,
  type ServiceStatus,
  Supervisor,
  validateServices,
} from "./supervisor.ts";

/** Throwaway services, written to a temp folder by the tests. */
const SOURCES = {
  healthy: `
    const port = Number(Deno.env.get("PORT"));
    Deno.serve({ port, hostname: "127.0.0.1", onListen() { console.log("listening on " + port); } },
      (req) => new URL(req.url).pathname === "/health" ? new Response("ok") : new Response("no", { status: 404 }));
  `,
  crash: `
    console.error("boom: cannot start");
    Deno.exit(3);
  `,
  never: `
    const port = Number(Deno.env.get("PORT"));
    Deno.serve({ port, hostname: "127.0.0.1", onListen() {} }, () => new Response("warming up", { status: 503 }));
  `,
  stubborn: `
    // Ignores SIGTERM, so only SIGKILL ends it.
    Deno.addSignalListener("SIGTERM", () => console.log("ignoring SIGTERM"));
    const port = Number(Deno.env.get("PORT"));
    Deno.serve({ port, hostname: "127.0.0.1", onListen() {} }, () => new Response("ok"));
  `,
} as const;

async function writeServices(dir: string): Promise<void> {
  for (const [name, source] of Object.entries(SOURCES)) {
    await Deno.writeTextFile(`${dir}/${name}.ts`, source);
  }
}

function spec(dir: string, name: keyof typeof SOURCES): ServiceSpec {
  return { name, entry: `${dir}/${name}.ts`, port: freePort(), healthPath: "/health" };
}

const FAST = {
  // 50 checks, 100 ms apart: room for a slow start on a loaded 2-core machine.
  health: { timeoutMs: 1000, intervalMs: 100, attempts: 50 },
  restart: { maxRestarts: 2, backoffMs: 50, maxBackoffMs: 200 },
  stopTimeoutMs: 5000,
} as const;

function byName(statuses: readonly ServiceStatus[], name: string): ServiceStatus {
  const status = statuses.find((s) => s.name === name);
  if (!status) throw new Error(`no status for ${name}`);
  return status;
}

Deno.test({
  name: "Supervisor starts services, sees health, gives up on a crasher, stops every child",
  // Linux /proc tells whether a PID still runs.
  ignore: Deno.build.os !== "linux",
  async fn() {
    await withTempDir(async (dir) => {
      const lines: string[] = [];
      const services = [spec(dir, "healthy"), spec(dir, "crash"), spec(dir, "never")];
      await writeServices(dir);
      const supervisor = new Supervisor(services, { ...FAST, log: (line) => lines.push(line) });
      try {
        const started = await supervisor.start();
        assert.equal(byName(started, "healthy").state, "healthy");
        assert.equal(byName(started, "never").state, "unhealthy");
        const crash = byName(started, "crash");
        assert.equal(crash.state, "failed");
        assert.equal(crash.restarts, 2);
        assert.equal(crash.lastExit, "code 3");
        assert.equal(crash.pid, null);

        // One process for each healthy/never, three for crash (first start + 2 restarts).
        const pids = supervisor.spawnedPids();
        assert.equal(pids.length, 5);
        const running = supervisor.status().filter((s) => s.pid !== null).map((s) => s.pid);
        assert.equal(running.length, 2);
        for (const pid of running) assert.ok(isAlive(pid as number), `pid ${pid} should run`);

        // The services really answer on their ports, with PORT set.
        const res = await fetch(byName(started, "healthy").url);
        assert.equal(await res.text(), "ok");

        const log = lines.join("\n");
        assert.match(log, /^\[healthy\] listening on \d+$/m);
        assert.match(log, /^\[crash\] boom: cannot start$/m);
        assert.match(log, /'crash' crashed \(code 3\); restarting in 50 ms \(restart 1 of 2\)/);
        assert.match(log, /'crash' crashed \(code 3\); restarting in 100 ms \(restart 2 of 2\)/);
        assert.match(log, /!!! GAVE UP on 'crash'/);
        assert.match(log, /!!! 'never' is not healthy after 50 checks \(GET .*: HTTP 503\)/);

        await supervisor.stop();
        const stopped = supervisor.status();
        assert.deepEqual(stopped.map((s) => [s.name, s.state, s.pid]), [
          ["healthy", "stopped", null],
          ["crash", "failed", null],
          ["never", "stopped", null],
        ]);
        assert.equal(byName(stopped, "healthy").lastExit, "signal SIGTERM");
        for (const pid of pids) assert.ok(!isAlive(pid), `pid ${pid} still runs after stop()`);
      } finally {
        await supervisor.stop();
      }
    });
  },
});

Deno.test({
  name: "Supervisor kills a child that ignores the stop signal after stopTimeoutMs",
  ignore: Deno.build.os !== "linux",
  async fn() {
    await withTempDir(async (dir) => {
      await writeServices(dir);
      const lines: string[] = [];
      const supervisor = new Supervisor([spec(dir, "stubborn")], {
        ...FAST,
        stopTimeoutMs: 300,
        log: (line) => lines.push(line),
      });
      try {
        const [status] = await supervisor.start();
        assert.equal(status?.state, "healthy");
        await supervisor.stop();
        assert.match(lines.join("\n"), /'stubborn' did not exit 300 ms after SIGTERM; killing it/);
        assert.equal(supervisor.status()[0]?.lastExit, "signal SIGKILL");
        for (const pid of supervisor.spawnedPids()) assert.ok(!isAlive(pid));
      } finally {
        await supervisor.stop({ force: true });
      }
    });
  },
});

Deno.test("Supervisor restarts a service that crashes after it was healthy", async () => {
  await withTempDir(async (dir) => {
    // Healthy on the first run, crashes on its first request to /crash.
    await Deno.writeTextFile(
      `${dir}/flaky.ts`,
      `const port = Number(Deno.env.get("PORT"));
       Deno.serve({ port, hostname: "127.0.0.1", onListen() {} }, (req) => {
         if (new URL(req.url).pathname === "/crash") Deno.exit(7);
         return new Response("ok");
       });`,
    );
    const service = { name: "flaky", entry: `${dir}/flaky.ts`, port: freePort(), healthPath: "/" };
    const supervisor = new Supervisor([service], { ...FAST, log: () => {} });
    try {
      await supervisor.start();
      const firstPid = supervisor.status()[0]?.pid;
      await fetch(`http://127.0.0.1:${service.port}/crash`).then((r) => r.body?.cancel(), () => {});
      // Wait for the crash to be seen, then for the restart to settle.
      while (supervisor.status()[0]?.restarts === 0) await new Promise((r) => setTimeout(r, 20));
      const [status] = await supervisor.settled();
      assert.equal(status?.state, "healthy");
      assert.equal(status?.restarts, 1);
      assert.equal(status?.lastExit, "code 7");
      assert.notEqual(status?.pid, firstPid);
    } finally {
      await supervisor.stop();
    }
  });
});

Deno.test("runSupervisor() with no services says so and returns 0", async () => {
  const lines: string[] = [];
  assert.equal(await runSupervisor([], { log: (line) => lines.push(line) }), 0);
  assert.deepEqual(lines, [
    "supervisor: no services are listed in infra/services.ts, so there is nothing to start.",
  ]);
});

Deno.test("runSupervisor() prints the status table, stops on abort and reports failures", async () => {
  await withTempDir(async (dir) => {
    await writeServices(dir);
    const lines: string[] = [];
    const abort = new AbortController();
    const services = [spec(dir, "healthy"), spec(dir, "crash")];
    const code = runSupervisor(services, {
      ...FAST,
      handleSignals: false,
      signal: abort.signal,
      log: (line) => {
        lines.push(line);
        // Stop once the first status table is out.
        if (line.startsWith("service ")) abort.abort();
      },
    });
    assert.equal(await code, 1, "a failed service makes the exit code 1");
    const tables = lines.filter((line) => line.startsWith("service "));
    assert.equal(tables.length, 2, "one table after start, one after stop");
    assert.match(lines.join("\n"), /^healthy +stopped +- +\d+ +0 +signal SIGTERM +http:/m);
    assert.match(lines.join("\n"), /^crash +failed +- +\d+ +2 +code 3 +http:/m);
  });
});

Deno.test("validateServices() names the first problem in the list", async () => {
  await withTempDir(async (dir) => {
    await Deno.writeTextFile(`${dir}/a.ts`, "");
    const ok: ServiceSpec = { name: "a", entry: `${dir}/a.ts`, port: 8101, healthPath: "/health" };
    validateServices([ok]);
    const cases: [ServiceSpec[], string][] = [
      [[ok, { ...ok }], "Cannot start service 'a': the name is listed twice"],
      [[ok, { ...ok, name: "b" }], "Cannot start service 'b': port 8101 is already used by 'a'"],
      [[{ ...ok, port: 70000 }], "Cannot start service 'a': port 70000 is not between 1 and 65535"],
      [
        [{ ...ok, healthPath: "health" }],
        "Cannot start service 'a': health path 'health' must start with /",
      ],
      [
        [{ ...ok, entry: `${dir}/none.ts` }],
        `Cannot start service 'a': entry file '${dir}/none.ts' not found`,
      ],
      [
        [{ ...ok, name: "Bad Name" }],
        "Cannot start service 'Bad Name': the name must be lower-case letters, digits, - or _",
      ],
    ];
    for (const [services, message] of cases) {
      assert.throws(() => validateServices(services), new TypeError(message));
    }
  });
});

Deno.test("formatStatusTable() aligns one row per service under a header", () => {
  const text = formatStatusTable([
    {
      name: "quantize",
      state: "healthy",
      pid: 4242,
      port: 8101,
      url: "http://127.0.0.1:8101/health",
      restarts: 0,
      lastExit: null,
    },
    {
      name: "prune",
      state: "failed",
      pid: null,
      port: 8102,
      url: "http://127.0.0.1:8102/health",
      restarts: 3,
      lastExit: "code 1",
    },
  ]);
  assert.equal(
    text,
    [
      "service   state     pid  port  restarts  last exit  health check",
      "--------  -------  ----  ----  --------  ---------  ----------------------------",
      "quantize  healthy  4242  8101         0  -          http://127.0.0.1:8101/health",
      "prune     failed      -  8102         3  code 1     http://127.0.0.1:8102/health",
      "",
    ].join("\n"),
  );
});
