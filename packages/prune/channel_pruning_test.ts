import assert from "node:assert/strict";
import {
  attrInt,
  decodeModel,
  makeNode,
  makeTensor,
  type ModelProto,
  type TensorProto,
} from "@modelpress/onnx";
import { countMacs, evaluateModel, loadDataset } from "@modelpress/evaluate";
import { encodeModel } from "@modelpress/onnx";
import { pruneChannels } from "./channel_pruning.ts";
import {
  assertSameOutputs,
  conv,
  initializerData,
  keptOf,
  model,
  parameterCount,
  sliceAxis,
  tensor,
  weight,
} from "./_structural_testing.ts";

const C = 4;

/** x[1,3,6,6] -> A -> Relu=r; r -> B(+bias)=b; Add(r, b) -> Relu -> C(1x1) -> y. */
function residual(w: Record<string, Float32Array>, c: number): ModelProto {
  const t = (name: string, dims: number[]) => tensor(name, w[name]!, dims);
  return model(
    [
      conv("A", ["x", "wA", "bA"], "a", { kernel: 3, pad: 1 }),
      makeNode("Relu", { name: "reluA", inputs: ["a"], outputs: ["r"] }),
      conv("B", ["r", "wB", "bB"], "b", { kernel: 3, pad: 1 }),
      makeNode("Add", { name: "skip", inputs: ["r", "b"], outputs: ["t"] }),
      makeNode("Relu", { name: "reluT", inputs: ["t"], outputs: ["u"] }),
      conv("C", ["u", "wC"], "y", { kernel: 1 }),
    ],
    [
      t("wA", [c, 3, 3, 3]),
      t("bA", [c]),
      t("wB", [c, c, 3, 3]),
      t("bB", [c]),
      t("wC", [2, c, 1, 1]),
    ],
    { input: [1, 3, 6, 6], output: [1, 2, 6, 6] },
  );
}

function data(tensors: readonly TensorProto[]): Record<string, Float32Array> {
  const out: Record<string, Float32Array> = {};
  for (const t of tensors) out[t.name] = new Float32Array(t.rawData.slice().buffer);
  return out;
}

Deno.test("pruneChannels() removes residual-coupled channels together and matches hand-sliced weights", async () => {
  const w = data([
    weight("wA", [C, 3, 3, 3], 1),
    weight("bA", [C], 2),
    weight("wB", [C, C, 3, 3], 3),
    weight("bB", [C], 4),
    weight("wC", [2, C, 1, 1], 5),
  ]);
  const original = residual(w, C);
  const result = await pruneChannels(original, { sparsity: 0.5 });
  const group = result.groups.find((g) => g.sources.includes("A"))!;
  assert.deepEqual(group.sources, ["A", "B"]);
  assert.equal(group.units, C);
  assert.equal(group.removed, 2);
  assert.ok(group.members.some((m) => m.node === "skip" && m.role === "coupling"));
  assert.ok(group.members.some((m) => m.node === "C" && m.role === "consumer"));
  const [a, b] = [
    result.layers.find((l) => l.node === "A")!,
    result.layers.find((l) => l.node === "B")!,
  ];
  assert.equal(a.removed.length, 2);
  assert.deepEqual(a.removed, b.removed);
  const keep = keptOf(C, a.removed);
  const reference = residual({
    wA: sliceAxis(w.wA!, [C, 3, 3, 3], 0, keep),
    bA: sliceAxis(w.bA!, [C], 0, keep),
    wB: sliceAxis(sliceAxis(w.wB!, [C, C, 3, 3], 0, keep), [2, C, 3, 3], 1, keep),
    bB: sliceAxis(w.bB!, [C], 0, keep),
    wC: sliceAxis(w.wC!, [2, C, 1, 1], 1, keep),
  }, 2);
  assert.deepEqual(initializerData(result.model, "wB"), initializerData(reference, "wB"));
  await assertSameOutputs(result.model, reference, [1, 3, 6, 6]);
  // The original is not changed.
  assert.equal(initializerData(original, "wA").length, C * 27);
});

