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
  tensorData,
  TensorProto_DataType as T,
  walkGraphs,
} from "@modelpress/onnx";
import { createKernels } from "@modelpress/kernels";
import { evaluateModel, loadDataset, Tensor } from "@modelpress/evaluate";
import { readSilero, SILERO_VERSIONS, sileroFeeds } from "../../test/support/silero.ts";
import { float32Input, runModel } from "../../test/support/run_model.ts";
import { seededFloats } from "../../test/support/prng.ts";
import { quantizeModel } from "./quantize_model.ts";
import type { QuantizeRecipe } from "./recipe.ts";

const kernels = await createKernels({ backend: "js" });

/**
 * y1 = MatMul(x, w) and y2 = MatMul(x, w) (w tied), y3 = MatMul(x, v) where v is a graph input
 * (not a constant), y4 = Gemm(x, g, b) with transB=1, alpha 0.5 and beta 2.
 */
function smallModel(opset: number): ModelProto {
  const w = makeTensor("w", seededFloats(8 * 16, 1), { dims: [8, 16] });
  const g = makeTensor("g", seededFloats(4 * 8, 2), { dims: [4, 8] });
  const b = makeTensor("b", seededFloats(4, 3), { dims: [4] });
  const f = (name: string, shape: number[]) => makeValueInfo(name, T.FLOAT, { shape });
  const graph = makeGraph("small", {
    nodes: [
      makeNode("MatMul", { inputs: ["x", "w"], outputs: ["y1"], name: "mm1" }),
      makeNode("MatMul", { inputs: ["x", "w"], outputs: ["y2"], name: "mm2" }),
      makeNode("MatMul", { inputs: ["x", "v"], outputs: ["y3"], name: "mm3" }),
      makeNode("Gemm", {
        inputs: ["x", "g", "b"],
        outputs: ["y4"],
        name: "fc",
        attributes: { transB: attrInt(1), alpha: attrFloat(0.5), beta: attrFloat(2) },
      }),
    ],
    inputs: [f("x", [2, 8]), f("v", [8, 3])],
    outputs: [f("y1", [2, 16]), f("y2", [2, 16]), f("y3", [2, 3]), f("y4", [2, 4])],
    initializers: [w, g, b],
  });
  return makeModel(graph, { opsetImports: [{ domain: "", version: opset }], irVersion: 8 });
}

const feeds = {
  x: float32Input(seededFloats(16, 5), [2, 8]),
  v: float32Input(seededFloats(24, 6), [8, 3]),
};

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
}

async function compare(recipe: QuantizeRecipe, opset: number, tolerance: number) {
  const reference = await runModel(smallModel(opset), feeds);
  const { model, report } = await quantizeModel(smallModel(opset), recipe, { kernels });
  const outputs = await runModel(encodeModel(model), feeds);
  for (const name of ["y1", "y2", "y3", "y4"]) {
    const d = maxAbsDiff(
      reference[name]!.data as Float32Array,
      outputs[name]!.data as Float32Array,
    );
    assert.ok(d <= tolerance, `${JSON.stringify(recipe)} ${name}: ${d}`);
  }
  return { model, report };
}

Deno.test("quantizeModel() linear: tied weights once, non-constant weights reported, runs", async () => {
  const { model, report } = await compare({ method: "linear" }, 13, 0.05);
  const graph = model.graph!;
  assert.equal(graph.node.filter((n) => n.opType === "DequantizeLinear").length, 2);
  const tied = report.tensors.filter((t) => t.name === "w");
  assert.equal(tied.length, 1);
  assert.deepEqual(tied[0]!.consumers, ["mm1", "mm2"]);
  assert.equal(tied[0]!.storedAs, "int8");
  assert.equal(tied[0]!.axis, 1);
  assert.equal(
    graph.node.find((n) => n.name === "mm1")!.input[1],
    graph.node.find((n) => n.name === "mm2")!.input[1],
  );
  assert.ok(
    !graph.initializer.some((t) => t.name === "w" || t.name === "g"),
    "float weights removed",
  );
  const mm3 = report.nodes.find((n) => n.name === "mm3")!;
  assert.equal(mm3.status, "skipped");
  assert.equal(mm3.reason, "Cannot quantize node 'mm3': weight 'v' is not a constant");
  assert.equal(report.backend, "js");
  assert.deepEqual(report.opset, { from: 13, to: 13 });
  assert.ok(report.size.after < report.size.before);
  assert.ok(report.tensors.every((t) => t.sqnrDb! > 30 && t.mse > 0));
  // The report is JSON as it is.
  assert.deepEqual(JSON.parse(JSON.stringify(report)), report);
});

