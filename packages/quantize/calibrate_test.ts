import assert from "node:assert/strict";
import {
  decodeModel,
  makeGraph,
  makeModel,
  makeNode,
  makeValueInfo,
  type ModelProto,
  TensorProto_DataType as T,
} from "@modelpress/onnx";
import type { Dataset } from "@modelpress/evaluate";
import { activationTensors, calibrate, type CalibrationStatistics } from "./calibrate.ts";
import { calibrationRange } from "./calibration_range.ts";

/** Acklam's inverse of the standard normal CDF (relative error below 1.2e-9). */
function normalQuantile(p: number): number {
  const a = [
    -39.69683028665376,
    220.9460984245205,
    -275.9285104469687,
    138.357751867269,
    -30.66479806614716,
    2.506628277459239,
  ];
  const b = [
    -54.47609879822406,
    161.5858368580409,
    -155.6989798598866,
    66.80131188771972,
    -13.28068155288572,
  ];
  const c = [
    -0.007784894002430293,
    -0.3223964580411365,
    -2.400758277161838,
    -2.549732539343734,
    4.374664141464968,
    2.938163982698783,
  ];
  const d = [0.007784695709041462, 0.3224671290700398, 2.445134137142996, 3.754408661907416];
  const tail = (q: number) =>
    (((((c[0]! * q + c[1]!) * q + c[2]!) * q + c[3]!) * q + c[4]!) * q + c[5]!) /
    ((((d[0]! * q + d[1]!) * q + d[2]!) * q + d[3]!) * q + 1);
  if (p < 0.02425) return tail(Math.sqrt(-2 * Math.log(p)));
  if (p > 1 - 0.02425) return -tail(Math.sqrt(-2 * Math.log(1 - p)));
  const q = p - 0.5;
  const r = q * q;
  return (((((a[0]! * r + a[1]!) * r + a[2]!) * r + a[3]!) * r + a[4]!) * r + a[5]!) * q /
    (((((b[0]! * r + b[1]!) * r + b[2]!) * r + b[3]!) * r + b[4]!) * r + 1);
}

/** n values of N(0, 1) at evenly spaced quantiles, shuffled (so batches see all of it). */
function gaussianDataset(n: number): Dataset {
  const data = new Float32Array(n);
  const stride = 7919; // prime, coprime with n below
  for (let i = 0; i < n; i++) data[(i * stride) % n] = normalQuantile((i + 0.5) / n);
  return { name: "gaussian", count: n, inputs: { x: { dtype: "float32", shape: [n, 1], data } } };
}

function identityModel(): ModelProto {
  const graph = makeGraph("identity", {
    nodes: [makeNode("Identity", { inputs: ["x"], outputs: ["y"], name: "id" })],
    inputs: [makeValueInfo("x", T.FLOAT, { shape: ["n", 1] })],
    outputs: [makeValueInfo("z", T.FLOAT, { shape: ["n", 1] })],
  });
  graph.node.push(makeNode("Identity", { inputs: ["y"], outputs: ["z"], name: "id2" }));
  return makeModel(graph, { opsetImports: [{ domain: "", version: 13 }] });
}

const N = 1_000_000;
const dataset = gaussianDataset(N);
const stats: CalibrationStatistics = await calibrate(identityModel(), dataset, {
  tensors: ["x", "y"],
  batchSize: 50_000,
});

Deno.test("calibrate() min/max are exact and graph inputs equal exposed tensors", () => {
  const data = dataset.inputs.x!.data as Float32Array;
  let min = Infinity;
  let max = -Infinity;
  for (const v of data) {
    min = Math.min(min, v);
    max = Math.max(max, v);
  }
  const y = stats.tensors.y!;
  assert.equal(y.min, min);
  assert.equal(y.max, max);
  assert.equal(y.count, N);
  assert.deepEqual(stats.tensors.x, { ...y, name: "x" });
  assert.equal(stats.samples, N);
  assert.equal(stats.batches, 20);
  assert.deepEqual(calibrationRange(y, { method: "minmax" }), { min, max });
});

