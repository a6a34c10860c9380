import assert from "node:assert/strict";
import {
  attrFloat,
  attrInt,
  decodeModel,
  encodeModel,
  makeGraph,
  makeModel,
  makeNode,
  makeTensor,
  makeValueInfo,
  type ModelProto,
  opsetVersion,
  TensorProto_DataType as T,
} from "@modelpress/onnx";
import { createKernels } from "@modelpress/kernels";
import { evaluateModel, loadDataset } from "@modelpress/evaluate";
import { float32Input, runModel } from "../../test/support/run_model.ts";
import { seededFloats } from "../../test/support/prng.ts";
import { quantizeModel } from "./quantize_model.ts";
import { validateRecipe } from "./recipe.ts";
import type { QuantizeRecipe } from "./recipe.ts";
import { packLowFirst } from "./_emit_matmul_nbits.ts";

const kernels = await createKernels({ backend: "js" });

Deno.test("packLowFirst() puts the first code in the low bits", () => {
  const four = new Uint8Array(2);
  packLowFirst([1, 2, 3, 15], 4, four);
  assert.deepEqual([...four], [0x21, 0xf3]);
  const two = new Uint8Array(1);
  packLowFirst([1, 2, 3, 0], 2, two);
  assert.deepEqual([...two], [0b00111001]);
  const eight = new Uint8Array(3);
  packLowFirst([7, 200], 8, eight, 1);
  assert.deepEqual([...eight], [0, 7, 200]);
});

/**
 * mm: MatMul(x, w) with w [K=80, 24] (the last block partial at block 32), tied with mm2;
 * fc: Gemm(x, g, b) transB=1, alpha 0.5, beta 2, g [12, 80], b [12]; fc0: Gemm(x, h) transB=0;
 * conv: Conv on a reshaped x (no MatMulNBits form).
 */
function model(): ModelProto {
  const f = (name: string, shape: number[]) => makeValueInfo(name, T.FLOAT, { shape });
  const graph = makeGraph("nbits", {
    nodes: [
      makeNode("MatMul", { inputs: ["x", "w"], outputs: ["y1"], name: "mm" }),
      makeNode("MatMul", { inputs: ["x", "w"], outputs: ["y2"], name: "mm2" }),
      makeNode("Gemm", {
        inputs: ["x", "g", "b"],
        outputs: ["y3"],
        name: "fc",
        attributes: { transB: attrInt(1), alpha: attrFloat(0.5), beta: attrFloat(2) },
      }),
      makeNode("Gemm", { inputs: ["x", "h"], outputs: ["y4"], name: "fc0" }),
      makeNode("Reshape", { inputs: ["x", "image_shape"], outputs: ["image"], name: "reshape" }),
      makeNode("Conv", { inputs: ["image", "k"], outputs: ["y5"], name: "conv" }),
    ],
    inputs: [f("x", [3, 80])],
    outputs: [
      f("y1", [3, 24]),
      f("y2", [3, 24]),
      f("y3", [3, 12]),
      f("y4", [3, 40]),
      f("y5", [
        3,
        4,
        1,
        1,
      ]),
    ],
    initializers: [
      makeTensor("w", seededFloats(80 * 24, 11), { dims: [80, 24] }),
      makeTensor("g", seededFloats(12 * 80, 12), { dims: [12, 80] }),
      makeTensor("b", seededFloats(12, 13), { dims: [12] }),
      makeTensor("h", seededFloats(80 * 40, 14), { dims: [80, 40] }),
      makeTensor("k", seededFloats(4 * 80, 15), { dims: [4, 80, 1, 1] }),
      makeTensor("image_shape", new BigInt64Array([3n, 80n, 1n, 1n]), { dims: [4] }),
    ],
  });
  return makeModel(graph, { opsetImports: [{ domain: "", version: 13 }], irVersion: 8 });
}

const OUTPUTS = ["y1", "y2", "y3", "y4", "y5"];

function maxRelDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) {
    m = Math.max(m, Math.abs(a[i]! - b[i]!) / Math.max(1, Math.abs(b[i]!)));
  }
  return m;
}

