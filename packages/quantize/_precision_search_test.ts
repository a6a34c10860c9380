import assert from "node:assert/strict";
import { predictFidelity, searchAssignment, type SearchOption } from "./_precision_search.ts";

const opt = (delta: number, sqnrDb: number): SearchOption => ({
  delta,
  fidelity: { sqnrDb, cosine: 1 - Math.pow(10, -sqnrDb / 10) / 2, agreement: 1 },
});

Deno.test("predictFidelity() adds noise powers", () => {
  const f = predictFidelity([opt(0, 30), opt(0, 30)]);
  assert.ok(Math.abs(f.sqnrDb - (30 - 10 * Math.log10(2))) < 1e-9);
  assert.equal(predictFidelity([opt(0, Infinity)]).sqnrDb, Infinity);
});

Deno.test("searchAssignment() picks the least noise within the bytes, or the fewest bytes above the floor", () => {
  // Layer options: [2-bit, 4-bit, 8-bit] as (bytes change, SQNR alone).
  const layers = [
    [opt(-900, 14), opt(-800, 32), opt(-600, 58)],
    [opt(-90, 13), opt(-80, 32), opt(-60, 57)],
    [opt(-9, 8), opt(-8, 27), opt(-6, 51)],
  ];
  // 1000 float bytes: uniform 4-bit is 112 bytes; 2 more bytes buy the sensitive last layer 8 bits.
  assert.deepEqual(searchAssignment(layers, 1000, { bytes: 112 }), [1, 1, 1]);
  assert.deepEqual(searchAssignment(layers, 1000, { bytes: 114 }), [1, 1, 2]);
  assert.equal(searchAssignment(layers, 1000, { bytes: 0 }), undefined);
  assert.deepEqual(searchAssignment(layers, 1000, { metric: "sqnr", min: 28 }), [1, 1, 2]);
  assert.equal(searchAssignment(layers, 1000, { metric: "sqnr", min: 60 }), undefined);
});

Deno.test("searchAssignment() greedy on large problems meets the goal near the exact optimum", () => {
  // 9 layers x 4 options = 262,144 combinations: above the exact limit.
  const layer = (scale: number, sens: number) => [
    opt(-90 * scale, 14 - sens),
    opt(-85 * scale, 26 - sens),
    opt(-80 * scale, 32 - sens),
    opt(-60 * scale, 58 - sens),
  ];
  const layers = Array.from({ length: 9 }, (_, i) => layer(1 + i, i % 3 * 4));
  const sizeOf = (pick: number[]) => 5000 + pick.reduce((s, k, i) => s + layers[i]![k]!.delta, 0);
  const pick = searchAssignment(layers, 5000, { bytes: 1200 })!;
  assert.ok(sizeOf(pick) <= 1200);
  const floor = searchAssignment(layers, 5000, { metric: "sqnr", min: 30 })!;
  assert.ok(predictFidelity(floor.map((k, i) => layers[i]![k]!)).sqnrDb >= 30);
  // Every layer at 8 bits meets it too, at more bytes.
  assert.ok(sizeOf(floor) < sizeOf(layers.map(() => 3)));
});
