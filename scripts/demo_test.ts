import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";

const DEMO = fileURLToPath(new URL("./demo.ts", import.meta.url));

async function demo(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", DEMO, ...args],
    env: { NO_COLOR: "1" },
    stdin: "null",
  }).output();
  const text = new TextDecoder();
  return { code: out.code, stdout: text.decode(out.stdout), stderr: text.decode(out.stderr) };
}

Deno.test("deno task demo --help prints its usage and exits 0", async () => {
  const { code, stdout } = await demo(["--help"]);
  assert.equal(code, 0);
  assert.match(stdout, /^Usage: deno task demo \[--rounds N\]/);
});

Deno.test("deno task demo refuses a wrong command line with exit code 2", async () => {
  for (
    const [args, message] of [
      [["--rounds", "0"], "--rounds must be a positive integer, got '0'"],
      [["--samples", "ten"], "--samples must be a positive integer, got 'ten'"],
      [["extra"], "Unexpected argument 'extra'"],
    ] as const
  ) {
    const { code, stderr } = await demo([...args]);
    assert.equal(code, 2, args.join(" "));
    assert.ok(stderr.includes(message), stderr);
  }
});

Deno.test("deno task demo fails with exit code 1 and one line when no service answers", async () => {
  // The services listen on IPv4 only; nothing answers on the IPv6 loopback.
  const { code, stderr } = await demo(["--host", "http://[::1]", "--rounds", "1"]);
  assert.equal(code, 1);
  assert.match(stderr, /^error: /);
  assert.ok(stderr.includes("Is the stack running? Start it with 'deno task start'."), stderr);
  assert.ok(!stderr.includes("    at "), "no stack trace");
});
