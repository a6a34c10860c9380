import assert from "node:assert/strict";
import { ruleFor } from "./rules.ts";

Deno.test("ruleFor() judges sizes and counts exactly, lower is better", () => {
  for (
    const metric of ["size_bytes", "bytes", "params", "macs", "model_bytes", "flops", "sizeBytes"]
  ) {
    assert.deepEqual(ruleFor(metric), { direction: "lower", kind: "exact" }, metric);
  }
});

Deno.test("ruleFor() judges accuracy by 0.5 pp, higher is better", () => {
  for (const metric of ["accuracy", "accuracy_top1", "accuracy.top5", "top1", "top5", "Accuracy"]) {
    assert.deepEqual(
      ruleFor(metric),
      { direction: "higher", kind: "absolute", tolerance: 0.005 },
      metric,
    );
  }
});

Deno.test("ruleFor() judges fidelity by its direction before accuracy", () => {
  assert.deepEqual(ruleFor("top1_agreement"), {
    direction: "higher",
    kind: "absolute",
    tolerance: 0.005,
  });
  assert.deepEqual(ruleFor("top1Agreement"), ruleFor("top1_agreement"));
  assert.equal(ruleFor("cosine_similarity").direction, "higher");
  assert.equal(ruleFor("sqnr_db").direction, "higher");
  for (const metric of ["max_abs_diff", "maxAbsError", "mse", "kl_divergence"]) {
    assert.deepEqual(ruleFor(metric), { direction: "lower", kind: "absolute", tolerance: 1e-6 });
  }
});

Deno.test("ruleFor() judges latency, memory and unknown metrics by samples", () => {
  const lower = { direction: "lower", kind: "samples", alpha: 0.01, minRelativeChange: 0.05 };
  for (
    const metric of ["latency", "latency_ms", "p50_ms", "meanMs", "peak_rss_bytes", "whatever"]
  ) {
    assert.deepEqual(ruleFor(metric), lower, metric);
  }
  assert.deepEqual(ruleFor("throughput"), { ...lower, direction: "higher" });
  assert.deepEqual(ruleFor("samplesPerSecond"), { ...lower, direction: "higher" });
});

Deno.test("ruleFor() returns frozen rules", () => {
  assert.ok(Object.isFrozen(ruleFor("latency_ms")));
  assert.ok(Object.isFrozen(ruleFor("size_bytes")));
});
