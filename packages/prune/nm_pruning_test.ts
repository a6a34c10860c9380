import assert from "node:assert/strict";
import { createKernels } from "@modelpress/kernels";
import { seededFloats } from "../../test/support/prng.ts";
import { pruneNm } from "./nm_pruning.ts";

const kernels = await createKernels({ backend: "js" });

Deno.test("pruneNm() keeps n of every m along the input axis 1 ([out, in])", async () => {
  const w = seededFloats(6 * 16, 1);
  const original = w.slice();
  assert.equal(await pruneNm(w, { kernels, n: 2, m: 4, shape: [6, 16], axis: 1 }), 48);
  for (let o = 0; o < 6; o++) {
    for (let g = 0; g < 16; g += 4) {
      const group = [0, 1, 2, 3].map((j) => o * 16 + g + j);
      const kept = group.filter((i) => w[i] !== 0);
      assert.equal(kept.length, 2);
      const minKept = Math.min(...kept.map((i) => Math.abs(original[i]!)));
      const maxGone = Math.max(
        ...group.filter((i) => w[i] === 0).map((i) => Math.abs(original[i]!)),
      );
      assert.ok(maxGone <= minKept);
    }
  }
});

Deno.test("pruneNm() groups along axis 0 for [in, out] weights", async () => {
  const w = seededFloats(8 * 3, 2);
  assert.equal(await pruneNm(w, { kernels, n: 4, m: 8, shape: [8, 3], axis: 0 }), 12);
  for (let col = 0; col < 3; col++) {
    let kept = 0;
    for (let i = 0; i < 8; i++) if (w[i * 3 + col] !== 0) kept++;
    assert.equal(kept, 4);
  }
});

Deno.test("pruneNm() refuses an axis that m does not divide", async () => {
  await assert.rejects(
    pruneNm(new Float32Array(10), { kernels, n: 2, m: 4, shape: [2, 5], axis: 1 }),
    /input axis 1 of \[2, 5\] is not a multiple of 4/,
  );
});