Deno.test("calibrationRange() percentile lands within a bin of the Gaussian quantile", () => {
  const y = stats.tensors.y!;
  const w = y.histogram.binWidth;
  for (const p of [99, 99.9, 99.99]) {
    const analytic = normalQuantile(1 - (100 - p) / 200);
    const sym = calibrationRange(y, { method: "percentile", percentile: p, symmetric: true });
    assert.ok(Math.abs(sym.max - analytic) <= w, `${p}: ${sym.max} vs ${analytic} (bin ${w})`);
    assert.equal(sym.min, -sym.max);
    const asym = calibrationRange(y, { method: "percentile", percentile: p });
    assert.ok(Math.abs(asym.max - analytic) <= w, `${p}: ${asym.max} vs ${analytic}`);
    assert.ok(Math.abs(asym.min + analytic) <= w, `${p}: ${asym.min} vs ${-analytic}`);
  }
  assert.throws(
    () => calibrationRange(y, { method: "percentile", percentile: 10 }),
    /percentile must be in 50\.\.100, got 10/,
  );
});

Deno.test("calibrationRange() entropy and MSE clip the Gaussian below its max", () => {
  const y = stats.tensors.y!;
  const ranges: Record<string, { min: number; max: number }> = {};
  for (const method of ["entropy", "mse"] as const) {
    for (const symmetric of [false, true]) {
      const r = calibrationRange(y, { method, symmetric });
      ranges[`${method} ${symmetric ? "int8" : "uint8"}`] = r;
      assert.ok(r.max < y.max && r.max > 2, `${method} ${symmetric}: ${r.max} (max ${y.max})`);
      assert.ok(r.min > y.min && r.min < -2, `${method} ${symmetric}: ${r.min} (min ${y.min})`);
    }
    // Fewer bits clip harder.
    const four = calibrationRange(y, { method, bits: 4, symmetric: true });
    assert.ok(four.max < ranges[`${method} int8`]!.max, `${method} 4-bit: ${four.max}`);
  }
});

Deno.test("calibrate() streaming statistics equal one batch of everything", async () => {
  const once = await calibrate(identityModel(), dataset, { tensors: ["y"], batchSize: N });
  assert.equal(once.batches, 1);
  assert.deepEqual(once.tensors.y, stats.tensors.y);
});

Deno.test("calibrate() memory does not grow with the calibration set", async () => {
  const size = (s: CalibrationStatistics) =>
    Object.values(s.tensors).reduce((n, t) => n + t.histogram.counts.byteLength, 0);
  const small = await calibrate(identityModel(), dataset, {
    tensors: ["y"],
    samples: 500,
    batchSize: 100,
  });
  assert.equal(small.batches, 5);
  assert.equal(size(small), size(stats) / 2); // one tensor against two
  assert.equal(size(stats), 2 * 2048 * 8);
});

Deno.test("calibrate() reports progress, stops on abort, and names bad tensors", async () => {
  const seen: number[] = [];
  const controller = new AbortController();
  await assert.rejects(
    calibrate(identityModel(), dataset, {
      tensors: ["y"],
      samples: 1000,
      batchSize: 100,
      signal: controller.signal,
      onProgress: ({ done, total }) => {
        assert.equal(total, 1000);
        seen.push(done);
        if (done === 300) controller.abort();
      },
    }),
    (e: Error) => e.name === "AbortError",
  );
  assert.deepEqual(seen, [0, 100, 200, 300]);
  await assert.rejects(
    calibrate(identityModel(), dataset, { tensors: ["nope"] }),
    /Cannot calibrate tensor 'nope': no node of the main graph makes it/,
  );
  await assert.rejects(
    calibrate(identityModel(), dataset, { bins: 1 }),
    /bins must be an integer/,
  );
});

Deno.test("activationTensors() finds the activation inputs of the MLP", async () => {
  const model = decodeModel(await Deno.readFile("test/fixtures/mnist_mlp.onnx"));
  const names = activationTensors(model);
  assert.equal(names.length, 3);
  assert.equal(names[0], "input");
});
