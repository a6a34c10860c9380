import assert from "node:assert/strict";
import { createKernels } from "@modelpress/kernels";
import { seededFloats } from "../../test/support/prng.ts";
import { pruneRandom } from "./random_pruning.ts";

const kernels = await createKernels({ backend: "js" });

function zeroIndices(x: Float32Array): number[] {
  return [...x.keys()].filter((i) => x[i] === 0);
}

Deno.test("pruneRandom() removes exactly round(k*n), the same ones for the same seed", async () => {
  const a = seededFloats(1000, 1);
  const b = seededFloats(1000, 1);
  const c = seededFloats(1000, 1);
  assert.deepEqual(await pruneRandom([a], { kernels, sparsity: 0.3, seed: 5 }), [300]);
  await pruneRandom([b], { kernels, sparsity: 0.3, seed: 5 });
  await pruneRandom([c], { kernels, sparsity: 0.3, seed: 6 });
  assert.equal(zeroIndices(a).length, 300);
  assert.deepEqual(zeroIndices(a), zeroIndices(b));
  assert.notDeepEqual(zeroIndices(a), zeroIndices(c));
});

Deno.test("pruneRandom() ignores magnitudes: large weights go too", async () => {
  const x = seededFloats(1000, 2);
  const original = x.slice();
  await pruneRandom([x], { kernels, sparsity: 0.5, seed: 1 });
  const removedLarge = zeroIndices(x).filter((i) => Math.abs(original[i]!) > 0.9).length;
  assert.ok(removedLarge > 10, `${removedLarge}`);
});

Deno.test("pruneRandom() global removes round(k*N) over layers", async () => {
  const a = seededFloats(123, 3);
  const b = seededFloats(77, 4);
  const counts = await pruneRandom([a, b], { kernels, sparsity: 0.4, global: true, seed: 2 });
  assert.equal(counts[0]! + counts[1]!, 80);
  assert.deepEqual(counts, [zeroIndices(a).length, zeroIndices(b).length]);
});
