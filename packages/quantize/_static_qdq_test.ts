import assert from "node:assert/strict";
import { decodeModel, encodeModel, TensorProto_DataType as T } from "@modelpress/onnx";
import { createKernels } from "@modelpress/kernels";
import { evaluateModel, loadDataset } from "@modelpress/evaluate";
import { calibrate } from "./calibrate.ts";
import type { CalibrationMethod } from "./calibration_range.ts";
import { quantizeModel } from "./quantize_model.ts";

const kernels = await createKernels({ backend: "js" });
const train = await loadDataset("mnist", { split: "train" });
const test = await loadDataset("mnist");
const METHODS: readonly CalibrationMethod[] = ["minmax", "percentile", "entropy", "mse"];

async function accuracy(bytes: Uint8Array): Promise<number> {
  const report = await evaluateModel(bytes, { dataset: test, latency: false });
  return report.accuracy!.top1;
}

for (const name of ["mnist_mlp", "mnist_cnn"]) {
  Deno.test(`quantizeModel() static int8 ${name}: within 0.2 pp of fp32 for MinMax and another method`, async () => {
    const bytes = await Deno.readFile(`test/fixtures/${name}.onnx`);
    const fp32 = await accuracy(bytes);
    const stats = await calibrate(decodeModel(bytes), train, { samples: 500 });
    assert.equal(stats.samples, 500);
    const results: Record<string, number> = {};
    for (const method of METHODS) {
      const { model, report } = await quantizeModel(
        decodeModel(bytes),
        { method: "static", calibration: { method } },
        { kernels, calibration: stats },
      );
      const graph = model.graph!;
      assert.equal(report.calibration?.method, method);
      assert.ok(report.activations!.length >= 3);
      assert.equal(
        graph.node.filter((n) => n.opType === "QuantizeLinear").length,
        report.activations!.length,
      );
      for (const a of report.activations!) {
        assert.equal(a.type, "uint8");
        assert.ok(a.range.min >= a.observed.min && a.range.max <= a.observed.max);
        assert.ok(a.scale > 0);
      }
      assert.ok(report.tensors.every((t) => t.method === "static" && t.storedAs === "int8"));
      assert.ok(report.tensors.every((t) => t.granularity === "channel"));
      assert.ok(report.nodes.every((n) => n.status === "quantized"));
      for (const t of report.tensors) {
        const codes = graph.initializer.find((i) => i.name === t.quantizedName)!;
        assert.equal(codes.dataType, T.INT8);
      }
      results[method] = await accuracy(encodeModel(model));
    }
    console.log(`${name}: fp32 ${fp32}`, JSON.stringify(results));
    assert.ok(fp32 - results.minmax! <= 0.002, `minmax ${results.minmax} vs ${fp32}`);
    const others = ["percentile", "entropy", "mse"].filter((m) => fp32 - results[m]! <= 0.002);
    assert.ok(others.length >= 1, JSON.stringify(results));
  });
}

Deno.test("quantizeModel() static calibrates on a dataset itself, with int8 symmetric activations", async () => {
  const bytes = await Deno.readFile("test/fixtures/mnist_mlp.onnx");
  const seen: number[] = [];
  const { model, report } = await quantizeModel(decodeModel(bytes), {
    method: "static",
    calibration: { method: "percentile", percentile: 99.99, samples: 200, activations: "int8" },
  }, { kernels, dataset: train, onCalibrationProgress: (p) => seen.push(p.done) });
  assert.deepEqual(seen, [0, 100, 200]);
  assert.deepEqual(report.calibration, {
    method: "percentile",
    percentile: 99.99,
    bins: 2048,
    samples: 200,
    batches: 2,
    timeMs: report.calibration!.timeMs,
  });
  for (const a of report.activations!) {
    assert.equal(a.type, "int8");
    assert.equal(a.zeroPoint, 0);
  }
  const zp = model.graph!.initializer.find((t) => t.name === "input_zero_point")!;
  assert.equal(zp.dataType, T.INT8);
  assert.deepEqual(JSON.parse(JSON.stringify(report)), report);
  const fp32 = await accuracy(bytes);
  assert.ok(fp32 - (await accuracy(encodeModel(model))) <= 0.005);
});

Deno.test("quantizeModel() static needs data and refuses statistics that miss a tensor", async () => {
  const bytes = await Deno.readFile("test/fixtures/mnist_mlp.onnx");
  const recipe = { method: "static", calibration: { method: "minmax" } } as const;
  await assert.rejects(
    quantizeModel(decodeModel(bytes), recipe, { kernels }),
    /Cannot quantize model statically: options\.dataset or options\.calibration is required/,
  );
  const partial = await calibrate(decodeModel(bytes), train, { samples: 10, tensors: ["input"] });
  await assert.rejects(
    quantizeModel(decodeModel(bytes), recipe, { kernels, calibration: partial }),
    TypeError,
  );
});