async function both(recipe: Omit<QuantizeRecipe, "format">, seed: number) {
  const nbits = await quantizeModel(model(), { ...recipe, format: "matmulnbits" }, { kernels });
  const dq = await quantizeModel(model(), { ...recipe, format: "dequantizelinear" }, { kernels });
  const feeds = { x: float32Input(seededFloats(3 * 80, seed, { scale: 3 }), [3, 80]) };
  const a = await runModel(encodeModel(nbits.model), feeds);
  const b = await runModel(encodeModel(dq.model), feeds);
  return { nbits, dq, a, b };
}

for (
  const [bits, signed, symmetric, blockSize] of [
    [4, true, true, 32],
    [4, true, false, 16],
    [4, false, false, 64],
    [2, true, true, 16],
    [8, true, false, 32],
    [8, false, true, 128],
  ] as const
) {
  Deno.test(
    `quantizeModel() matmulnbits ${bits}-bit ${signed ? "signed" : "unsigned"} ${
      symmetric ? "symmetric" : "asymmetric"
    } block ${blockSize}: same output as DequantizeLinear`,
    async () => {
      const recipe = {
        method: "linear",
        bits,
        signed,
        symmetric,
        granularity: "block",
        blockSize,
      } as const;
      const { nbits, dq, a, b } = await both(recipe, bits * 7 + blockSize);
      const ops = nbits.model.graph!.node.map((n) => n.opType);
      assert.equal(ops.filter((o) => o === "MatMulNBits").length, 4);
      assert.ok(!ops.includes("MatMul") && !ops.includes("Gemm"));
      assert.equal(ops.filter((o) => o === "DequantizeLinear").length, 1, "Conv keeps DQ");
      for (const name of OUTPUTS) {
        const d = maxRelDiff(a[name]!.data as Float32Array, b[name]!.data as Float32Array);
        assert.ok(d < 2e-5, `${name}: ${d}`);
      }
      // Same codes and scales: the same error and the same scale summaries per tensor.
      for (const t of nbits.report.tensors) {
        const u = dq.report.tensors.find((x) => x.name === t.name)!;
        assert.equal(t.mse, u.mse);
        assert.deepEqual(t.scale, u.scale);
        assert.deepEqual(t.zeroPoint, u.zeroPoint);
        assert.equal(t.format, t.name === "k" ? undefined : "matmulnbits");
      }
      assert.deepEqual(nbits.report.tensors.filter((t) => t.name === "w").map((t) => t.consumers), [
        [
          "mm",
          "mm2",
        ],
      ]);
      const w = nbits.report.tensors.find((t) => t.name === "w")!;
      assert.equal(w.storedAs, `uint${bits}`);
      assert.ok(
        nbits.model.opsetImport.some((o) => o.domain === "com.microsoft" && o.version === 1n),
      );
      // The DQ form of the Conv needs opset 21; the float weights are gone.
      assert.equal(opsetVersion(nbits.model, ""), 21);
      const names = nbits.model.graph!.initializer.map((t) => t.name);
      for (const gone of ["w", "g", "h", "k"]) assert.ok(!names.includes(gone), gone);
      const fc = nbits.model.graph!.node.find((n) => n.name === "fc_MatMulNBits")!;
      assert.equal(fc.domain, "com.microsoft");
      assert.deepEqual(
        fc.attribute.map((x) => [x.name, Number(x.i)]),
        [["K", 80], ["N", 12], ["bits", bits], ["block_size", blockSize]],
      );
    },
  );
}

Deno.test("quantizeModel() matmulnbits keeps the opset when no DequantizeLinear is needed", async () => {
  const m = model();
  m.graph!.node = m.graph!.node.filter((n) => n.opType !== "Conv" && n.opType !== "Reshape");
  m.graph!.output = m.graph!.output.filter((o) => o.name !== "y5");
  m.graph!.initializer = m.graph!.initializer.filter((t) =>
    t.name !== "k" && t.name !== "image_shape"
  );
  const { report } = await quantizeModel(m, {
    method: "linear",
    bits: 4,
    granularity: "block",
    format: "matmulnbits",
  }, { kernels });
  assert.deepEqual(report.opset, { from: 13, to: 13 });
  assert.ok(report.nodes.every((n) => n.status === "quantized" && n.reason === undefined));
  const out = await runModel(encodeModel(m), {
    x: float32Input(seededFloats(240, 3), [3, 80]),
  });
  assert.deepEqual(out.y3!.dims, [3, 12]);
});