/** x[1,2,5,5] -> A(3) and B(4) -> Concat -> Mul(per-channel) -> Relu -> C(3x3) -> y. */
function concatModel(w: Record<string, Float32Array>, ca: number, cb: number): ModelProto {
  const t = (name: string, dims: number[]) => tensor(name, w[name]!, dims);
  return model(
    [
      conv("A", ["x", "wA", "bA"], "a", { kernel: 3, pad: 1 }),
      conv("B", ["x", "wB"], "b", { kernel: 1 }),
      makeNode("Concat", {
        name: "cat",
        inputs: ["a", "b"],
        outputs: ["c"],
        attributes: { axis: attrInt(1) },
      }),
      makeNode("Mul", { name: "scale", inputs: ["c", "s"], outputs: ["m"] }),
      makeNode("Relu", { name: "relu", inputs: ["m"], outputs: ["r"] }),
      conv("C", ["r", "wC"], "y", { kernel: 3 }),
    ],
    [
      t("wA", [ca, 2, 3, 3]),
      t("bA", [ca]),
      t("wB", [cb, 2, 1, 1]),
      t("s", [1, ca + cb, 1, 1]),
      t("wC", [2, ca + cb, 3, 3]),
    ],
    { input: [1, 2, 5, 5], output: [1, 2, 3, 3] },
  );
}

Deno.test("pruneChannels() maps Concat channels at their offsets and matches hand-sliced weights", async () => {
  const w = data([
    weight("wA", [3, 2, 3, 3], 11),
    weight("bA", [3], 12),
    weight("wB", [4, 2, 1, 1], 13),
    weight("s", [1, 7, 1, 1], 14),
    weight("wC", [2, 7, 3, 3], 15),
  ]);
  const result = await pruneChannels(concatModel(w, 3, 4), { sparsity: 0.34, importance: "l2" });
  const a = result.layers.find((l) => l.node === "A")!;
  const b = result.layers.find((l) => l.node === "B")!;
  assert.equal(a.removed.length, 1); // round(0.34 * 3)
  assert.equal(b.removed.length, 1); // round(0.34 * 4)
  assert.notEqual(a.group, b.group, "Concat does not couple its inputs");
  const keepA = keptOf(3, a.removed);
  const keepB = keptOf(4, b.removed);
  const keepC = [...keepA, ...keepB.map((i) => i + 3)];
  const reference = concatModel(
    {
      wA: sliceAxis(w.wA!, [3, 2, 3, 3], 0, keepA),
      bA: sliceAxis(w.bA!, [3], 0, keepA),
      wB: sliceAxis(w.wB!, [4, 2, 1, 1], 0, keepB),
      s: sliceAxis(w.s!, [1, 7, 1, 1], 1, keepC),
      wC: sliceAxis(w.wC!, [2, 7, 3, 3], 1, keepC),
    },
    2,
    3,
  );
  await assertSameOutputs(result.model, reference, [1, 2, 5, 5]);
});

