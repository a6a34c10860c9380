import assert from "node:assert/strict";
import {
  attrInt,
  decodeModel,
  encodeModel,
  makeGraph,
  makeModel,
  makeNode,
  makeTensor,
  makeValueInfo,
  type ModelProto,
  tensorData,
  TensorProto_DataType as T,
} from "@modelpress/onnx";
import { createKernels } from "@modelpress/kernels";
import { evaluateModel, loadDataset } from "@modelpress/evaluate";
import { float32Input, runModel } from "../../test/support/run_model.ts";
import { seededFloats } from "../../test/support/prng.ts";
import { quantizeModel } from "./quantize_model.ts";
import type { QuantizeRecipe } from "./recipe.ts";

const kernels = await createKernels({ backend: "js" });

/**
 * y1 = MatMul(x, w) and y2 = MatMul(x, w) (w tied, channels last), y3 = Gemm(x, g) with
 * transB=1 (channels first), y4 = Conv(image, k) (4-D weight).
 */
function smallModel(opset: number, weights: Record<string, Float32Array> = {}): ModelProto {
  const init = (name: string, dims: number[], seed: number) =>
    makeTensor(
      name,
      weights[name] ?? Float32Array.from(seededFloats(dims.reduce((a, b) => a * b), seed)),
      {
        dims,
      },
    );
  const f = (name: string, shape: number[]) => makeValueInfo(name, T.FLOAT, { shape });
  const graph = makeGraph("small", {
    nodes: [
      makeNode("MatMul", { inputs: ["x", "w"], outputs: ["y1"], name: "mm1" }),
      makeNode("MatMul", { inputs: ["x", "w"], outputs: ["y2"], name: "mm2" }),
      makeNode("Gemm", {
        inputs: ["x", "g"],
        outputs: ["y3"],
        name: "fc",
        attributes: { transB: attrInt(1) },
      }),
      makeNode("Conv", { inputs: ["image", "k"], outputs: ["y4"], name: "conv" }),
    ],
    inputs: [f("x", [2, 8]), f("image", [1, 3, 6, 6])],
    outputs: [f("y1", [2, 16]), f("y2", [2, 16]), f("y3", [2, 4]), f("y4", [1, 5, 4, 4])],
    initializers: [init("w", [8, 16], 1), init("g", [4, 8], 2), init("k", [5, 3, 3, 3], 3)],
  });
  return makeModel(graph, {
    opsetImports: [{ domain: "", version: opset }],
    irVersion: opset >= 21 ? 10 : 8,
  });
}

const feeds = {
  x: float32Input(seededFloats(16, 5), [2, 8]),
  image: float32Input(seededFloats(108, 6), [1, 3, 6, 6]),
};

/**
 * The float weight that the Cast, Add, Gather and Mul nodes before `mm1`, `fc` and `conv`
 * rebuild, computed here from the initializers (with trailing-aligned broadcasting of [C, 1, ...]
 * right-hand operands), to compare with what onnxruntime-web computes.
 */
function rebuilt(model: ModelProto, weight: string): Float32Array {
  const graph = model.graph!;
  const values = new Map<string, { data: ArrayLike<number>; dims: number[] }>();
  for (const t of graph.initializer) {
    values.set(t.name, { data: tensorData(t) as ArrayLike<number>, dims: t.dims.map(Number) });
  }
  const broadcast = (a: { dims: number[] }, b: { dims: number[] }, i: number): number => {
    // b's dims align with a's last ones; all but its first are 1.
    const inner = a.dims.slice(a.dims.length - b.dims.length + 1).reduce((x, y) => x * y, 1);
    return b.dims.length === 0 ? 0 : Math.floor(i / inner) % b.dims[0]!;
  };
  for (const node of graph.node) {
    const [a, b] = node.input.map((n) => values.get(n));
    if (a === undefined) continue;
    let out: { data: number[]; dims: number[] };
    if (node.opType === "Cast") out = { data: Array.from(a.data), dims: a.dims };
    else if (node.opType === "Gather") {
      out = { data: Array.from(b!.data, (j) => a.data[j]!), dims: b!.dims };
    } else if (node.opType === "Add" || node.opType === "Mul") {
      const f = node.opType === "Add"
        ? (x: number, y: number) => x + y
        : (x: number, y: number) => Math.fround(x * y);
      out = {
        data: Array.from(a.data, (x, i) => f(x, b!.data[broadcast(a, b!, i)]!)),
        dims: a.dims,
      };
    } else continue;
    values.set(node.output[0]!, out);
  }
  return Float32Array.from(values.get(`${weight}_decoded`)!.data);
}

