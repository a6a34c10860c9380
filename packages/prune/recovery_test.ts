import assert from "node:assert/strict";
import { attrFloat, attrInt, makeNode, type ModelProto } from "@modelpress/onnx";
import { loadDataset } from "@modelpress/evaluate";
import { buildDependencyGraph } from "./dependency_graph.ts";
import { applyBiasCorrection, biasDelta, reestimateBatchNorm } from "./recovery.ts";
import { pruneNeurons } from "./neuron_pruning.ts";
import { pruneChannels } from "./channel_pruning.ts";
import {
  assertSameOutputs,
  conv,
  initializerData,
  model,
  tensor,
  weight,
} from "./_structural_testing.ts";
import { randomInput, runModel } from "../../test/support/run_model.ts";
import { seededFloats } from "../../test/support/prng.ts";

/** x[N,2,2,2] -> BN1(scale 2, bias 3) -> BN2 -> y. */
function twoBatchNorms(): ModelProto {
  const bn = (name: string, x: string, y: string, p: string) =>
    makeNode("BatchNormalization", {
      name,
      inputs: [x, `${p}.scale`, `${p}.bias`, `${p}.mean`, `${p}.var`],
      outputs: [y],
      attributes: { epsilon: attrFloat(1e-5) },
    });
  return model(
    [bn("bn1", "x", "h", "bn1"), bn("bn2", "h", "y", "bn2")],
    [
      tensor("bn1.scale", [2, 2], [2]),
      tensor("bn1.bias", [3, 3], [2]),
      tensor("bn1.mean", [0, 0], [2]),
      tensor("bn1.var", [1, 1], [2]),
      tensor("bn2.scale", [1, 1], [2]),
      tensor("bn2.bias", [0, 0], [2]),
      tensor("bn2.mean", [0, 0], [2]),
      tensor("bn2.var", [1, 1], [2]),
    ],
    { input: ["N", 2, 2, 2], output: ["N", 2, 2, 2] },
  );
}

Deno.test("reestimateBatchNorm() sets per-channel statistics, each layer after the ones before", async () => {
  const samples = [1, 2, 3, 4, 5].map((s) => Array.from(seededFloats(8, s, { scale: 4 })));
  const dataset = await loadDataset({ x: samples });
  const { model: m, batchNorm, samples: n } = await reestimateBatchNorm(twoBatchNorms(), dataset, {
    batchSize: 2,
  });
  assert.equal(n, 5);
  assert.deepEqual(batchNorm.map((b) => [b.node, b.channels]), [["bn1", 2], ["bn2", 2]]);
  for (let c = 0; c < 2; c++) {
    const values = samples.flatMap((s) => s.slice(c * 4, c * 4 + 4));
    const mean = values.reduce((a, b) => a + b, 0) / values.length;
    const variance = values.reduce((a, b) => a + (b - mean) ** 2, 0) / values.length;
    assert.ok(Math.abs(initializerData(m, "bn1.mean")[c]! - mean) < 1e-5);
    assert.ok(Math.abs(initializerData(m, "bn1.var")[c]! - variance) < 1e-4);
    // bn2 sees bn1's new output: mean 3 (its bias), variance 4 var/(var+eps) (its scale).
    assert.ok(Math.abs(initializerData(m, "bn2.mean")[c]! - 3) < 1e-4);
    assert.ok(
      Math.abs(initializerData(m, "bn2.var")[c]! - 4 * variance / (variance + 1e-5)) < 1e-3,
    );
  }
  // The input model is unchanged.
  assert.deepEqual(Array.from(initializerData(twoBatchNorms(), "bn1.mean")), [0, 0]);
});

/**
 * x[N,4] -> Gemm fc1 [4->5] -> Relu -> MatMul fc2 [5->6] -> Relu -> Gemm fc3 (no bias) -> y.
 * fc1's unit 2 is the constant 0.7 (zero weights, bias 0.7); fc2's unit 4 is relu(unit 2) = 0.7.
 */
function constantUnits(): ModelProto {
  const w1 = seededFloats(20, 1); // [4, 5]
  const b1 = seededFloats(5, 2);
  for (let k = 0; k < 4; k++) w1[k * 5 + 2] = 0;
  b1[2] = 0.7;
  const w2 = seededFloats(30, 3); // [5, 6]
  for (let j = 0; j < 5; j++) w2[j * 6 + 4] = j === 2 ? 1 : 0;
  return model(
    [
      makeNode("Gemm", { name: "fc1", inputs: ["x", "w1", "b1"], outputs: ["h1"] }),
      makeNode("Relu", { name: "r1", inputs: ["h1"], outputs: ["a1"] }),
      makeNode("MatMul", { name: "fc2", inputs: ["a1", "w2"], outputs: ["h2"] }),
      makeNode("Relu", { name: "r2", inputs: ["h2"], outputs: ["a2"] }),
      makeNode("Gemm", {
        name: "fc3",
        inputs: ["a2", "w3"],
        outputs: ["y"],
        attributes: { transB: attrInt(1), alpha: attrFloat(0.5) },
      }),
    ],
    [
      tensor("w1", w1, [4, 5]),
      tensor("b1", b1, [5]),
      tensor("w2", w2, [5, 6]),
      weight("w3", [3, 6], 4),
    ],
    { input: ["N", 4], output: ["N", 3] },
  );
}

