import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import denoJson from "./deno.json" with { type: "json" };
import { memoryIo } from "./cli_io.ts";
import { COMMANDS, main } from "./main.ts";
import { sileroPath } from "../../test/support/silero.ts";

const MAIN = fileURLToPath(new URL("./main.ts", import.meta.url));

async function runCli(
  args: string[],
  env: Record<string, string> = {},
): Promise<{ code: number; stdout: string; stderr: string }> {
  const { code, stdout, stderr } = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", MAIN, ...args],
    env: { NO_COLOR: "1", ...env },
    stdin: "null",
  }).output();
  const text = new TextDecoder();
  return { code, stdout: text.decode(stdout), stderr: text.decode(stderr) };
}

Deno.test("main() with no arguments prints usage on stderr and exits 2", async () => {
  const io = memoryIo();
  assert.equal(await main([], io), 2);
  assert.match(io.stderr.text(), /^Usage: modelpress <command>/);
  assert.equal(io.stdout.text(), "");
});

Deno.test("main() --help lists every command on stdout", async () => {
  for (const args of [["--help"], ["-h"], ["help"]]) {
    const io = memoryIo();
    assert.equal(await main(args, io), 0);
    const lines = io.stdout.text().split("\n");
    for (const command of COMMANDS) {
      assert.ok(
        lines.some((line) =>
          /^ {2}\S+ +/.test(line) && line.trim().split(/ {2,}/).join("|") ===
            `${command.name}|${command.summary}`
        ),
        `${command.name} is not listed`,
      );
    }
  }
});

Deno.test("main() help <command> prints that command's help", async () => {
  const io = memoryIo();
  assert.equal(await main(["help", "convert"], io), 0);
  assert.match(io.stdout.text(), /^Usage: modelpress convert /);
});

Deno.test("main() --version prints the package version", async () => {
  const io = memoryIo();
  assert.equal(await main(["--version"], io), 0);
  assert.equal(io.stdout.text(), `modelpress ${denoJson.version}\n`);
});

Deno.test("main() rejects an unknown command or option with exit code 2", async () => {
  const command = memoryIo();
  assert.equal(await main(["compress", "m.onnx"], command), 2);
  assert.match(command.stderr.text(), /^error: Unknown command 'compress'\n\nUsage:/);
  const option = memoryIo();
  assert.equal(await main(["--verbose"], option), 2);
  assert.match(option.stderr.text(), /^error: Unknown option '--verbose'/);
});

Deno.test("modelpress as a process: a missing file is one line on stderr and exit code 1", async () => {
  const { code, stdout, stderr } = await runCli(["inspect", "does/not/exist.onnx"]);
  assert.equal(code, 1);
  assert.equal(stdout, "");
  assert.equal(stderr, "error: Cannot inspect 'does/not/exist.onnx': file not found\n");
});

Deno.test("modelpress as a process: --json prints parseable JSON, a bad flag exits 2", async () => {
  const ok = await runCli(["inspect", sileroPath("v5"), "--json"]);
  assert.equal(ok.code, 0, ok.stderr);
  assert.equal(JSON.parse(ok.stdout).schema, "modelpress.inspect/1");
  const bad = await runCli(["convert", "--fast"]);
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /^error: Unknown option '--fast'\n/);
  assert.ok(!bad.stderr.includes("    at "), "no stack trace");
});

Deno.test("modelpress as a process: MODELPRESS_DEBUG=1 adds the stack trace", async () => {
  const { code, stderr } = await runCli(["inspect", "nope.onnx"], { MODELPRESS_DEBUG: "1" });
  assert.equal(code, 1);
  assert.match(stderr, /^error: Cannot inspect 'nope\.onnx': file not found\nError: .*\n +at /);
});
