import assert from "node:assert/strict";
import { decodeModel, encodeModel, type ModelProto, tensorData } from "@modelpress/onnx";
import { createKernels } from "@modelpress/kernels";
import { evaluateModel, loadDataset, Tensor } from "@modelpress/evaluate";
import { randomInput, runModel } from "../../test/support/run_model.ts";
import { pruneModel } from "./prune_model.ts";
import type { PruneRecipe } from "./recipe.ts";
import { smallModel } from "./_testing.ts";

const kernels = await createKernels({ backend: "js" });
const MLP = await Deno.readFile("test/fixtures/mnist_mlp.onnx");
const test = await loadDataset("mnist", { split: "test" });
const train = await loadDataset("mnist", { split: "train" });
const smallFeeds = { x: randomInput([2, 16], 7), c: randomInput([1, 3, 6, 6], 8) };

async function accuracy(model: ModelProto | Uint8Array): Promise<number> {
  const bytes = model instanceof Uint8Array ? model : encodeModel(model);
  const report = await evaluateModel(bytes, { dataset: test, latency: false });
  return report.accuracy!.top1;
}

function zeros(model: ModelProto, name: string): number {
  const t = model.graph!.initializer.find((i) => i.name === name)!;
  return (tensorData(t) as Float32Array).reduce((a, v) => a + (v === 0 ? 1 : 0), 0);
}

Deno.test("pruneModel() 50% global magnitude on the MNIST MLP: drop <= 1 pp, file <= 65%", async () => {
  const base = await accuracy(MLP);
  const model = decodeModel(MLP);
  const { report } = await pruneModel(model, {
    recipe: { method: "magnitude", sparsity: 0.5, global: true },
    kernels,
  });
  const bytes = encodeModel(model);
  const pruned = await accuracy(bytes);
  assert.ok(base - pruned <= 0.01, `accuracy ${base} -> ${pruned}`);
  assert.equal(report.totals.bytes.after, bytes.length);
  assert.ok(bytes.length <= 0.65 * MLP.length, `${bytes.length / MLP.length}`);
  const weights = 784 * 256 + 256 * 128 + 128 * 10;
  const removed = report.layers.reduce((a, l) => a + l.zerosAfter - l.zerosBefore, 0);
  assert.equal(removed, Math.round(0.5 * weights));
  assert.equal(report.totals.params.before, 235146);
  assert.equal(report.totals.params.after, 235146);
  assert.equal(report.totals.nonzero.before - report.totals.nonzero.after, removed);
  const macs = report.totals.macs!;
  assert.equal(macs.before, 234752);
  assert.equal(macs.after, 234752);
  const expected = report.layers.reduce(
    (a, l) => a + (l.shape[0]! * l.shape[1]!) * (1 - l.zerosAfter / l.params),
    0,
  );
  assert.equal(macs.effective, Math.round(expected));
  assert.equal(report.schema, "modelpress.prune/1");
  assert.equal(report.backend, "js");
  assert.deepEqual(JSON.parse(JSON.stringify(report)), report);
  assert.ok(report.layers.every((l) => l.importance !== undefined && l.status === "pruned"));
});

Deno.test("pruneModel() at 90%: Wanda and magnitude compared on the MNIST MLP", async () => {
  const results: Record<string, number> = {};
  for (const method of ["magnitude", "wanda"] as const) {
    const model = decodeModel(MLP);
    const { report } = await pruneModel(model, {
      recipe: { method, sparsity: 0.9, calibration: { samples: 512 } },
      kernels,
      dataset: train,
    });
    for (const l of report.layers) {
      const rows = l.shape[0]!;
      const perRow = Math.round(0.9 * l.shape[1]!);
      if (method === "wanda") assert.equal(l.zerosAfter, rows * perRow);
      else assert.equal(l.zerosAfter, Math.round(0.9 * l.params));
    }
    results[method] = await accuracy(model);
  }
  console.log(`90% sparsity, MNIST MLP top-1: ${JSON.stringify(results)}`);
  assert.ok(results.wanda! > 0.5 && results.magnitude! > 0.3, JSON.stringify(results));
});

