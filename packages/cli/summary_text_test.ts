import assert from "node:assert/strict";
import { formatCount, formatDuration, formatPercent, labelRows, plural } from "./summary_text.ts";

Deno.test("labelRows() pads labels to one width and keeps the other cells", () => {
  assert.deepEqual(labelRows([["Model", "a", "b"], ["Kernels", "js"], []]), [
    ["Model  ", "a", "b"],
    ["Kernels", "js"],
    ["       "],
  ]);
});

Deno.test("plural() uses the singular for one only", () => {
  assert.equal(plural(1, "node"), "1 node");
  assert.equal(plural(0, "node"), "0 nodes");
  assert.equal(plural(3, "override"), "3 overrides");
});

Deno.test("formatCount(), formatPercent() and formatDuration() format numbers for people", () => {
  assert.equal(formatCount(235146), "235,146");
  assert.equal(formatPercent(0.5), "50.0%");
  assert.equal(formatPercent(0.12345), "12.3%");
  assert.equal(formatDuration(12.4), "12 ms");
  assert.equal(formatDuration(999.4), "999 ms");
  assert.equal(formatDuration(1500), "1.50 s");
});
