import assert from "node:assert/strict";
import { createKernels } from "@modelpress/kernels";
import { seededFloats } from "../../test/support/prng.ts";
import { pruneWanda } from "./wanda.ts";

const kernels = await createKernels({ backend: "js" });

Deno.test("pruneWanda() removes round(k*in) per output row by |w| * ||x||", async () => {
  const w = new Float32Array([1, 2, 3, 4, -4, 3, 2, 1]); // [out 2, in 4]
  const norms = new Float32Array([10, 1, 1, 1]);
  const result = await pruneWanda(w, norms, { kernels, sparsity: 0.5, shape: [2, 4], axis: 1 });
  assert.deepEqual([...w], [1, 0, 0, 4, -4, 3, 0, 0]);
  assert.equal(result.removed, 4);
  assert.deepEqual(result.importance, { min: 1, mean: 65 / 8, max: 40 });
});

Deno.test("pruneWanda() works on [in, out] weights: one unit per column", async () => {
  const w = seededFloats(10 * 3, 1); // [in 10, out 3]
  const norms = Float32Array.from({ length: 10 }, (_, i) => i + 1);
  const { removed } = await pruneWanda(w, norms, {
    kernels,
    sparsity: 0.3,
    shape: [10, 3],
    axis: 0,
  });
  assert.equal(removed, 9);
  for (let col = 0; col < 3; col++) {
    let gone = 0;
    for (let i = 0; i < 10; i++) if (w[i * 3 + col] === 0) gone++;
    assert.equal(gone, 3);
  }
});

Deno.test("pruneWanda() groups a Conv filter's I*kh*kw weights, the window sharing its channel norm", async () => {
  const w = new Float32Array(2 * 2 * 2).fill(1); // [O 2, I 2, 1, 2]
  const norms = new Float32Array([1, 5]);
  const { removed } = await pruneWanda(w, norms, {
    kernels,
    sparsity: 0.5,
    shape: [2, 2, 1, 2],
    axis: 1,
    conv: true,
  });
  assert.equal(removed, 4);
  // Channel 0 (norm 1) goes in each filter.
  assert.deepEqual([...w], [0, 0, 1, 1, 0, 0, 1, 1]);
  await assert.rejects(
    pruneWanda(w, new Float32Array(3), { kernels, sparsity: 0.5, shape: [2, 2, 1, 2], axis: 1 }),
    /3 norms for input axis 1/,
  );
});
