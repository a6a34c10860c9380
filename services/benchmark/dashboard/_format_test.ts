import assert from "node:assert/strict";
import { formatBytes, formatTime, formatValue, metricLabel, plural, unitOf } from "./_format.ts";

Deno.test("unitOf() prefers the series' own unit and guesses from the metric's name", () => {
  assert.equal(unitOf({ metric: "size_bytes" }), "bytes");
  assert.equal(unitOf({ metric: "accuracy_top1" }), "ratio");
  assert.equal(unitOf({ metric: "latency_p95_ms" }), "ms");
  assert.equal(unitOf({ metric: "sqnr_db" }), "");
  assert.equal(unitOf({ metric: "size_bytes", unit: "MB" }), "MB");
});

Deno.test("formatValue() prints each unit for people and a dash for missing values", () => {
  assert.equal(formatValue(240_530, "bytes"), "234.89 KiB");
  assert.equal(formatValue(512, "bytes"), "512 B");
  assert.equal(formatValue(0.978, "ratio"), "97.80%");
  assert.equal(formatValue(2.345, "ms"), "2.35 ms");
  assert.equal(formatValue(123.45, "ms"), "123.5 ms");
  assert.equal(formatValue(41.23456, "dB"), "41.23 dB");
  assert.equal(formatValue(235_146, "count"), "235,146");
  assert.equal(formatValue(null, "ms"), "–");
  assert.equal(formatValue(Number.NaN, "ratio"), "–");
  assert.equal(formatBytes(3 * 1024 ** 3), "3.00 GiB");
});

Deno.test("formatTime(), metricLabel() and plural() make short labels", () => {
  assert.equal(formatTime("2026-01-02T03:04:05Z"), "2026-01-02 03:04 UTC");
  assert.equal(formatTime("yesterday"), "yesterday");
  assert.equal(metricLabel("latency_p95_ms"), "Latency p95");
  assert.equal(metricLabel("size_bytes"), "Size");
  assert.equal(plural(1, "point"), "1 point");
  assert.equal(plural(0, "point"), "0 points");
});
