import assert from "node:assert/strict";
import {
  attrFloat,
  attrInt,
  decodeModel,
  encodeModel,
  makeNode,
  makeValueInfo,
  type ModelProto,
  TensorProto_DataType,
} from "@modelpress/onnx";
import { evaluateModel, loadDataset } from "@modelpress/evaluate";
import { pruneNeurons } from "./neuron_pruning.ts";
import {
  assertSameOutputs,
  initializerData,
  keptOf,
  model,
  parameterCount,
  sliceAxis,
  tensor,
} from "./_structural_testing.ts";
import { seededFloats } from "../../test/support/prng.ts";

interface MlpWeights {
  w1: Float32Array; // [6, 8], transB = 0
  b1: Float32Array; // [8]
  w2: Float32Array; // [5, 8], transB = 1
  b2: Float32Array; // [5]
  w3: Float32Array; // [5, 3] (MatMul)
  b3: Float32Array; // [3]
}

function mlpWeights(seed: number): MlpWeights {
  return {
    w1: seededFloats(48, seed),
    b1: seededFloats(8, seed + 1),
    w2: seededFloats(40, seed + 2),
    b2: seededFloats(5, seed + 3),
    w3: seededFloats(15, seed + 4),
    b3: seededFloats(3, seed + 5),
  };
}

/** x[2,6] -> Gemm(transB 0) -> Relu -> Gemm(transB 1) -> LeakyRelu -> MatMul -> Add -> y[2,3]. */
function mlp(w: MlpWeights): ModelProto {
  const m = model(
    [
      makeNode("Gemm", { name: "fc1", inputs: ["x", "w1", "b1"], outputs: ["h1"] }),
      makeNode("Relu", { name: "relu", inputs: ["h1"], outputs: ["r1"] }),
      makeNode("Gemm", {
        name: "fc2",
        inputs: ["r1", "w2", "b2"],
        outputs: ["h2"],
        attributes: { transB: attrInt(1) },
      }),
      makeNode("LeakyRelu", {
        name: "leaky",
        inputs: ["h2"],
        outputs: ["r2"],
        attributes: { alpha: attrFloat(0.1) },
      }),
      makeNode("MatMul", { name: "fc3", inputs: ["r2", "w3"], outputs: ["h3"] }),
      makeNode("Add", { name: "bias3", inputs: ["h3", "b3"], outputs: ["y"] }),
    ],
    [
      tensor("w1", w.w1, [6, 8]),
      tensor("b1", w.b1, [8]),
      tensor("w2", w.w2, [5, 8]),
      tensor("b2", w.b2, [5]),
      tensor("w3", w.w3, [5, 3]),
      tensor("b3", w.b3, [3]),
    ],
    { input: [2, 6], output: [2, 3] },
  );
  m.graph!.valueInfo.push(makeValueInfo("h1", TensorProto_DataType.FLOAT, { shape: [2, 8] }));
  return m;
}

function killUnits(w: MlpWeights): MlpWeights {
  const out = structuredClone(w);
  for (const j of [2, 5]) {
    for (let k = 0; k < 6; k++) out.w1[k * 8 + j] = 0;
    out.b1[j] = 0;
  }
  out.w2.fill(0, 8, 16); // row 1 of [5, 8]
  out.b2[1] = 0;
  return out;
}

Deno.test("pruneNeurons() removes dead units first and leaves outputs identical", async () => {
  const original = mlp(killUnits(mlpWeights(1)));
  const result = await pruneNeurons(original, { sparsity: 0.25 });
  assert.deepEqual(
    result.layers.map((l) => [l.node, l.op, l.unitsBefore, l.unitsAfter, l.removed]),
    [["fc1", "Gemm", 8, 6, [2, 5]], ["fc2", "Gemm", 5, 4, [1]]],
  );
  const fc3 = result.groups.find((g) => g.sources.includes("fc3"))!;
  assert.equal(fc3.prunable, false);
  assert.match(fc3.reason!, /graph output 'y'/);
  const dims = (name: string) =>
    result.model.graph!.initializer.find((t) => t.name === name)!.dims.map(Number);
  assert.deepEqual(dims("w1"), [6, 6]);
  assert.deepEqual(dims("b1"), [6]);
  assert.deepEqual(dims("w2"), [4, 6]);
  assert.deepEqual(dims("b2"), [4]);
  assert.deepEqual(dims("w3"), [4, 3]);
  assert.deepEqual(dims("b3"), [3]);
  assert.ok(!result.model.graph!.valueInfo.some((v) => v.name === "h1"), "stale shape dropped");
  assert.ok(parameterCount(result.model) < parameterCount(original));
  await assertSameOutputs(result.model, original, [2, 6], 1e-6);
});