Deno.test("pruneChannels() makes a depthwise Conv follow its input, with its group", async () => {
  const build = (w: Record<string, Float32Array>, c: number): ModelProto =>
    model(
      [
        conv("A", ["x", "wA"], "a", { kernel: 3, pad: 1 }),
        makeNode("BatchNormalization", {
          name: "bn",
          inputs: ["a", "g", "beta", "mu", "var"],
          outputs: ["n"],
        }),
        makeNode("Relu", { name: "relu", inputs: ["n"], outputs: ["r"] }),
        conv("D", ["r", "wD", "bD"], "d", { kernel: 3, pad: 1, group: c }),
        conv("C", ["d", "wC"], "y", { kernel: 1 }),
      ],
      [
        tensor("wA", w.wA!, [c, 2, 3, 3]),
        tensor("g", w.g!, [c]),
        tensor("beta", w.beta!, [c]),
        tensor("mu", w.mu!, [c]),
        tensor("var", w.var!, [c]),
        tensor("wD", w.wD!, [c, 1, 3, 3]),
        tensor("bD", w.bD!, [c]),
        tensor("wC", w.wC!, [3, c, 1, 1]),
      ],
      { input: [1, 2, 5, 5], output: [1, 3, 5, 5] },
    );
  const w = data([
    weight("wA", [C, 2, 3, 3], 21),
    weight("g", [C], 22),
    weight("beta", [C], 23),
    weight("mu", [C], 24),
    tensor("var", [0.5, 1, 1.5, 2], [C]),
    weight("wD", [C, 1, 3, 3], 25),
    weight("bD", [C], 26),
    weight("wC", [3, C, 1, 1], 27),
  ]);
  const result = await pruneChannels(build(w, C), { sparsity: 0.5 });
  const a = result.layers.find((l) => l.node === "A")!;
  assert.equal(a.removed.length, 2);
  assert.ok(result.groups[a.group]!.members.some((m) => m.node === "D" && m.role === "follower"));
  const d = result.model.graph!.node.find((n) => n.name === "D")!;
  assert.equal(d.attribute.find((x) => x.name === "group")!.i, 2n);
  const keep = keptOf(C, a.removed);
  const sliced: Record<string, Float32Array> = {};
  for (
    const [name, dims, axis] of [
      ["wA", [C, 2, 3, 3], 0],
      ["g", [C], 0],
      ["beta", [C], 0],
      ["mu", [C], 0],
      ["var", [C], 0],
      ["wD", [C, 1, 3, 3], 0],
      ["bD", [C], 0],
      ["wC", [3, C, 1, 1], 1],
    ] as const
  ) sliced[name] = sliceAxis(w[name]!, dims, axis, keep);
  await assertSameOutputs(result.model, build(sliced, 2), [1, 2, 5, 5]);
});

Deno.test("pruneChannels() updates a Reshape target and the Gemm's C*H*W feature blocks", async () => {
  const build = (w: Record<string, Float32Array>, c: number): ModelProto =>
    model(
      [
        conv("A", ["x", "wA", "bA"], "a", { kernel: 3, pad: 1 }),
        makeNode("Relu", { name: "relu", inputs: ["a"], outputs: ["r"] }),
        makeNode("Reshape", { name: "flat", inputs: ["r", "shape"], outputs: ["f"] }),
        makeNode("Gemm", {
          name: "fc",
          inputs: ["f", "wF", "bF"],
          outputs: ["y"],
          attributes: { transB: attrInt(1) },
        }),
      ],
      [
        tensor("wA", w.wA!, [c, 1, 3, 3]),
        tensor("bA", w.bA!, [c]),
        makeTensor("shape", new BigInt64Array([0n, BigInt(c * 16)])),
        tensor("wF", w.wF!, [3, c * 16]),
        tensor("bF", w.bF!, [3]),
      ],
      { input: [1, 1, 4, 4], output: [1, 3] },
    );
  const w = data([
    weight("wA", [C, 1, 3, 3], 31),
    weight("bA", [C], 32),
    weight("wF", [3, C * 16], 33),
    weight("bF", [3], 34),
  ]);
  const result = await pruneChannels(build(w, C), { sparsity: 0.5, importance: "random", seed: 3 });
  const a = result.layers.find((l) => l.node === "A")!;
  const keep = keptOf(C, a.removed);
  const features = keep.flatMap((ch) => [...Array(16).keys()].map((i) => ch * 16 + i));
  const reference = build({
    wA: sliceAxis(w.wA!, [C, 1, 3, 3], 0, keep),
    bA: sliceAxis(w.bA!, [C], 0, keep),
    wF: sliceAxis(w.wF!, [3, C * 16], 1, features),
    bF: w.bF!,
  }, 2);
  await assertSameOutputs(result.model, reference, [1, 1, 4, 4]);
});