Deno.test("pruneModel() every unstructured method gives a model that runs in onnxruntime-web", async () => {
  const recipes: PruneRecipe[] = [
    { method: "magnitude", sparsity: 0.3 },
    {
      method: "magnitude",
      sparsity: 0.7,
      global: true,
      bounds: [{ match: { opType: "Conv" }, max: 0.2 }],
    },
    { method: "random", sparsity: 0.5, seed: 3 },
    { method: "random", sparsity: 0.5, seed: 3, global: true, storage: "sparse" },
    { method: "nm", pattern: "2:4" },
    { method: "nm", pattern: "4:8" },
  ];
  for (const recipe of recipes) {
    const model = smallModel();
    const { report } = await pruneModel(model, { recipe, kernels });
    const outputs = await runModel(model, smallFeeds);
    assert.deepEqual(outputs.y?.dims, [2, 8], JSON.stringify(recipe));
    assert.deepEqual(outputs.z?.dims, [1, 4, 4, 4], JSON.stringify(recipe));
    assert.ok(report.totals.nonzero.after < report.totals.nonzero.before, JSON.stringify(recipe));
    if (recipe.method === "nm") {
      // Conv's I*kh*kw = 27 is not a multiple of 4 or 8.
      const conv = report.layers.find((l) => l.node === "conv")!;
      assert.equal(conv.status, "skipped");
      assert.match(conv.reason!, /27 is not a multiple/);
      assert.equal(conv.zerosAfter, 0);
      const fc1 = report.layers.find((l) => l.node === "fc1")!;
      assert.equal(fc1.zerosAfter, 96);
    }
    if (recipe.bounds !== undefined) {
      const conv = report.layers.find((l) => l.node === "conv")!;
      assert.equal(conv.zerosAfter, Math.round(0.2 * 108));
      assert.equal(
        report.layers.reduce((a, l) => a + l.zerosAfter, 0),
        Math.round(0.7 * (192 + 96 + 108)),
      );
    }
  }
});

Deno.test("pruneModel() Wanda on a model with Conv runs in onnxruntime-web", async () => {
  const dataset = await loadDataset({
    x: Array.from({ length: 8 }, (_, i) => Array.from(randomInput([16], i).data as Float32Array)),
    c: Array.from(
      { length: 8 },
      (_, i) => Array.from(randomInput([3 * 6 * 6], 50 + i).data as Float32Array),
    ),
  }, { labels: false });
  const model = smallModel();
  const { report } = await pruneModel(model, {
    recipe: { method: "wanda", sparsity: 0.5, calibration: { samples: 8, batchSize: 4 } },
    kernels,
    dataset,
  });
  assert.deepEqual(report.layers.map((l) => l.zerosAfter), [12 * 8, 8 * 6, 4 * 14]);
  const outputs = await runModel(model, smallFeeds);
  assert.deepEqual(outputs.z?.dims, [1, 4, 4, 4]);
});

Deno.test("pruneModel() with k=0 changes nothing; on all-zero weights outputs stay identical", async () => {
  const model = smallModel();
  const before = encodeModel(model);
  const { report } = await pruneModel(model, {
    recipe: { method: "magnitude", sparsity: 0 },
    kernels,
  });
  assert.deepEqual(encodeModel(model), before);
  assert.ok(report.layers.every((l) => l.zerosAfter === 0));
  const dead = smallModel({ gemmFill: 0 });
  const expected = await runModel(dead, smallFeeds);
  const pruned = smallModel({ gemmFill: 0 });
  const result = await pruneModel(pruned, {
    recipe: { method: "magnitude", sparsity: 0.5, include: [{ name: "fc1" }], storage: "sparse" },
    kernels,
  });
  assert.equal(result.report.layers[0]!.zerosBefore, 192);
  assert.equal(result.report.layers[0]!.zerosAfter, 192);
  assert.deepEqual(await runModel(pruned, smallFeeds), expected);
});

Deno.test("pruneModel() iterative schedule raises sparsity per step and reports evaluations", async () => {
  const model = smallModel();
  const seen: number[] = [];
  const progress: number[] = [];
  const { report } = await pruneModel(model, {
    recipe: { method: "magnitude", sparsity: 0.6, schedule: { steps: 3 }, storage: "dense" },
    kernels,
    evaluate: async (m, step) => {
      seen.push(step.step);
      const out = await runModel(m, smallFeeds);
      return { y0: (out.y!.data as Float32Array)[0]!, zeros: zeros(m, "g") };
    },
    onProgress: (f) => progress.push(f),
  });
  assert.deepEqual(seen, [1, 2, 3]);
  assert.deepEqual(report.steps.map((s) => s.sparsity), [0.2, 0.4, 0.6]);
  assert.deepEqual(report.steps.map((s) => s.metrics?.zeros), [38, 77, 115]);
  assert.equal(zeros(model, "g"), Math.round(0.6 * 192));
  assert.equal(progress[0], 0);
  assert.equal(progress.at(-1), 1);
  assert.ok(progress.every((p, i) => i === 0 || p >= progress[i - 1]!));
});

