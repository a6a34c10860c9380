import assert from "node:assert/strict";
import { parseArgs, UsageError } from "./parse_args.ts";

const SPEC = { boolean: ["json", "help"], string: ["threshold"], alias: { h: "help" } };

Deno.test("parseArgs() separates positionals, booleans and string values", () => {
  const parsed = parseArgs(["a.onnx", "--json", "--threshold", "1KiB", "b.onnx"], SPEC);
  assert.deepEqual(parsed.positionals, ["a.onnx", "b.onnx"]);
  assert.deepEqual([...parsed.booleans], ["json"]);
  assert.deepEqual([...parsed.strings], [["threshold", "1KiB"]]);
});

Deno.test("parseArgs() accepts --name=value, aliases and - as a positional", () => {
  const parsed = parseArgs(["--threshold=64", "-h", "-"], SPEC);
  assert.equal(parsed.strings.get("threshold"), "64");
  assert.ok(parsed.booleans.has("help"));
  assert.deepEqual(parsed.positionals, ["-"]);
});

Deno.test("parseArgs() treats everything after -- as positionals", () => {
  const parsed = parseArgs(["--", "--json", "-x"], SPEC);
  assert.deepEqual(parsed.positionals, ["--json", "-x"]);
  assert.equal(parsed.booleans.size, 0);
});

Deno.test("parseArgs() rejects unknown flags, missing values and values on booleans", () => {
  assert.throws(() => parseArgs(["--jsn"], SPEC), new UsageError("Unknown option '--jsn'"));
  assert.throws(() => parseArgs(["-q"], SPEC), new UsageError("Unknown option '-q'"));
  assert.throws(
    () => parseArgs(["--threshold"], SPEC),
    new UsageError("Option '--threshold' needs a value"),
  );
  assert.throws(
    () => parseArgs(["--threshold", "--json"], SPEC),
    new UsageError("Option '--threshold' needs a value"),
  );
  assert.throws(
    () => parseArgs(["--json=yes"], SPEC),
    new UsageError("Option '--json' takes no value, but got 'yes'"),
  );
});