Deno.test("pruneNeurons() removes exactly round(k * units) per layer, keeping minKeep", async () => {
  const m = mlp(mlpWeights(2));
  for (const k of [0, 0.1, 0.3, 0.5, 0.9]) {
    const result = await pruneNeurons(m, { sparsity: k });
    assert.deepEqual(
      result.layers.map((l) => l.removed.length),
      [Math.round(k * 8), Math.min(Math.round(k * 5), 4)],
      `k = ${k}`,
    );
  }
  const kept = await pruneNeurons(m, { sparsity: 0.9, minKeep: 3 });
  assert.deepEqual(kept.layers.map((l) => l.unitsAfter), [3, 3]);
});

Deno.test("pruneNeurons() global budget is exact and does not depend on a layer's scale", async () => {
  const w = mlpWeights(3);
  const scaled = structuredClone(w);
  // Relu is positively homogeneous: scaling fc1 by 1000 and fc2's weights by 1/1000 keeps the
  // function, and normalised importances keep the choice.
  for (let i = 0; i < scaled.w1.length; i++) scaled.w1[i]! *= 1000;
  for (let i = 0; i < scaled.b1.length; i++) scaled.b1[i]! *= 1000;
  const a = await pruneNeurons(mlp(w), { sparsity: 0.4, global: true });
  const b = await pruneNeurons(mlp(scaled), { sparsity: 0.4, global: true });
  assert.equal(a.layers.reduce((n, l) => n + l.removed.length, 0), Math.round(0.4 * 13));
  assert.deepEqual(a.layers.map((l) => l.removed), b.layers.map((l) => l.removed));
  const perLayer = await pruneNeurons(mlp(scaled), { sparsity: 0.4 });
  assert.deepEqual(perLayer.layers.map((l) => l.removed.length), [3, 2]);
});

Deno.test("pruneNeurons() breaks ties by the lower unit index", async () => {
  const w = mlpWeights(4);
  w.w1.fill(0.5);
  w.w2.fill(0.25);
  const result = await pruneNeurons(mlp(w), { sparsity: 0.5 });
  assert.deepEqual(result.layers.map((l) => l.removed), [[0, 1, 2, 3], [0, 1, 2]]);
});

Deno.test("pruneNeurons() random importance is seeded", async () => {
  const m = mlp(mlpWeights(5));
  const removed = async (seed: number) =>
    (await pruneNeurons(m, { sparsity: 0.5, importance: "random", seed })).layers.map((l) =>
      l.removed
    );
  assert.deepEqual(await removed(1), await removed(1));
  const others = await Promise.all([2, 3, 4, 5].map(removed));
  assert.ok(others.some((r) => JSON.stringify(r) !== JSON.stringify(others[0])));
});

Deno.test("pruneNeurons() include and exclude patterns pick the layers", async () => {
  const m = mlp(mlpWeights(6));
  const ex = await pruneNeurons(m, { sparsity: 0.5, exclude: ["^fc1$"] });
  assert.deepEqual(ex.layers.map((l) => l.node), ["fc2"]);
  assert.equal(ex.groups.find((g) => g.sources[0] === "fc1")!.reason, "excluded");
  assert.deepEqual(initializerData(ex.model, "w1"), initializerData(m, "w1"));
  const inc = await pruneNeurons(m, { sparsity: 0.5, include: ["fc1"] });
  assert.deepEqual(inc.layers.map((l) => l.node), ["fc1"]);
});

Deno.test("pruneNeurons() activation importance is the mean |activation| after the Relu", async () => {
  const w = mlpWeights(7);
  const xs = [70, 71, 72, 73].map((seed) => Array.from(seededFloats(6, seed)));
  const calibration = await loadDataset({ x: xs });
  const progress: string[] = [];
  const result = await pruneNeurons(mlp(w), {
    sparsity: 0.25,
    importance: "activation",
    calibration,
    batchSize: 2, // the model's batch is fixed at 2
    onProgress: (p) => progress.push(`${p.phase} ${p.done}/${p.total}`),
  });
  assert.deepEqual(progress, ["importance 2/4", "importance 4/4", "prune 0/2", "prune 2/2"]);
  const mean = new Float64Array(8);
  for (const x of xs) {
    for (let j = 0; j < 8; j++) {
      let h = w.b1[j]!;
      for (let k = 0; k < 6; k++) h += x[k]! * w.w1[k * 8 + j]!;
      mean[j] = mean[j]! + Math.max(0, h) / xs.length;
    }
  }
  const fc1 = result.layers[0]!;
  assert.ok(Math.abs(fc1.importance.max - Math.max(...mean)) < 1e-5);
  assert.ok(Math.abs(fc1.importance.min - Math.min(...mean)) < 1e-5);
  const order = [...mean.keys()].sort((a, b) => mean[a]! - mean[b]! || a - b);
  assert.deepEqual(fc1.removed, order.slice(0, 2).sort((a, b) => a - b));
});

