import assert from "node:assert/strict";
import { matchingOverrides } from "./match_node.ts";

Deno.test("matchingOverrides() needs every given field to match, by name, regex and op type", () => {
  const overrides = [
    { match: { name: "fc1" }, bits: 4 },
    { match: { pattern: "^conv\\d$" }, skip: true },
    { match: { opType: "Gemm" }, bits: 6 },
    { match: { opType: "Gemm", pattern: "2$" }, bits: 2 },
  ];
  const bits = (name: string, opType: string): unknown[] =>
    matchingOverrides(overrides, { name, opType }).map((o) => o.bits ?? "skip");
  assert.deepEqual(bits("fc1", "Gemm"), [4, 6]);
  assert.deepEqual(bits("fc2", "Gemm"), [6, 2]);
  assert.deepEqual(bits("conv1", "Conv"), ["skip"]);
  assert.deepEqual(bits("conv12", "Conv"), []);
  assert.deepEqual(bits("", "MatMul"), []);
});
