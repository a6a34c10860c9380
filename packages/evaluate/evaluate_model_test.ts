import assert from "node:assert/strict";
import {
  decodeModel,
  encodeModel,
  mapModelTensors,
  tensorData,
  TensorProto_DataType,
  withTensorData,
} from "@modelpress/onnx";
import { loadDataset } from "./dataset.ts";
import { evaluateModel, type EvaluationProgress } from "./evaluate_model.ts";
import { mulberry32 } from "../../test/support/prng.ts";

const FIXTURES = new URL("../../test/fixtures/", import.meta.url);
const recorded = JSON.parse(await Deno.readTextFile(new URL("fixtures.json", FIXTURES))) as {
  models: Record<
    string,
    { testCorrect: number; testCount: number; testAccuracy: number; sha256: string }
  >;
};

function fixture(name: string): Promise<Uint8Array> {
  return Deno.readFile(new URL(`${name}.onnx`, FIXTURES));
}

/** The model with uniform noise of ±scale added to every float initializer. */
function perturbed(bytes: Uint8Array, scale: number): Uint8Array {
  const rand = mulberry32(11);
  const model = mapModelTensors(decodeModel(bytes), (t, site) => {
    if (site.kind !== "initializer" || t.dataType !== TensorProto_DataType.FLOAT) return t;
    const values = tensorData(t, { copy: true }) as Float32Array;
    for (let i = 0; i < values.length; i++) values[i]! += (rand() * 2 - 1) * scale;
    return withTensorData(t, values);
  });
  return encodeModel(model);
}

for (const name of ["mnist_mlp", "mnist_cnn"]) {
  Deno.test(`evaluateModel() gives ${name}'s recorded test accuracy on the built-in mnist split`, async () => {
    const model = await fixture(name);
    const report = await evaluateModel(model, {
      dataset: await loadDataset("mnist"),
      latency: false,
    });
    const expected = recorded.models[name]!;
    assert.equal(report.accuracy?.count, expected.testCount);
    assert.equal(report.accuracy?.correct, expected.testCorrect);
    assert.equal(report.accuracy?.top1, expected.testAccuracy);
    assert.equal(report.model.sha256, expected.sha256);
    assert.equal(report.dataset?.evaluated, 2000);
    assert.equal(report.latency, undefined);
    assert.equal(report.fidelity, undefined);
  });
}

Deno.test("evaluateModel() finds a model identical to itself: agreement 1, cosine 1, MSE 0, SQNR Infinity", async () => {
  const model = await fixture("mnist_cnn");
  const report = await evaluateModel(model, {
    dataset: await loadDataset("mnist"),
    reference: model,
    limit: 500,
    latency: false,
  });
  const f = report.fidelity?.logits;
  assert.ok(f !== undefined);
  assert.equal(f.samples, 500);
  assert.equal(f.top1Agreement, 1);
  assert.equal(f.cosineSimilarity, 1);
  assert.equal(f.mse, 0);
  assert.equal(f.maxAbsError, 0);
  assert.equal(f.sqnrDb, Infinity);
  assert.equal(f.klDivergence, 0);
  assert.equal(report.reference?.sha256, report.model.sha256);
});

Deno.test("evaluateModel() finds a perturbed copy less faithful, with finite SQNR", async () => {
  const model = await fixture("mnist_mlp");
  const noisy = perturbed(model, 0.02);
  const report = await evaluateModel(noisy, {
    dataset: await loadDataset("mnist"),
    reference: model,
    latency: false,
  });
  const f = report.fidelity?.logits;
  assert.ok(f !== undefined);
  assert.ok(f.top1Agreement < 1 || f.cosineSimilarity < 1);
  assert.ok(f.cosineSimilarity < 1 && f.cosineSimilarity > 0.9, String(f.cosineSimilarity));
  assert.ok(Number.isFinite(f.sqnrDb) && f.sqnrDb > 0, String(f.sqnrDb));
  assert.ok(f.mse > 0 && f.maxAbsError > 0 && f.klDivergence > 0);
});

Deno.test("evaluateModel() reports progress per phase, latency samples per run, size and MACs", async () => {
  const progress: EvaluationProgress[] = [];
  const report = await evaluateModel(await fixture("mnist_mlp"), {
    dataset: await loadDataset("mnist"),
    batchSize: 300,
    limit: 1000,
    topK: [2, 3],
    latency: { warmupRuns: 1, runs: 9, batchSize: 8 },
    onProgress: (p) => progress.push(p),
  });
  assert.deepEqual([...new Set(progress.map((p) => p.phase))], ["accuracy", "latency", "size"]);
  const accuracy = progress.filter((p) => p.phase === "accuracy");
  assert.deepEqual(accuracy.map((p) => p.done), [0, 300, 600, 900, 1000]);
  assert.ok(accuracy.every((p) => p.total === 1000));
  assert.ok(accuracy.at(-1)!.samplesPerSecond > 0);
  assert.deepEqual(progress.filter((p) => p.phase === "latency").map((p) => p.done), [
    0,
    1,
    2,
    3,
    4,
    5,
    6,
    7,
    8,
    9,
  ]);
  assert.equal(report.accuracy?.count, 1000);
  assert.deepEqual(report.accuracy?.topK.map((t) => t.k), [2, 3]);
  assert.equal(report.latency?.samplesMs.length, 9);
  assert.equal(report.latency?.batchSize, 8);
  assert.equal(report.size.macs?.total, 784 * 256 + 256 * 128 + 128 * 10);
  assert.deepEqual(report.model.inputs, [{ name: "input", type: "float32", shape: ["N", 784] }]);
  assert.equal(report.backend.runtime, "onnxruntime-web");
  assert.ok(report.timings.totalMs >= report.timings.sizeMs);
  // Plain data: it survives a JSON round trip.
  assert.deepEqual(JSON.parse(JSON.stringify(report)), report);
});