for (
  const recipe of [
    { method: "log", bits: 6 },
    { method: "log", bits: 3, granularity: "tensor" },
    { method: "kmeans", bits: 4 },
    { method: "kmeans", bits: 2, granularity: "tensor" },
  ] as QuantizeRecipe[]
) {
  Deno.test(`quantizeModel() ${JSON.stringify(recipe)}: Cast, Gather and Add or Mul rebuild the weights exactly in onnxruntime-web`, async () => {
    for (const opset of [13, 21]) {
      const { model, report } = await quantizeModel(smallModel(opset), recipe, { kernels });
      const ops = model.graph!.node.map((n) => n.opType);
      assert.ok(
        ops.every((o) => ["Cast", "Add", "Mul", "Gather", "MatMul", "Gemm", "Conv"].includes(o)),
        `${ops}`,
      );
      assert.ok(model.graph!.node.every((n) => n.domain === ""));
      assert.equal(ops.filter((o) => o === "Gather").length, 3, "w (tied) once, g, k");
      const perChannel = recipe.granularity === "tensor" ? 0 : 3;
      // Per channel: k-means adds codebook offsets; log multiplies one codebook by the scales.
      assert.equal(
        ops.filter((o) => o === "Add").length,
        recipe.method === "kmeans" ? perChannel : 0,
      );
      assert.equal(ops.filter((o) => o === "Mul").length, recipe.method === "log" ? perChannel : 0);
      assert.ok(!model.graph!.initializer.some((t) => ["w", "g", "k"].includes(t.name)));
      assert.deepEqual(report.opset, { from: opset, to: opset });
      // The quantized model computes exactly what the float model computes with the weights
      // that the codes and codebooks stand for.
      const decoded = Object.fromEntries(["w", "g", "k"].map((n) => [n, rebuilt(model, n)]));
      const expected = await runModel(smallModel(opset, decoded), feeds);
      const outputs = await runModel(encodeModel(model), feeds);
      for (const name of ["y1", "y2", "y3", "y4"]) {
        assert.deepEqual(outputs[name], expected[name], name);
      }
      for (const t of report.tensors) {
        assert.equal(t.method, recipe.method);
        assert.equal(t.bits, recipe.bits);
        assert.equal(t.storedAs, recipe.bits! <= 4 && opset >= 21 ? "uint4" : "uint8");
        const codes = model.graph!.initializer.find((i) => i.name === t.quantizedName)!;
        assert.equal(codes.dataType, t.storedAs === "uint4" ? T.UINT4 : T.UINT8);
        assert.equal(t.codebook!.size, 2 ** recipe.bits!);
        assert.equal(t.codebook!.groups, recipe.granularity === "tensor" ? 1 : t.shape[t.axis!]);
        const perGroup = t.shape.reduce((a, b) => a * b, 1) / t.codebook!.groups;
        if (recipe.method === "kmeans" && perGroup <= t.codebook!.size) {
          assert.equal(t.mse, 0, `${t.name}: no more values than centroids`);
        } else assert.ok(t.mse > 0 && t.sqnrDb! > 5, `${t.name}: ${t.sqnrDb} dB`);
      }
      assert.deepEqual(report.tensors.find((t) => t.name === "w")!.consumers, ["mm1", "mm2"]);
      assert.deepEqual(
        report.tensors.map((t) => [t.name, t.axis]),
        recipe.granularity === "tensor"
          ? [["w", null], ["g", null], ["k", null]]
          : [["w", 1], ["g", 0], ["k", 0]],
      );
      assert.ok(report.nodes.every((n) => n.status === "quantized" && n.method === recipe.method));
      assert.deepEqual(JSON.parse(JSON.stringify(report)), report);
    }
  });
}