Deno.test("pruneNeurons() reports a Softmax consumer and leaves its layer whole", async () => {
  const m = model(
    [
      makeNode("Gemm", { name: "fc1", inputs: ["x", "w1"], outputs: ["h"] }),
      makeNode("Softmax", { name: "soft", inputs: ["h"], outputs: ["s"] }),
      makeNode("Gemm", { name: "fc2", inputs: ["s", "w2"], outputs: ["y"] }),
    ],
    [tensor("w1", seededFloats(12, 1), [3, 4]), tensor("w2", seededFloats(8, 2), [4, 2])],
    { input: [1, 3], output: [1, 2] },
  );
  const result = await pruneNeurons(m, { sparsity: 0.5 });
  assert.deepEqual(result.layers, []);
  assert.ok(result.unsupported.some((u) => u.node === "soft" && u.op === "Softmax"));
  assert.equal(result.groups[0]!.prunable, false);
  await assertSameOutputs(result.model, m, [1, 3], 0);
});

Deno.test("pruneNeurons() on the MNIST MLP: half the hidden neurons, params about halved", async () => {
  const mlpModel = decodeModel(
    await Deno.readFile(new URL("../../test/fixtures/mnist_mlp.onnx", import.meta.url)),
  );
  const test = await loadDataset("mnist");
  const train = await loadDataset("mnist", { split: "train" });
  const accuracy = async (m: ModelProto): Promise<number> =>
    (await evaluateModel(encodeModel(m), { dataset: test, latency: false })).accuracy!.top1;
  const plain = await pruneNeurons(mlpModel, { sparsity: 0.5 });
  const corrected = await pruneNeurons(mlpModel, {
    sparsity: 0.5,
    calibration: train,
    maxSamples: 512,
    recovery: { biasCorrection: true },
  });
  assert.deepEqual(plain.layers.map((l) => [l.node, l.unitsAfter]), [["fc1", 128], ["fc2", 64]]);
  const ratio = parameterCount(plain.model) / parameterCount(mlpModel);
  const acc = {
    original: await accuracy(mlpModel),
    l1: await accuracy(plain.model),
    l1BiasCorrected: await accuracy(corrected.model),
  };
  console.log(
    `MNIST MLP 50% neurons: params ${parameterCount(mlpModel)} -> ${
      parameterCount(plain.model)
    } (x${ratio.toFixed(3)}), accuracy ${JSON.stringify(acc)}`,
  );
  assert.ok(ratio > 0.4 && ratio < 0.55, `params ratio ${ratio}`);
  assert.ok(acc.l1 > 0.5, `the pruned MLP still classifies (${acc.l1})`);
  assert.deepEqual(corrected.recovery.biasCorrection.map((b) => [b.node, b.removedInputs]), [
    ["fc2", 128],
    ["fc3", 64],
  ]);
});

Deno.test("pruneNeurons() slices a MatMul's bias Add and matches hand-sliced weights", async () => {
  const build = (w1: Float32Array, b: Float32Array, w2: Float32Array, n: number): ModelProto =>
    model(
      [
        makeNode("MatMul", { name: "mm1", inputs: ["x", "w1"], outputs: ["h"] }),
        makeNode("Add", { name: "bias", inputs: ["b", "h"], outputs: ["hb"] }),
        makeNode("Tanh", { name: "tanh", inputs: ["hb"], outputs: ["t"] }),
        makeNode("MatMul", { name: "mm2", inputs: ["t", "w2"], outputs: ["y"] }),
      ],
      [tensor("w1", w1, [3, n]), tensor("b", b, [1, n]), tensor("w2", w2, [n, 2])],
      { input: ["N", 3], output: ["N", 2] },
    );
  const w1 = seededFloats(12, 1);
  const b = seededFloats(4, 2);
  const w2 = seededFloats(8, 3);
  const result = await pruneNeurons(build(w1, b, w2, 4), { sparsity: 0.5, importance: "l2" });
  const removed = result.layers[0]!.removed;
  assert.equal(removed.length, 2);
  assert.ok(result.groups[0]!.members.some((m) => m.node === "bias" && m.role === "follower"));
  const keep = keptOf(4, removed);
  const reference = build(
    sliceAxis(w1, [3, 4], 1, keep),
    sliceAxis(b, [1, 4], 1, keep),
    sliceAxis(w2, [4, 2], 0, keep),
    2,
  );
  await assertSameOutputs(result.model, reference, [3, 3]);
});
