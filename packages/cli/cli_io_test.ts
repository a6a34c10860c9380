import assert from "node:assert/strict";
import { memoryIo, memorySink } from "./cli_io.ts";

Deno.test("memorySink() keeps everything written, in order", () => {
  const sink = memorySink();
  sink.write("a");
  sink.write("b\n");
  assert.equal(sink.text(), "ab\n");
  assert.equal(sink.isTerminal, false);
  assert.equal(sink.columns, undefined);
});

Deno.test("memorySink() reports the terminal settings it was given", () => {
  const sink = memorySink({ isTerminal: true, columns: 120 });
  sink.write("x");
  assert.equal(sink.isTerminal, true);
  assert.equal(sink.columns, 120);
  assert.equal(sink.text(), "x");
});

Deno.test("memoryIo() gives separate streams; only stderr may be a terminal", () => {
  const io = memoryIo({ isTerminal: true });
  io.stdout.write("out");
  io.stderr.write("err");
  assert.equal(io.stdout.text(), "out");
  assert.equal(io.stderr.text(), "err");
  assert.equal(io.stdout.isTerminal, false);
  assert.equal(io.stderr.isTerminal, true);
});
