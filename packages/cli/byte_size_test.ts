import assert from "node:assert/strict";
import { formatBytes, parseByteSize } from "./byte_size.ts";

Deno.test("formatBytes() uses binary units with at most three significant digits", () => {
  assert.equal(formatBytes(0), "0 B");
  assert.equal(formatBytes(1023), "1023 B");
  assert.equal(formatBytes(1024), "1.00 KiB");
  assert.equal(formatBytes(1536), "1.50 KiB");
  assert.equal(formatBytes(38334), "37.4 KiB");
  assert.equal(formatBytes(2327524), "2.22 MiB");
  assert.equal(formatBytes(3 * 1024 ** 3), "3.00 GiB");
});

Deno.test("parseByteSize() reads plain numbers, binary and decimal units", () => {
  assert.equal(parseByteSize("4096"), 4096);
  assert.equal(parseByteSize("1KiB"), 1024);
  assert.equal(parseByteSize("1k"), 1024);
  assert.equal(parseByteSize("2 MiB"), 2 * 1024 ** 2);
  assert.equal(parseByteSize("1.5KiB"), 1536);
  assert.equal(parseByteSize("1MB"), 1_000_000);
  assert.equal(parseByteSize("1gb"), 1e9);
  assert.equal(parseByteSize("0"), 0);
});

Deno.test("parseByteSize() rejects negative numbers, unknown units and junk", () => {
  for (const text of ["-1", "1XB", "", "KiB", "1 2", "1e3"]) {
    assert.throws(() => parseByteSize(text), RangeError, `accepted '${text}'`);
  }
  assert.throws(() => parseByteSize("99999999999GiB"), /too large/);
});