Deno.test("pruneNeurons() with bias correction removes constant units exactly", async () => {
  const original = constantUnits();
  const calibration = await loadDataset({
    x: [10, 11, 12, 13, 14, 15].map((s) => Array.from(seededFloats(4, s))),
  });
  const options = { sparsity: 0.2, calibration } as const;
  const plain = await pruneNeurons(original, options);
  assert.deepEqual(plain.layers.map((l) => l.removed), [[2], [4]]);
  const fixed = await pruneNeurons(original, { ...options, recovery: { biasCorrection: true } });
  assert.deepEqual(
    fixed.recovery.biasCorrection.map((b) => [b.node, b.op, b.removedInputs, b.addedBias]),
    [["fc2", "MatMul", 1, true], ["fc3", "Gemm", 1, true]],
  );
  assert.equal(fixed.recovery.samples, 6);
  await assertSameOutputs(fixed.model, original, [5, 4], 1e-5);
  await assert.rejects(assertSameOutputs(plain.model, original, [5, 4], 1e-3), /outputs differ/);
});

Deno.test("biasDelta() sums a Conv's weights over the kernel for each removed input channel", () => {
  const m = model(
    [conv("A", ["x", "wA"], "a", { kernel: 1 }), conv("B", ["a", "wB"], "y", { kernel: 3 })],
    [weight("wA", [3, 2, 1, 1], 1), weight("wB", [2, 3, 3, 3], 2)],
    { input: [1, 2, 5, 5], output: [1, 2, 3, 3] },
  );
  const graph = buildDependencyGraph(m);
  const consumer = graph.consumers.find((c) => c.node.name === "B")!;
  const delta = biasDelta(consumer, new Map([[1, 2], [2, -1]]));
  const w = initializerData(m, "wB");
  for (let o = 0; o < 2; o++) {
    let expected = 0;
    for (let k = 0; k < 9; k++) expected += 2 * w[(o * 3 + 1) * 9 + k]! - w[(o * 3 + 2) * 9 + k]!;
    assert.ok(Math.abs(delta[o]! - expected) < 1e-6);
  }
});

Deno.test("applyBiasCorrection() shifts a Conv's output by the delta, creating its bias", async () => {
  const m = model(
    [conv("A", ["x", "wA"], "y", { kernel: 1 })],
    [weight("wA", [3, 2, 1, 1], 1)],
    { input: [1, 2, 2, 2], output: [1, 3, 2, 2] },
  );
  const before = await runModel(m, { x: randomInput([1, 2, 2, 2], 1) });
  const edited = structuredClone(m);
  const node = edited.graph!.node[0]!;
  const report = applyBiasCorrection(
    edited,
    new Map([[node, { delta: new Float64Array([1, -2, 0.5]), removedInputs: 1 }]]),
  );
  assert.deepEqual(report.map((r) => [r.node, r.addedBias, r.maxCorrection]), [["A", true, 2]]);
  const after = await runModel(edited, { x: randomInput([1, 2, 2, 2], 1) });
  const a = before.y!.data as Float32Array;
  const b = after.y!.data as Float32Array;
  for (let i = 0; i < a.length; i++) {
    assert.ok(Math.abs(b[i]! - a[i]! - [1, -2, 0.5][Math.floor(i / 4)]!) < 1e-6);
  }
});

Deno.test("pruneChannels() with bias correction removes a constant channel exactly through Conv and Flatten", async () => {
  // x[N,1,4,4] -> A (3 filters, 3x3 pad 1; filter 1 is zero with bias 0.5) -> Relu -> r;
  // r -> B (2x2, no pad, no bias) -> Flatten -> f1; r -> Flatten -> Gemm -> f2; y = Concat(f1, f2).
  const wA = seededFloats(27, 1);
  wA.fill(0, 9, 18);
  const original = model(
    [
      conv("A", ["x", "wA", "bA"], "a", { kernel: 3, pad: 1 }),
      makeNode("Relu", { name: "relu", inputs: ["a"], outputs: ["r"] }),
      conv("B", ["r", "wB"], "b", { kernel: 2 }),
      makeNode("Flatten", { name: "flatB", inputs: ["b"], outputs: ["f1"] }),
      makeNode("Flatten", { name: "flatR", inputs: ["r"], outputs: ["fr"] }),
      makeNode("Gemm", {
        name: "fc",
        inputs: ["fr", "wF", "bF"],
        outputs: ["f2"],
        attributes: { transB: attrInt(1) },
      }),
      makeNode("Concat", {
        name: "cat",
        inputs: ["f1", "f2"],
        outputs: ["y"],
        attributes: { axis: attrInt(1) },
      }),
    ],
    [
      tensor("wA", wA, [3, 1, 3, 3]),
      tensor("bA", [0.1, 0.5, -0.2], [3]),
      weight("wB", [2, 3, 2, 2], 2),
      weight("wF", [5, 48], 3),
      weight("bF", [5], 4),
    ],
    { input: ["N", 1, 4, 4], output: ["N", 23] },
  );
  const calibration = await loadDataset({
    x: [20, 21, 22].map((s) => Array.from(seededFloats(16, s))),
  });
  const result = await pruneChannels(original, {
    sparsity: 0.34,
    include: ["^A$"],
    calibration,
    recovery: { biasCorrection: true },
  });
  assert.deepEqual(result.layers.map((l) => [l.node, l.removed]), [["A", [1]]]);
  assert.deepEqual(
    result.recovery.biasCorrection.map((b) => [b.node, b.removedInputs, b.addedBias]),
    [["B", 1, true], ["fc", 16, false]],
  );
  await assertSameOutputs(result.model, original, [2, 1, 4, 4], 1e-5);
  const plain = await pruneChannels(original, { sparsity: 0.34, include: ["^A$"] });
  await assert.rejects(assertSameOutputs(plain.model, original, [2, 1, 4, 4], 1e-3), /differ/);
});
