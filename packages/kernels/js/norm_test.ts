import assert from "node:assert/strict";
import { normJs } from "./norm.ts";

Deno.test("normJs() gives L1 and L2 norms of rows (axis 0) and columns (axis 1)", () => {
  const x = new Float32Array([3, -4, 0, 1]);
  assert.deepEqual(normJs(x, { ord: 2, shape: [2, 2], axis: 0 }), new Float32Array([5, 1]));
  assert.deepEqual(normJs(x, { ord: 1, shape: [2, 2], axis: 1 }), new Float32Array([3, 5]));
  assert.deepEqual(normJs(x, { ord: 1 }), new Float32Array([8]));
  assert.deepEqual(normJs(new Float32Array(0), { ord: 2 }), new Float32Array([0]));
  assert.throws(() => normJs(x, { ord: 3 as 2 }), RangeError);
});

Deno.test("normJs() takes the root of the float64 sum, so squares beyond float32 stay finite", () => {
  assert.equal(normJs(new Float32Array([3e20, 4e20]), { ord: 2 })[0], Math.fround(5e20));
});
