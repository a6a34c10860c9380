import assert from "node:assert/strict";
import {
  attrFloat,
  attrInt,
  decodeModel,
  encodeModel,
  float32ToFloat16,
  makeGraph,
  makeModel,
  makeNode,
  makeTensor,
  makeValueInfo,
  type ModelProto,
  opsetVersion,
  tensorData,
  TensorProto_DataType as T,
} from "@modelpress/onnx";
import { float32Input, runModel } from "../../test/support/run_model.ts";
import { seededFloats } from "../../test/support/prng.ts";
import { createKernels } from "@modelpress/kernels";
import { evaluateModel, loadDataset } from "@modelpress/evaluate";
import { quantizeModel } from "./quantize_model.ts";
import type { QuantizeRecipe } from "./recipe.ts";

/**
 * An fp16 copy of a float32 model: every FLOAT initializer becomes FLOAT16, and the graph keeps
 * its float32 input and output through a Cast at the front and a Cast back at the end, so that
 * the float32 MNIST dataset feeds it and accuracy reads float32 scores.
 */
function toFloat16(model: ModelProto): ModelProto {
  const graph = model.graph!;
  graph.initializer = graph.initializer.map((t) =>
    t.dataType !== T.FLOAT
      ? t
      : makeTensor(t.name, float32ToFloat16(tensorData(t) as Float32Array), {
        dims: t.dims.map(Number),
        dataType: T.FLOAT16,
      })
  );
  graph.valueInfo = [];
  const input = graph.input[0]!.name;
  const output = graph.output[0]!.name;
  const half = `${input}_float16`;
  const halfOut = `${output}_float16`;
  for (const node of graph.node) {
    node.input = node.input.map((n) => (n === input ? half : n));
    node.output = node.output.map((n) => (n === output ? halfOut : n));
  }
  graph.node.unshift(makeNode("Cast", {
    inputs: [input],
    outputs: [half],
    name: "input_to_float16",
    attributes: { to: attrInt(T.FLOAT16) },
  }));
  graph.node.push(makeNode("Cast", {
    inputs: [halfOut],
    outputs: [output],
    name: "output_to_float32",
    attributes: { to: attrInt(T.FLOAT) },
  }));
  return model;
}

const kernels = await createKernels({ backend: "js" });
const mnist = await loadDataset("mnist");

async function readFixture(file: string): Promise<Uint8Array> {
  return await Deno.readFile(new URL(`../../test/fixtures/${file}.onnx`, import.meta.url));
}

/**
 * An fp16 model at opset 13: y1 = MatMul(x, w), y2 = Gemm(x, g, b) with transB=1, alpha 0.5 and
 * beta 2, y3 = Conv(image, k, c); float32 inputs and outputs through Casts.
 */
function smallModel(): ModelProto {
  const f = (name: string, shape: number[]) => makeValueInfo(name, T.FLOAT, { shape });
  const graph = makeGraph("small", {
    nodes: [
      makeNode("MatMul", { inputs: ["x", "w"], outputs: ["y1"], name: "mm" }),
      makeNode("Gemm", {
        inputs: ["x", "g", "b"],
        outputs: ["y2"],
        name: "fc",
        attributes: { transB: attrInt(1), alpha: attrFloat(0.5), beta: attrFloat(2) },
      }),
      makeNode("Conv", { inputs: ["image", "k", "c"], outputs: ["y3"], name: "conv" }),
    ],
    inputs: [f("x", [2, 32]), f("image", [1, 3, 6, 6])],
    outputs: [f("y1", [2, 16]), f("y2", [2, 4]), f("y3", [1, 5, 4, 4])],
    initializers: [
      makeTensor("w", seededFloats(32 * 16, 1), { dims: [32, 16] }),
      makeTensor("g", seededFloats(4 * 32, 2), { dims: [4, 32] }),
      makeTensor("b", seededFloats(4, 3), { dims: [4] }),
      makeTensor("k", seededFloats(5 * 3 * 3 * 3, 4), { dims: [5, 3, 3, 3] }),
      makeTensor("c", seededFloats(5, 5), { dims: [5] }),
    ],
  });
  const model = makeModel(graph, { opsetImports: [{ domain: "", version: 13 }], irVersion: 8 });
  // toFloat16 casts the first input and output; cast the others here.
  const g = model.graph!;
  g.node.unshift(makeNode("Cast", {
    inputs: ["image"],
    outputs: ["image_float16"],
    name: "image_to_float16",
    attributes: { to: attrInt(T.FLOAT16) },
  }));
  g.node.find((n) => n.name === "conv")!.input[0] = "image_float16";
  for (const y of ["y2", "y3"]) {
    g.node.find((n) => n.output[0] === y)!.output[0] = `${y}_float16`;
    g.node.push(makeNode("Cast", {
      inputs: [`${y}_float16`],
      outputs: [y],
      name: `${y}_to_float32`,
      attributes: { to: attrInt(T.FLOAT) },
    }));
  }
  return toFloat16(model);
}

const feeds = {
  x: float32Input(seededFloats(64, 6), [2, 32]),
  image: float32Input(seededFloats(108, 7), [1, 3, 6, 6]),
};

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
}

