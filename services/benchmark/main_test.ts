// The service as `deno task start` runs it: main.ts in its own process, on embedded PGlite.
import assert from "node:assert/strict";
import { freePort } from "../../test/support/free_port.ts";
import { healthStatus } from "../../test/support/serve.ts";
import { postJson, runBody } from "./_testing.ts";

Deno.test("main.ts serves on PORT over PGlite in MODELPRESS_DATA_DIR and stops on SIGTERM", async () => {
  const dir = await Deno.makeTempDir();
  const port = freePort();
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", new URL("./main.ts", import.meta.url).pathname],
    // DATABASE_URL empty: the embedded database, even where the tests have a server.
    env: { PORT: String(port), DATABASE_URL: "", MODELPRESS_DATA_DIR: `${dir}/pg` },
    stdout: "null",
    stderr: "piped",
  }).spawn();
  const base = `http://127.0.0.1:${port}`;
  try {
    assert.equal(await healthStatus(base), 200);
    const body = runBody();
    const app = { request: (path: string, init: RequestInit) => fetch(`${base}${path}`, init) };
    const res = await postJson(app, "/v1/runs", body);
    assert.equal(res.status, 201, await res.clone().text());
    await res.body?.cancel();
    const run = await fetch(`${base}/v1/runs/${(body.run as { id: string }).id}`);
    assert.equal((await run.json()).model, "mlp");
    // PGlite wrote its files where it was told.
    assert.ok((await Deno.stat(`${dir}/pg/PG_VERSION`)).isFile);
  } finally {
    child.kill("SIGTERM");
    const status = await child.status;
    const stderr = new TextDecoder().decode(await new Response(child.stderr).arrayBuffer());
    await Deno.remove(dir, { recursive: true });
    assert.equal(status.code, 0, stderr);
  }
});