Deno.test("pruneModel() refuses what it cannot do, clearly", async () => {
  await assert.rejects(
    pruneModel(smallModel(), { recipe: { method: "wanda" }, kernels }),
    /method 'wanda' needs options.dataset/,
  );
  await assert.rejects(
    pruneModel(smallModel(), { recipe: { method: "magnitude", sparsity: 1.2 }, kernels }),
    /Invalid prune recipe: sparsity must be in \[0, 1\), got 1.2/,
  );
  await assert.rejects(
    pruneModel(smallModel(), {
      recipe: { method: "magnitude", sparsity: 0.9, global: true, bounds: [{ max: 0.5 }] },
      kernels,
    }),
    /Cannot prune globally: sparsity 0.9 removes 356 of 396 weights, the per-layer bounds allow 0..198/,
  );
  await assert.rejects(
    pruneModel(smallModel(), {
      recipe: { method: "channel", recovery: { batchNorm: true } },
      kernels,
    }),
    /needs options.dataset/,
  );
});

Deno.test("pruneModel() dispatches neuron pruning: 50% of hidden neurons about halves the MLP", async () => {
  const model = decodeModel(MLP);
  const { report } = await pruneModel(model, {
    recipe: { method: "neuron", sparsity: 0.5, importance: "l2" },
    kernels,
  });
  const fc1 = report.layers.find((l) => l.node === report.layers[0]!.node)!;
  assert.equal(fc1.unitsRemoved, 128);
  assert.deepEqual(fc1.shape, [128, 784]);
  assert.ok(report.totals.params.after < 0.55 * report.totals.params.before);
  assert.ok(report.totals.macs!.after < 0.55 * report.totals.macs!.before);
  assert.ok(report.totals.bytes.after < 0.55 * report.totals.bytes.before);
  assert.deepEqual(JSON.parse(JSON.stringify(report)), report);
  const outputs = await runModel(model, {
    input: new Tensor("float32", new Float32Array(784), [1, 784]),
  });
  assert.deepEqual(outputs.logits?.dims, [1, 10]);
  console.log(
    `neuron 50%: top-1 ${await accuracy(model)}, params ${JSON.stringify(report.totals.params)}`,
  );
});

Deno.test("pruneModel() dispatches channel pruning of the MNIST CNN with BatchNorm recovery", async () => {
  const model = decodeModel(await Deno.readFile("test/fixtures/mnist_cnn.onnx"));
  const { report } = await pruneModel(model, {
    recipe: {
      method: "channel",
      sparsity: 0.3,
      recovery: { batchNorm: true },
      calibration: { samples: 256 },
    },
    kernels,
    dataset: train,
  });
  assert.ok(report.layers.length >= 2);
  assert.ok(report.layers.every((l) => (l.unitsRemoved ?? 0) > 0 && l.opType === "Conv"));
  assert.ok(report.totals.macs!.after < 0.75 * report.totals.macs!.before);
  assert.ok(report.totals.params.after < report.totals.params.before);
  assert.ok(report.structured !== undefined);
  const outputs = await runModel(model, {
    input: new Tensor("float32", new Float32Array(784), [1, 1, 28, 28]),
  });
  assert.deepEqual(outputs.logits?.dims, [1, 10]);
});

Deno.test("pruneModel() neuron pruning in 2 steps removes the same share as one step", async () => {
  const model = decodeModel(MLP);
  const metrics: number[] = [];
  const { report } = await pruneModel(model, {
    recipe: { method: "neuron", sparsity: 0.5, schedule: { steps: 2 } },
    kernels,
    evaluate: (m) => {
      const units = m.graph!.initializer.find((t) => t.name === "fc1.bias")!.dims[0]!;
      metrics.push(Number(units));
      return { units: Number(units) };
    },
  });
  assert.deepEqual(metrics, [192, 128]);
  assert.deepEqual(report.steps.map((s) => s.sparsity), [0.25, 0.5]);
  const fc1 = report.layers.find((l) => l.tensor === "fc1.weight")!;
  assert.equal(fc1.unitsRemoved, 128);
  assert.equal(fc1.params, 256 * 784);
  assert.equal(fc1.paramsAfter, 128 * 784);
});
