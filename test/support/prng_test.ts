import assert from "node:assert/strict";
import { mulberry32, seededFloats, seededInts } from "./prng.ts";

Deno.test("mulberry32() repeats for a seed, differs across seeds and stays in [0, 1)", () => {
  const a = mulberry32(7);
  const b = mulberry32(7);
  const values = Array.from({ length: 10_000 }, () => a());
  assert.deepEqual(Array.from({ length: 10_000 }, () => b()), values);
  assert.notEqual(mulberry32(8)(), values[0]);
  assert.ok(values.every((v) => v >= 0 && v < 1));
  const mean = values.reduce((s, v) => s + v, 0) / values.length;
  assert.ok(Math.abs(mean - 0.5) < 0.02, `mean ${mean}`);
});

Deno.test("seededFloats() and seededInts() cover their ranges, reproducibly", () => {
  const floats = seededFloats(10_000, 3, { scale: 0.1 });
  assert.deepEqual(seededFloats(10_000, 3, { scale: 0.1 }), floats);
  assert.ok(floats.every((v) => v >= -0.1 && v < 0.1));
  assert.ok(floats.some((v) => v < -0.09) && floats.some((v) => v > 0.09));
  const ints = seededInts(10_000, 4, { min: -2, max: 1 });
  assert.deepEqual(new Set(ints), new Set([-2, -1, 0, 1]));
  assert.deepEqual(seededInts(10_000, 4, { min: -2, max: 1 }), ints);
});
