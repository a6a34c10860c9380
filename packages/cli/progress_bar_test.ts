import assert from "node:assert/strict";
import { memorySink } from "./cli_io.ts";
import { ProgressBar } from "./progress_bar.ts";

function clock(): { now: () => number; advance: (ms: number) => void } {
  let t = 0;
  return { now: () => t, advance: (ms) => (t += ms) };
}

Deno.test("ProgressBar draws nothing when the sink is not a terminal", () => {
  const sink = memorySink({ isTerminal: false });
  const bar = new ProgressBar(sink, { total: 100 });
  bar.update(50);
  bar.finish();
  assert.equal(bar.enabled, false);
  assert.equal(sink.text(), "");
});

Deno.test("ProgressBar redraws one line with \\r on a terminal and clears it at finish", () => {
  const sink = memorySink({ isTerminal: true, columns: 60 });
  const c = clock();
  const bar = new ProgressBar(sink, { total: 2048, label: "read m.onnx", now: c.now });
  bar.update(1024);
  const text = sink.text();
  assert.ok(text.startsWith("\r"), JSON.stringify(text));
  assert.match(text, /read m\.onnx \[=+>\s+\]\s+50%\s+1\.00 KiB \/ 2\.00 KiB/);
  assert.ok(!text.includes("\n"));
  bar.finish();
  assert.ok(sink.text().endsWith("\r\u001b[K"));
});

Deno.test("ProgressBar redraws at most once per interval", () => {
  const sink = memorySink({ isTerminal: true });
  const c = clock();
  const bar = new ProgressBar(sink, { total: 10, unit: "count", now: c.now, minIntervalMs: 100 });
  for (let i = 0; i <= 10; i++) bar.update(i);
  assert.equal(sink.text().split("\r").length - 1, 1);
  c.advance(100);
  bar.update(10);
  assert.equal(sink.text().split("\r").length - 1, 2);
  assert.match(bar.render(), /\[=+\] 100% {2}10 \/ 10$/);
});

Deno.test("ProgressBar fits its bar to the terminal width", () => {
  const c = clock();
  for (const columns of [40, 80, 200]) {
    const sink = memorySink({ isTerminal: true, columns });
    const bar = new ProgressBar(sink, { total: 100, label: "write", unit: "count", now: c.now });
    bar.update(30);
    assert.ok(bar.render().length <= Math.max(columns, 40), `${columns}: ${bar.render()}`);
  }
});

Deno.test("ProgressBar clamps progress to [0, total] and rejects a negative total", () => {
  const sink = memorySink({ isTerminal: true });
  const bar = new ProgressBar(sink, { total: 10, unit: "count", now: () => 0 });
  bar.update(50);
  assert.match(bar.render(), /100% {2}10 \/ 10/);
  assert.throws(() => new ProgressBar(sink, { total: -1 }), RangeError);
});
