import assert from "node:assert/strict";
import { AccuracyMeter } from "./accuracy.ts";

Deno.test("AccuracyMeter counts top-1 and top-k across batches", () => {
  const meter = new AccuracyMeter({ topK: [2, 3], output: "logits" });
  // Sample 0: label 1 is top-1. Sample 1: label 0 ranks 2nd. Sample 2: label 2 ranks 3rd.
  meter.add(new Float32Array([0.1, 0.7, 0.2, 0.5, 0.6, 0.1]), [1, 0]);
  meter.add([3, 2, 1], [2]);
  assert.deepEqual(meter.report(), {
    output: "logits",
    count: 3,
    correct: 1,
    top1: 1 / 3,
    topK: [{ k: 2, correct: 2, accuracy: 2 / 3 }, { k: 3, correct: 3, accuracy: 1 }],
  });
});

Deno.test("AccuracyMeter breaks ties towards the first maximum, as argmax does", () => {
  const meter = new AccuracyMeter({ topK: [1] });
  meter.add([5, 5, 1, 5, 5, 1], [0, 1]);
  const report = meter.report();
  assert.equal(report.correct, 1);
  assert.equal(report.topK[0]?.correct, 1);
});

Deno.test("AccuracyMeter rejects bad ks, labels and shapes with RangeError", () => {
  assert.throws(() => new AccuracyMeter({ topK: [0] }), RangeError);
  const meter = new AccuracyMeter();
  assert.throws(() => meter.add([1, 2, 3], [0, 1]), /do not split into 2 rows/);
  assert.throws(
    () => meter.add([1, 2], [2]),
    /label 2 of sample 0 is not a class index of 2 scores/,
  );
  assert.deepEqual(meter.report().top1, 0);
});