Deno.test("quantizeModel() matmulnbits falls back to DequantizeLinear with a reason", async () => {
  const m = model();
  // A Gemm with transA=1 has no MatMulNBits form; its weight stays DequantizeLinear.
  const fc0 = m.graph!.node.find((n) => n.name === "fc0")!;
  fc0.attribute.push(attrInt(1));
  fc0.attribute[fc0.attribute.length - 1]!.name = "transA";
  m.graph!.input[0] = makeValueInfo("x", T.FLOAT, { shape: [3, 80] });
  const { report, model: out } = await quantizeModel(m, {
    method: "linear",
    bits: 4,
    granularity: "block",
    format: "matmulnbits",
    overrides: [{ match: { name: "mm2" }, format: "dequantizelinear" }],
  }, { kernels });
  const reason = (name: string) => report.nodes.find((n) => n.name === name)!.reason;
  assert.equal(
    reason("fc0"),
    "Cannot write node 'fc0' as MatMulNBits: Gemm with transA=1 has no MatMulNBits form; its " +
      "weight stays DequantizeLinear",
  );
  assert.match(reason("mm")!, /also read by node 'mm2', which keeps DequantizeLinear/);
  assert.equal(reason("conv"), undefined, "other operators use DequantizeLinear quietly");
  const ops = out.graph!.node.map((n) => n.opType);
  assert.equal(ops.filter((o) => o === "MatMulNBits").length, 1, "only fc");
  assert.equal(report.nodes.filter((n) => n.status === "quantized").length, 5);
});

Deno.test("validateRecipe() checks format 'matmulnbits' where a layer asks for it", () => {
  const cases: [unknown, RegExp][] = [
    [{ method: "linear", format: "nbits" }, /format must be 'matmulnbits' or 'dequantizelinear'/],
    [{ method: "linear", format: "matmulnbits" }, /needs method 'linear' with block granularity/],
    [
      { method: "linear", bits: 3, granularity: "block", format: "matmulnbits" },
      /recipe: format 'matmulnbits' needs 2, 4 or 8 bits, got 3/,
    ],
    [
      { method: "linear", bits: 4, granularity: "block", blockSize: 24, format: "matmulnbits" },
      /power-of-two blockSize >= 16, got 24/,
    ],
    [
      {
        method: "linear",
        bits: 4,
        granularity: "block",
        overrides: [{ match: { opType: "Gemm" }, blockSize: 8, format: "matmulnbits" }],
      },
      /overrides\[0\]: format 'matmulnbits' needs a power-of-two blockSize >= 16, got 8/,
    ],
  ];
  for (const [recipe, message] of cases) {
    assert.throws(() => validateRecipe(recipe), (e: Error) => {
      assert.ok(e instanceof RangeError, `${JSON.stringify(recipe)}: ${e}`);
      assert.match(e.message, message);
      return true;
    });
  }
  // A layer that does not ask for it is not checked against it (the default falls back).
  validateRecipe({
    method: "linear",
    bits: 4,
    granularity: "block",
    format: "matmulnbits",
    overrides: [{ match: { opType: "Conv" }, granularity: "channel" }],
  });
  validateRecipe({ method: "linear", bits: 3, granularity: "block", blockSize: 4 });
});

// Acceptance: on the MNIST MLP, both forms score the same on the fixed 2,000-sample split.
Deno.test("quantizeModel() mnist_mlp 4-bit: MatMulNBits and DequantizeLinear accuracy within 0.05 pp", async () => {
  const mnist = await loadDataset("mnist");
  const bytes = await Deno.readFile(new URL("../../test/fixtures/mnist_mlp.onnx", import.meta.url));
  const top1: Record<string, number> = {};
  for (const format of ["matmulnbits", "dequantizelinear"] as const) {
    const { model, report } = await quantizeModel(decodeModel(bytes), {
      method: "linear",
      bits: 4,
      granularity: "block",
      blockSize: 32,
      format,
    }, { kernels });
    assert.ok(report.nodes.every((n) => n.status === "quantized" && n.reason === undefined));
    const evaluated = await evaluateModel(encodeModel(model), { dataset: mnist, latency: false });
    top1[format] = evaluated.accuracy!.top1;
  }
  console.log(`mnist_mlp 4-bit block 32 top1: ${JSON.stringify(top1)}`);
  assert.ok(
    Math.abs(top1.matmulnbits! - top1.dequantizelinear!) * 100 <= 0.05,
    JSON.stringify(top1),
  );
});
