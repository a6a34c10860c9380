import assert from "node:assert/strict";
import { inputAndOutput, parseArgs, parseWholeNumber, UsageError } from "./parse_args.ts";

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

Deno.test("parseWholeNumber() takes digits only", () => {
  assert.equal(parseWholeNumber("32", "--block-size"), 32);
  assert.equal(parseWholeNumber("0", "--seed"), 0);
  for (const text of ["1.5", "-1", "", " 3", "1e3", "99999999999999999999"]) {
    assert.throws(
      () => parseWholeNumber(text, "--steps"),
      new UsageError(`Option '--steps' needs a whole number, got '${text}'`),
    );
  }
});

Deno.test("inputAndOutput() wants one IN and -o OUT", () => {
  const spec = { string: ["output"], alias: { o: "output" } };
  assert.deepEqual(inputAndOutput(parseArgs(["a.onnx", "-o", "b.onnx"], spec), "prune"), {
    input: "a.onnx",
    output: "b.onnx",
  });
  assert.throws(
    () => inputAndOutput(parseArgs(["-o", "b.onnx"], spec), "quantize"),
    new UsageError("Missing IN: which model to quantize"),
  );
  assert.throws(
    () => inputAndOutput(parseArgs(["a.onnx", "c.onnx", "-o", "b.onnx"], spec), "prune"),
    new UsageError("Unexpected argument 'c.onnx'"),
  );
  assert.throws(
    () => inputAndOutput(parseArgs(["a.onnx"], spec), "prune"),
    new UsageError("Missing -o OUT: where to write the model"),
  );
});