Deno.test("quantizeModel() 4-bit: int8 containers with a narrowed range below opset 21", async () => {
  const { model, report } = await compare({ method: "linear", bits: 4 }, 13, 0.5);
  const q = model.graph!.initializer.find((t) => t.name === report.tensors[0]!.quantizedName)!;
  assert.equal(q.dataType, T.INT8);
  const codes = tensorData(q) as Int8Array;
  assert.ok(codes.every((c) => c >= -8 && c <= 7));
  assert.ok(codes.some((c) => c === 7 || c === -7), "the grid is used to its ends");
  assert.equal(report.opset.to, 13);
});

Deno.test("quantizeModel() 4-bit blocked raises the opset to 21 and stores INT4", async () => {
  const { model, report } = await compare(
    { method: "linear", bits: 4, granularity: "block", blockSize: 4 },
    13,
    0.5,
  );
  assert.deepEqual(report.opset, { from: 13, to: 21 });
  assert.equal(opsetVersion(model, ""), 21);
  const t = report.tensors.find((r) => r.name === "w")!;
  assert.equal(t.storedAs, "int4");
  assert.equal(t.granularity, "block");
  assert.equal(t.axis, 0);
  assert.deepEqual(t.scale.count, 2 * 16);
  const dq = model.graph!.node.find((n) => n.opType === "DequantizeLinear")!;
  assert.equal(dq.attribute.find((a) => a.name === "block_size")?.i, 4n);
});

Deno.test("quantizeModel() 16-bit and unsigned asymmetric forms run", async () => {
  const r16 = await compare({ method: "linear", bits: 16, granularity: "tensor" }, 21, 1e-3);
  assert.equal(r16.report.tensors[0]!.storedAs, "int16");
  const u = await compare({ method: "linear", signed: false, symmetric: false }, 13, 0.05);
  assert.equal(u.report.tensors[0]!.storedAs, "uint8");
  assert.ok(u.report.tensors[0]!.zeroPoint.max > 0);
});

Deno.test("quantizeModel() overrides skip by name and change bits by op type", async () => {
  const { report } = await compare(
    {
      method: "linear",
      overrides: [{ match: { pattern: "^mm" }, skip: true }, {
        match: { opType: "Gemm" },
        bits: 6,
      }],
    },
    13,
    0.1,
  );
  assert.equal(
    report.nodes.find((n) => n.name === "mm1")!.reason,
    "node 'mm1' is skipped by the recipe",
  );
  assert.deepEqual(report.tensors.map((t) => [t.name, t.bits]), [["g", 6]]);
});

Deno.test("quantizeModel() dynamic: DynamicQuantizeLinear once per activation, Gemm transB/alpha/beta", async () => {
  const { model, report } = await compare({ method: "dynamic" }, 13, 0.05);
  const ops = model.graph!.node.map((n) => n.opType);
  assert.equal(ops.filter((o) => o === "DynamicQuantizeLinear").length, 1);
  assert.equal(ops.filter((o) => o === "MatMulInteger").length, 3);
  assert.ok(!ops.includes("Gemm"));
  const g = report.tensors.find((t) => t.name === "g")!;
  assert.deepEqual(g.shape, [8, 4], "stored transposed for MatMulInteger");
  assert.equal(g.storedAs, "int8");
  assert.equal(report.tensors.filter((t) => t.name === "w").length, 1);
});