Deno.test("quantizeModel() fp16 weights: fp16 scales, codebooks and casts, outputs close to fp16", async () => {
  const reference = await runModel(smallModel(), feeds);
  const cases: [QuantizeRecipe, number, number][] = [
    [{ method: "linear", granularity: "channel" }, 19, 0.1],
    [{ method: "linear", granularity: "tensor" }, 19, 0.1],
    [{ method: "dynamic" }, 13, 0.15],
    [{ method: "linear", bits: 4, granularity: "block", blockSize: 16 }, 21, 1],
    [{ method: "log", bits: 6, granularity: "channel" }, 13, 1],
    [{ method: "log", bits: 5, granularity: "tensor" }, 13, 1.5],
    [{ method: "kmeans", bits: 4, granularity: "channel" }, 13, 0.5],
  ];
  for (const [recipe, opset, tolerance] of cases) {
    const label = JSON.stringify(recipe);
    const { model, report } = await quantizeModel(smallModel(), recipe, { kernels });
    assert.equal(opsetVersion(model, ""), opset, label);
    assert.ok(report.nodes.every((n) => n.status === "quantized"), label);
    const graph = model.graph!;
    const initializer = (name: string) => graph.initializer.find((t) => t.name === name)!;
    for (const dq of graph.node.filter((n) => n.opType === "DequantizeLinear")) {
      assert.equal(initializer(dq.input[1]!).dataType, T.FLOAT16, `${label}: ${dq.name} scale`);
    }
    for (const nb of graph.node.filter((n) => n.opType === "MatMulNBits")) {
      assert.equal(initializer(nb.input[2]!).dataType, T.FLOAT16, `${label}: ${nb.name} scale`);
    }
    if (recipe.method === "dynamic") {
      // mm and fc share x: one Cast to float32 before one DynamicQuantizeLinear.
      const casts = graph.node.filter((n) => n.opType === "Cast" && n.input[0] === "x_float16");
      assert.equal(casts.length, 1);
      assert.equal(graph.node.filter((n) => n.opType === "DynamicQuantizeLinear").length, 2);
    }
    if (recipe.method === "kmeans") {
      for (const t of report.tensors) {
        assert.equal(
          initializer(t.quantizedName.replace(/_codes$/, "_codebook")).dataType,
          T.FLOAT16,
        );
      }
    }
    assert.ok(
      graph.initializer.every((t) =>
        t.dataType !== T.FLOAT || t.dims.length <= 4 && tensorData(t).length <= 64
      ),
      `${label}: no large float32 tensor`,
    );
    const outputs = await runModel(encodeModel(model), feeds);
    for (const name of ["y1", "y2", "y3"]) {
      const d = maxAbsDiff(
        reference[name]!.data as Float32Array,
        outputs[name]!.data as Float32Array,
      );
      assert.ok(d <= tolerance, `${label} ${name}: ${d}`);
    }
  }
});

const RECIPES: readonly [string, QuantizeRecipe][] = [
  ["linear int8 per-channel", { method: "linear", granularity: "channel" }],
  ["dynamic int8 per-channel", { method: "dynamic", granularity: "channel" }],
  ["static int8 minmax", {
    method: "static",
    granularity: "channel",
    calibration: { method: "minmax", samples: 200 },
  }],
  ["int4 blocked", { method: "linear", bits: 4, granularity: "block", blockSize: 32 }],
  ["kmeans 4-bit", { method: "kmeans", bits: 4, granularity: "channel" }],
];

for (const file of ["mnist_mlp", "mnist_cnn"]) {
  Deno.test(`quantizeModel() fp16 ${file}: every method runs within 0.5 pp of the fp16 model`, async () => {
    const fp32 = await readFixture(file);
    const bytes = encodeModel(toFloat16(decodeModel(fp32)));
    const base = (await evaluateModel(bytes, { dataset: mnist, latency: false })).accuracy!.top1;
    console.log(`${file} fp16: top1 ${base}, ${bytes.length} bytes (fp32 ${fp32.length})`);
    assert.ok(base > 0.97, `fp16 top1 ${base}`);
    for (const [label, recipe] of RECIPES) {
      const { model, report } = await quantizeModel(decodeModel(bytes), recipe, {
        kernels,
        dataset: mnist,
      });
      const out = encodeModel(model);
      const top1 = (await evaluateModel(out, { dataset: mnist, latency: false })).accuracy!.top1;
      const drop = (base - top1) * 100;
      console.log(
        `${file} fp16 ${label}: top1 ${top1} (drop ${drop.toFixed(2)} pp), ${out.length} bytes ` +
          `(${(100 * out.length / bytes.length).toFixed(1)}% of fp16), opset ${report.opset.from}` +
          ` -> ${report.opset.to}`,
      );
      const skipped = report.nodes.filter((n) => n.status !== "quantized");
      assert.deepEqual(skipped, [], label);
      assert.ok(drop <= 0.5, `${label}: drop ${drop} pp`);
      assert.ok(out.length < bytes.length, label);
    }
  });
}
