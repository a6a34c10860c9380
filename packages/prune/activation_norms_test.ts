import assert from "node:assert/strict";
import { createKernels } from "@modelpress/kernels";
import { loadDataset } from "@modelpress/evaluate";
import { activationNorms } from "./activation_norms.ts";
import { smallModel } from "./_testing.ts";

const kernels = await createKernels({ backend: "js" });

Deno.test("activationNorms() gives the L2 norm of each feature of inputs and inner tensors", async () => {
  const xs = Array.from({ length: 6 }, (_, i) => Array.from({ length: 16 }, (_, j) => (i - j) / 8));
  const cs = Array.from(
    { length: 6 },
    (_, i) => Array.from({ length: 108 }, (_, j) => i + j / 100),
  );
  const dataset = await loadDataset({ x: xs, c: cs }, { labels: false });
  const norms = await activationNorms(smallModel(), dataset, [
    { name: "x", axis: -1 },
    { name: "r", axis: -1 },
    { name: "c", axis: 1 },
  ], { kernels, batchSize: 4 });
  const x = norms.get("x")!;
  assert.equal(x.length, 16);
  for (let j = 0; j < 16; j++) {
    const expected = Math.sqrt(xs.reduce((a, row) => a + row[j]! ** 2, 0));
    assert.ok(Math.abs(x[j]! - expected) <= 1e-5 * expected, `x[${j}]`);
  }
  const c = norms.get("c")!;
  assert.equal(c.length, 3);
  for (let ch = 0; ch < 3; ch++) {
    let sum = 0;
    for (const row of cs) for (let p = 0; p < 36; p++) sum += row[ch * 36 + p]! ** 2;
    assert.ok(Math.abs(c[ch]! - Math.sqrt(sum)) <= 1e-5 * Math.sqrt(sum));
  }
  const r = norms.get("r")!;
  assert.equal(r.length, 12);
  assert.ok(r.every((v) => v >= 0) && r.some((v) => v > 0));
  await assert.rejects(
    activationNorms(smallModel(), dataset, [{ name: "nope", axis: -1 }], { kernels }),
    /Cannot compute activation norms of 'nope': no node of the main graph makes it/,
  );
});