Deno.test("pruneChannels() reports a grouped Conv and a residual from the graph input, and prunes neither group", async () => {
  const m = model(
    [
      conv("A", ["x", "wA"], "a", { kernel: 1 }),
      conv("G", ["a", "wG"], "g", { kernel: 1, group: 2 }),
      conv("B", ["x", "wB"], "b", { kernel: 1 }),
      makeNode("Add", { name: "skip", inputs: ["b", "x"], outputs: ["s"] }),
      makeNode("Concat", {
        name: "cat",
        inputs: ["g", "s"],
        outputs: ["c"],
        attributes: { axis: attrInt(1) },
      }),
      conv("C", ["c", "wC"], "y", { kernel: 1 }),
    ],
    [
      weight("wA", [4, 4, 1, 1], 41),
      weight("wG", [4, 2, 1, 1], 42),
      weight("wB", [4, 4, 1, 1], 43),
      weight("wC", [2, 8, 1, 1], 44),
    ],
    { input: [1, 4, 3, 3], output: [1, 2, 3, 3] },
  );
  const result = await pruneChannels(m, { sparsity: 0.5 });
  assert.ok(
    result.unsupported.some((u) => u.node === "G" && /grouped Conv \(group 2/.test(u.reason)),
  );
  assert.ok(
    result.unsupported.some((u) =>
      u.node === "skip" && /outside any prunable layer/.test(u.reason)
    ),
  );
  for (const name of ["A", "B"]) {
    const group = result.groups.find((g) => g.sources.includes(name))!;
    assert.equal(group.prunable, false, name);
    assert.equal(group.removed, 0);
  }
  await assertSameOutputs(result.model, m, [1, 4, 3, 3], 0);
});

Deno.test("pruneChannels() rejects a sparsity outside [0, 1) and activation importance without data", async () => {
  const m = residual(
    data([
      weight("wA", [C, 3, 3, 3], 1),
      weight("bA", [C], 2),
      weight("wB", [C, C, 3, 3], 3),
      weight("bB", [C], 4),
      weight("wC", [2, C, 1, 1], 5),
    ]),
    C,
  );
  await assert.rejects(pruneChannels(m, { sparsity: 1 }), RangeError);
  await assert.rejects(pruneChannels(m, { sparsity: -0.1 }), RangeError);
  await assert.rejects(
    pruneChannels(m, { sparsity: 0.5, importance: "activation" }),
    /calibration data/,
  );
  await assert.rejects(pruneChannels(m, { sparsity: 0.5, include: ["("] }), SyntaxError);
});

Deno.test("pruneChannels() on the MNIST CNN: 30% of channels, MACs about halved, recovery measured", async () => {
  const cnn = decodeModel(
    await Deno.readFile(new URL("../../test/fixtures/mnist_cnn.onnx", import.meta.url)),
  );
  const train = await loadDataset("mnist", { split: "train" });
  const test = await loadDataset("mnist");
  const accuracy = async (m: ModelProto): Promise<number> =>
    (await evaluateModel(encodeModel(m), { dataset: test, latency: false })).accuracy!.top1;
  const variants = [
    ["none", {}],
    ["batchNorm", { batchNorm: true }],
    ["biasCorrection", { biasCorrection: true }],
  ] as const;
  const acc: Record<string, number> = { original: await accuracy(cnn) };
  let pruned: ModelProto | undefined;
  for (const [name, recovery] of variants) {
    const r = await pruneChannels(cnn, {
      sparsity: 0.3,
      calibration: train,
      maxSamples: 256,
      recovery,
    });
    assert.deepEqual(r.layers.map((l) => [l.node, l.unitsBefore, l.unitsAfter]), [
      ["conv1", 8, 6],
      ["conv2", 16, 11],
    ]);
    acc[name] = await accuracy(r.model);
    pruned ??= r.model;
  }
  const macs = countMacs(pruned!.graph!).total / countMacs(cnn.graph!).total;
  console.log(
    `MNIST CNN 30% channels: params ${parameterCount(cnn)} -> ${parameterCount(pruned!)}, MACs x${
      macs.toFixed(3)
    }, accuracy ${JSON.stringify(acc)}`,
  );
  assert.ok(macs > 0.4 && macs < 0.6, `MACs ratio ${macs}`);
  assert.ok(acc.none! > 0.3, `pruned model still classifies (${acc.none})`);
  assert.ok(acc.batchNorm! > acc.none!, "BatchNorm re-estimation gains accuracy");
  assert.ok(acc.biasCorrection! > acc.none!, "bias correction gains accuracy");
});