Deno.test("quantizeModel() handles weights inside subgraphs and from outer scopes", async () => {
  const w = makeTensor("w", seededFloats(8 * 4, 7), { dims: [8, 4] });
  const branch = (name: string, weight: string) =>
    makeGraph(name, {
      nodes: [
        makeNode("MatMul", { inputs: ["x", weight], outputs: [`${name}_y`], name: `${name}_mm` }),
      ],
      outputs: [makeValueInfo(`${name}_y`, T.FLOAT, { shape: [2, 4] })],
      initializers: weight === "u"
        ? [makeTensor("u", seededFloats(8 * 4, 8), { dims: [8, 4] })]
        : [],
    });
  const graph = makeGraph("outer", {
    nodes: [
      makeNode("If", {
        inputs: ["c"],
        outputs: ["y"],
        name: "if",
        attributes: { then_branch: branch("then", "w"), else_branch: branch("else", "u") },
      }),
    ],
    inputs: [
      makeValueInfo("x", T.FLOAT, { shape: [2, 8] }),
      makeValueInfo("c", T.BOOL, { shape: [] }),
    ],
    outputs: [makeValueInfo("y", T.FLOAT, { shape: [2, 4] })],
    initializers: [w],
  });
  const model = makeModel(graph, { opsetImports: [{ domain: "", version: 13 }], irVersion: 8 });
  const bytes = encodeModel(model);
  const { report } = await quantizeModel(model, { method: "linear" }, { kernels });
  assert.deepEqual(report.tensors.map((t) => [t.name, t.graph]), [["w", "main"], [
    "u",
    "main/if.else_branch",
  ]]);
  const paths = [...walkGraphs(model)].map((e) => [e.path, e.nodes.map((n) => n.opType).join()]);
  assert.deepEqual(paths, [
    ["main", "DequantizeLinear,If"],
    ["main/if.then_branch", "MatMul"],
    ["main/if.else_branch", "DequantizeLinear,MatMul"],
  ]);
  for (const c of [true, false]) {
    const inputs = {
      x: feeds.x,
      c: new Tensor("bool", [c], []),
    };
    const ref = await runModel(decodeModel(bytes), inputs);
    const out = await runModel(model, inputs);
    assert.ok(maxAbsDiff(ref.y!.data as Float32Array, out.y!.data as Float32Array) < 0.05);
  }
});

Deno.test("quantizeModel() reports progress from 0, then once per tensor (linear) or node (dynamic)", async () => {
  for (const [method, expected] of [["linear", 2], ["dynamic", 3]] as const) {
    // linear: w (tied, once) and g; dynamic: mm1, mm2 and fc (mm3's weight is not a constant).
    const calls: [number, number][] = [];
    await quantizeModel(smallModel(13), { method }, {
      kernels,
      onProgress: (done, total) => calls.push([done, total]),
    });
    assert.deepEqual(calls, Array.from({ length: expected + 1 }, (_, i) => [i, expected]), method);
  }
});

// Acceptance: MNIST fixtures, measured in onnxruntime-web through @modelpress/evaluate on the
// fixed 2,000-sample test split.
const mnist = await loadDataset("mnist");
const baselines = new Map<string, number>();

async function mnistAccuracy(file: string, recipe: QuantizeRecipe | undefined) {
  const bytes = await Deno.readFile(new URL(`../../test/fixtures/${file}.onnx`, import.meta.url));
  if (!baselines.has(file)) {
    const base = await evaluateModel(bytes, { dataset: mnist, latency: false });
    baselines.set(file, base.accuracy!.top1);
  }
  if (recipe === undefined) return { drop: 0, report: undefined, size: undefined };
  const { model, report } = await quantizeModel(decodeModel(bytes), recipe, { kernels });
  const out = encodeModel(model);
  const evaluated = await evaluateModel(out, { dataset: mnist, latency: false });
  const drop = (baselines.get(file)! - evaluated.accuracy!.top1) * 100;
  console.log(
    `${file} ${JSON.stringify(recipe)}: top1 ${evaluated.accuracy!.top1} (fp32 ${
      baselines.get(file)
    }, drop ${drop.toFixed(2)} pp), ${out.length} of ${bytes.length} bytes (${
      (100 * out.length / bytes.length).toFixed(1)
    }%)`,
  );
  return { drop, report, size: evaluated.size };
}

