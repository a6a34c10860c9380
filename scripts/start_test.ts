import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import { freePort } from "../test/support/free_port.ts";
import { isAlive } from "../test/support/is_alive.ts";
import { withTempDir } from "../test/support/temp_dir.ts";

const START = fileURLToPath(new URL("./start.ts", import.meta.url));

function start(args: string[]): Deno.ChildProcess {
  return new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", START, ...args],
    env: { NO_COLOR: "1" },
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
}

Deno.test("deno task start with an empty service list says so and exits 0", async () => {
  await withTempDir(async (dir) => {
    await Deno.writeTextFile(`${dir}/none.ts`, "export const SERVICES = [];\n");
    const { code, stdout } = await start(["--services", `${dir}/none.ts`]).output();
    assert.equal(code, 0);
    assert.equal(
      new TextDecoder().decode(stdout),
      "supervisor: no services are listed in infra/services.ts, so there is nothing to start.\n",
    );
  });
});

Deno.test("deno task start rejects unknown options with exit code 2", async () => {
  const { code, stderr } = await start(["--watch"]).output();
  assert.equal(code, 2);
  assert.match(new TextDecoder().decode(stderr), /^error: Unknown option '--watch'\n/);
});

Deno.test({
  name: "deno task start forwards SIGTERM to every service and exits after they are gone",
  ignore: Deno.build.os !== "linux",
  async fn() {
    await withTempDir(async (dir) => {
      const ports = [freePort(), freePort()];
      await Deno.writeTextFile(
        `${dir}/web.ts`,
        `Deno.serve({ port: Number(Deno.env.get("PORT")), hostname: "127.0.0.1", onListen() {} },
           () => new Response("ok"));`,
      );
      await Deno.writeTextFile(
        `${dir}/services.ts`,
        `export const SERVICES = [
           { name: "one", entry: ${JSON.stringify(`${dir}/web.ts`)}, port: ${
          ports[0]
        }, healthPath: "/health" },
           { name: "two", entry: ${JSON.stringify(`${dir}/web.ts`)}, port: ${
          ports[1]
        }, healthPath: "/health" },
         ];`,
      );
      const child = start(["--services", `${dir}/services.ts`]);
      const lines: string[] = [];
      const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
      const stderr = child.stderr.pipeThrough(new TextDecoderStream());
      const errText = (async () => {
        let text = "";
        for await (const chunk of stderr) text += chunk;
        return text;
      })();
      try {
        // Read until the status table shows both services healthy.
        let buffer = "";
        const deadline = Date.now() + 30_000;
        while (!/^two +healthy/m.test(buffer)) {
          assert.ok(Date.now() < deadline, `no status table in time:\n${buffer}`);
          const { value, done } = await reader.read();
          assert.ok(!done, `supervisor exited early:\n${buffer}`);
          buffer += value;
        }
        const pids = [...buffer.matchAll(/^(one|two) +healthy +(\d+) /gm)].map((m) => Number(m[2]));
        assert.equal(pids.length, 2, buffer);
        for (const pid of pids) assert.ok(isAlive(pid));

        child.kill("SIGTERM");
        for (;;) {
          const { value, done } = await reader.read();
          if (done) break;
          buffer += value;
        }
        lines.push(...buffer.split("\n"));
        const status = await child.status;
        assert.equal(status.code, 0, `${buffer}\n${await errText}`);
        assert.ok(lines.includes("supervisor: SIGTERM received; stopping every service"));
        assert.match(buffer, /^one +stopped +- +\d+ +0 +signal SIGTERM/m);
        for (const pid of pids) {
          assert.ok(!isAlive(pid), `service pid ${pid} outlived the supervisor`);
        }
      } finally {
        try {
          child.kill("SIGKILL");
        } catch {
          // already gone
        }
        await reader.cancel().catch(() => {});
        await errText;
        await child.status;
      }
    });
  },
});
