import assert from "node:assert/strict";
import { quantRange } from "./quant_range.ts";

Deno.test("quantRange() gives the code range of every type and rejects unknown ones", () => {
  assert.deepEqual(quantRange("int8"), { min: -128, max: 127, bits: 8, signed: true });
  assert.deepEqual(quantRange("uint16"), { min: 0, max: 65535, bits: 16, signed: false });
  assert.deepEqual(quantRange("int2"), { min: -2, max: 1, bits: 2, signed: true });
  assert.ok(Object.isFrozen(quantRange("uint4")));
  assert.throws(() => quantRange("int3" as "int4"), TypeError);
  assert.throws(() => quantRange("toString" as "int4"), TypeError);
});