for (const file of ["mnist_mlp", "mnist_cnn"]) {
  Deno.test(`quantizeModel() ${file}: int8 per-channel QDQ and dynamic lose <= 0.2 pp`, async () => {
    for (const method of ["linear", "dynamic"] as const) {
      const { drop, report } = await mnistAccuracy(file, { method, granularity: "channel" });
      assert.ok(drop <= 0.2, `${method}: drop ${drop} pp`);
      assert.ok(report!.nodes.every((n) => n.status === "quantized"));
    }
  });

  Deno.test(`quantizeModel() ${file}: 4-bit blocked weight-only loses <= 1 pp`, async () => {
    const { drop, report } = await mnistAccuracy(file, {
      method: "linear",
      bits: 4,
      granularity: "block",
      blockSize: 32,
    });
    assert.ok(drop <= 1, `drop ${drop} pp`);
    // MatMul/Gemm weights default to MatMulNBits (packed uint4); Conv weights stay INT4 + DQ.
    assert.ok(
      report!.tensors.every((t) => t.storedAs === (t.format === "matmulnbits" ? "uint4" : "int4")),
    );
  });
}

Deno.test("quantizeModel() mnist_mlp int8 file is <= 26% of fp32, weights stored as int8", async () => {
  const { report, size } = await mnistAccuracy("mnist_mlp", { method: "linear" });
  assert.ok(report!.size.ratio <= 0.26, `ratio ${report!.size.ratio}`);
  assert.ok(size!.fileBytes / report!.size.before <= 0.26);
  const floatWeights = size!.tensors.filter((t) => t.dataType === "float32" && t.elements > 1000);
  assert.deepEqual(floatWeights, [], "no large float tensor left");
  assert.ok((size!.bytesByType.int8 ?? 0) > 200_000);
});

// Acceptance: the silero VAD models, whose weights are in subgraphs (legacy: outer-scope
// initializers; v5/v6: Constant nodes inside If branches).
function cosine(a: readonly number[], b: readonly number[]): number {
  let dot = 0;
  let aa = 0;
  let bb = 0;
  for (let i = 0; i < a.length; i++) {
    dot += a[i]! * b[i]!;
    aa += a[i]! * a[i]!;
    bb += b[i]! * b[i]!;
  }
  return dot / Math.sqrt(aa * bb);
}

for (const version of SILERO_VERSIONS) {
  Deno.test(`quantizeModel() silero ${version}: dynamic and QDQ int8 run with cosine >= 0.99`, async () => {
    const feedsOf = () => sileroFeeds(version);
    const reference = await runModel(await readSilero(version), feedsOf());
    const names = Object.keys(reference).sort();
    const flat = (outs: Record<string, { data: unknown }>) =>
      names.flatMap((n) => Array.from(outs[n]!.data as Float32Array));
    for (const method of ["dynamic", "linear"] as const) {
      const { model, report } = await quantizeModel(await readSilero(version), { method }, {
        kernels,
      });
      const outputs = await runModel(encodeModel(model), feedsOf());
      const c = cosine(flat(reference), flat(outputs));
      console.log(
        `silero ${version} ${method}: cosine ${c.toFixed(5)} over ${names.join(", ")}; ` +
          `output ${reference.output!.data[0]} -> ${outputs.output!.data[0]}; ` +
          `${report.nodes.filter((n) => n.status === "quantized").length} nodes quantized, ` +
          `${report.nodes.filter((n) => n.status === "skipped").length} skipped; size ratio ${
            report.size.ratio.toFixed(3)
          }`,
      );
      assert.ok(c >= 0.99, `${method}: cosine ${c}`);
      assert.ok(report.size.ratio < 0.75);
      for (const n of report.nodes) {
        if (n.status === "skipped") assert.match(n.reason!, /^Cannot quantize node '/);
      }
    }
  });
}