Deno.test("evaluateModel() times zero inputs without a dataset, and stops near a latency budget", async () => {
  const t0 = performance.now();
  const report = await evaluateModel(await fixture("mnist_cnn"), {
    latency: { warmupRuns: 1, budgetMs: 200, batchSize: 4 },
  });
  const elapsed = performance.now() - t0;
  assert.equal(report.dataset, undefined);
  assert.equal(report.accuracy, undefined);
  assert.ok(report.latency !== undefined);
  assert.equal(report.latency.budgetMs, 200);
  assert.ok(report.latency.samplesMs.length > 1);
  assert.equal(report.latency.runs, report.latency.samplesMs.length);
  assert.ok(
    report.timings.latencyMs! >= 200 &&
      report.timings.latencyMs! < 200 + 10 * report.latency.maxMs + 300,
  );
  assert.ok(elapsed < 5000);
  assert.equal(report.size.macs?.total, 8 * 784 * 9 + 16 * 784 * 72 + 3136 * 10);
});

Deno.test("evaluateModel() reshapes [N, 784] images to the CNN's [N, 1, 28, 28] and applies scaling", async () => {
  const model = await fixture("mnist_cnn");
  const identity = await evaluateModel(model, {
    dataset: await loadDataset("mnist", { preprocess: { multiply: 1, offset: 0 } }),
    latency: false,
  });
  assert.equal(identity.accuracy?.correct, recorded.models.mnist_cnn!.testCorrect);
  assert.equal(identity.size.macs?.inputShapes.input?.join(), "1,1,28,28");
  // Every image scaled to a constant: one prediction for all, right for one digit in ten.
  const blank = await evaluateModel(model, {
    dataset: await loadDataset("mnist", { preprocess: { multiply: 0, offset: 0.5 } }),
    latency: false,
  });
  assert.ok(blank.accuracy!.top1 <= 0.11, String(blank.accuracy!.top1));
});

Deno.test("evaluateModel() cancelled mid-run rejects with the signal's reason and releases its sessions", async () => {
  const model = await fixture("mnist_mlp");
  const dataset = await loadDataset("mnist");
  const controller = new AbortController();
  let batches = 0;
  await assert.rejects(
    evaluateModel(model, {
      dataset,
      reference: model,
      batchSize: 100,
      signal: controller.signal,
      onProgress: (p) => {
        if (p.phase === "fidelity" && p.done > 0 && ++batches === 2) controller.abort();
      },
    }),
    (e: unknown) => e instanceof DOMException && e.name === "AbortError",
  );
  assert.equal(batches, 2);
  const reason = new Error("stop");
  const late = new AbortController();
  await assert.rejects(
    evaluateModel(model, {
      latency: { runs: 100_000 },
      signal: late.signal,
      onProgress: (p) => p.phase === "latency" && p.done === 5 && late.abort(reason),
    }),
    (e: unknown) => e === reason,
  );
  const early = new AbortController();
  early.abort();
  await assert.rejects(evaluateModel(model, { signal: early.signal }), { name: "AbortError" });
  // The runtime is idle again: a new evaluation runs.
  const again = await evaluateModel(model, { dataset, limit: 100, latency: false });
  assert.equal(again.accuracy?.count, 100);
});

Deno.test("evaluateModel() names what is wrong with options and datasets", async () => {
  const model = await fixture("mnist_mlp");
  const mnist = await loadDataset("mnist");
  const tiny = await loadDataset({ x: [[1, 2, 3]] });
  const pair = await loadDataset({ a: [[1]], b: [[2]] });
  const cases: [() => Promise<unknown>, ErrorConstructor | TypeErrorConstructor, RegExp][] = [
    [
      () => evaluateModel(model, { batchSize: 0 }),
      RangeError,
      /batchSize must be a positive integer/,
    ],
    [() => evaluateModel(model, { limit: -1 }), RangeError, /limit/],
    [() => evaluateModel(model, { reference: model }), TypeError, /reference needs a dataset/],
    [
      () => evaluateModel(model, { dataset: tiny }),
      TypeError,
      /input 'input' takes samples of \[784\] \(784 values\), dataset array 'x' has samples of \[3\]/,
    ],
    [
      () => evaluateModel(model, { dataset: pair }),
      TypeError,
      /no array for model input 'input' \(dataset inputs: a, b\)/,
    ],
    [
      () => evaluateModel(model, { dataset: mnist, output: "probs" }),
      TypeError,
      /output 'probs' is not an output of the model/,
    ],
  ];
  for (const [run, Class, pattern] of cases) {
    await assert.rejects(run(), (e: unknown) => {
      assert.ok(e instanceof Class, `${e} should be a ${Class.name}`);
      assert.match((e as Error).message, /^Cannot evaluate model: /);
      assert.match((e as Error).message, pattern);
      return true;
    });
  }
});