Deno.test("quantizeModel() log and kmeans write the same bytes every time", async () => {
  for (const recipe of [{ method: "kmeans", bits: 3 }, { method: "log", bits: 5 }] as const) {
    const a = encodeModel((await quantizeModel(smallModel(13), recipe, { kernels })).model);
    const b = encodeModel((await quantizeModel(smallModel(13), recipe, { kernels })).model);
    assert.deepEqual(a, b, recipe.method);
  }
});

Deno.test("quantizeModel() mixes codebook methods with linear through overrides", async () => {
  const { model, report } = await quantizeModel(smallModel(13), {
    method: "linear",
    overrides: [
      { match: { opType: "Conv" }, method: "kmeans", bits: 3 },
      { match: { name: "fc" }, method: "log", bits: 4, granularity: "tensor" },
    ],
  }, { kernels });
  assert.deepEqual(report.tensors.map((t) => [t.name, t.method, t.bits]), [
    ["w", "linear", 8],
    ["g", "log", 4],
    ["k", "kmeans", 3],
  ]);
  await runModel(encodeModel(model), feeds);
});

// Acceptance: MNIST fixtures, measured in onnxruntime-web through @modelpress/evaluate on the
// fixed 2,000-sample test split.
const mnist = await loadDataset("mnist");
const baselines = new Map<string, number>();

async function measure(file: string, recipe: QuantizeRecipe) {
  const bytes = await Deno.readFile(new URL(`../../test/fixtures/${file}.onnx`, import.meta.url));
  if (!baselines.has(file)) {
    const base = await evaluateModel(bytes, { dataset: mnist, latency: false });
    baselines.set(file, base.accuracy!.top1);
  }
  const { model, report } = await quantizeModel(decodeModel(bytes), recipe, { kernels });
  const out = encodeModel(model);
  const evaluated = await evaluateModel(out, { dataset: mnist, latency: false });
  const top1 = evaluated.accuracy!.top1;
  const drop = (baselines.get(file)! - top1) * 100;
  const sqnr = report.tensors.map((t) => `${t.name} ${t.sqnrDb?.toFixed(1)} dB`).join(", ");
  console.log(
    `${file} ${JSON.stringify(recipe)}: top1 ${top1} (fp32 ${baselines.get(file)}, drop ${
      drop.toFixed(2)
    } pp), ${out.length} of ${bytes.length} bytes (${
      (100 * out.length / bytes.length).toFixed(1)
    }%); ${sqnr}`,
  );
  return { top1, drop, report };
}

for (const file of ["mnist_mlp", "mnist_cnn"]) {
  Deno.test(`quantizeModel() ${file}: log 4/5/6-bit and k-means 3/4-bit run in onnxruntime-web (measured)`, async () => {
    for (
      const recipe of [
        { method: "log", bits: 4 },
        { method: "log", bits: 5 },
        { method: "log", bits: 6 },
        { method: "kmeans", bits: 3 },
        { method: "kmeans", bits: 4 },
      ] as QuantizeRecipe[]
    ) {
      const { top1, drop, report } = await measure(file, recipe);
      assert.ok(report.nodes.every((n) => n.status === "quantized"));
      assert.ok(top1 > 0.5, `${JSON.stringify(recipe)}: top1 ${top1}`);
      if (file === "mnist_mlp" && (recipe.method === "kmeans" || recipe.bits === 6)) {
        assert.ok(drop <= 1, `${JSON.stringify(recipe)}: drop ${drop} pp`);
      }
    }
  });
}
