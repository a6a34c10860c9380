import assert from "node:assert/strict";
import { mulberry32 } from "../../../test/support/prng.ts";
import { checkRegression, type HistoryPoint } from "./check_regression.ts";
import { type MetricRule, ruleFor } from "./rules.ts";

function point(runId: string, day: number, value: number, samples?: number[]): HistoryPoint {
  const time = new Date(Date.UTC(2026, 0, day));
  return samples === undefined ? { runId, time, value } : { runId, time, value, samples };
}

/** Log-normal latency samples around `median` ms with log-sd `spread`. */
function latencies(seed: number, count: number, median: number, spread = 0.05): number[] {
  const rand = mulberry32(seed);
  return Array.from({ length: count }, () => {
    const z = Math.sqrt(-2 * Math.log(1 - rand())) * Math.cos(2 * Math.PI * rand());
    return median * Math.exp(spread * z);
  });
}

function latencyRun(runId: string, day: number, median: number, seed: number): HistoryPoint {
  const samples = latencies(seed, 100, median);
  return point(runId, day, median, samples);
}

const LATENCY = ruleFor("latency_ms");

Deno.test("checkRegression() flags any growth beyond the latest baseline size", () => {
  const rule = ruleFor("size_bytes");
  // The latest point by time (r2, 1000 bytes), not the last one given (r1).
  const baseline = [point("r2", 2, 1000), point("r1", 1, 900)];
  const finding = checkRegression(point("r3", 3, 1001), baseline, rule, "size_bytes");
  assert.ok(finding !== null);
  assert.equal(finding.test, "exact");
  assert.deepEqual(finding.baselineRunIds, ["r2"]);
  assert.equal(finding.baselineValue, 1000);
  assert.equal(finding.change, 1);
  assert.equal(finding.relativeChange, 0.001);
  assert.equal(finding.pValue, null);
  assert.match(finding.message, /size_bytes regressed in run 'r3': 1001 vs 1000 in run 'r2'/);
  assert.equal(checkRegression(point("r3", 3, 1000), baseline, rule, "size_bytes"), null);
  assert.equal(checkRegression(point("r3", 3, 950), baseline, rule, "size_bytes"), null);
  // Higher is better, exactly: any drop.
  const higher: MetricRule = { direction: "higher", kind: "exact" };
  assert.equal(checkRegression(point("r3", 3, 999), baseline, higher, "m")?.change, -1);
});

Deno.test("checkRegression() flags accuracy more than 0.5 pp below the baseline mean", () => {
  const rule = ruleFor("accuracy");
  const baseline = [point("a", 1, 0.91), point("b", 2, 0.92), point("c", 3, 0.93)];
  // Mean 0.92: 0.915 is exactly 0.5 pp below (not more), 0.9149 is 0.51 pp below.
  assert.equal(checkRegression(point("d", 4, 0.915), baseline, rule, "accuracy"), null);
  assert.equal(checkRegression(point("d", 4, 0.99), baseline, rule, "accuracy"), null);
  const finding = checkRegression(point("d", 4, 0.9149), baseline, rule, "accuracy");
  assert.ok(finding !== null);
  assert.equal(finding.test, "tolerance");
  assert.deepEqual(finding.baselineRunIds, ["a", "b", "c"]);
  assert.ok(Math.abs(finding.baselineValue - 0.92) < 1e-15);
  assert.ok(Math.abs(finding.change + 0.0051) < 1e-12);
  assert.equal(finding.pValue, null);
  // Lower is better with a tolerance: an error metric.
  const error = ruleFor("max_abs_diff");
  const errors = [point("a", 1, 0.01), point("b", 2, 0.01)];
  assert.equal(checkRegression(point("c", 3, 0.0100005), errors, error, "max_abs_diff"), null);
  assert.equal(
    checkRegression(point("c", 3, 0.0101), errors, error, "max_abs_diff")?.test,
    "tolerance",
  );
});

Deno.test("checkRegression() reports the exact Mann-Whitney p-value of separated samples", () => {
  // Candidate [11..15] above all ten pooled baseline samples [1..10]: U = 50, the one most
  // extreme arrangement of C(15, 5) = 3003, so p = 1/3003; medians 13 vs 5.5.
  const baseline = [point("b1", 1, 3, [1, 2, 3, 4, 5]), point("b2", 2, 8, [6, 7, 8, 9, 10])];
  const candidate = point("c", 3, 13, [11, 12, 13, 14, 15]);
  const finding = checkRegression(candidate, baseline, LATENCY, "latency_ms");
  assert.ok(finding !== null);
  assert.equal(finding.test, "mann-whitney");
  assert.ok(Math.abs(finding.pValue! - 1 / 3003) < 1e-15);
  assert.equal(finding.value, 13);
  assert.equal(finding.baselineValue, 5.5);
  assert.equal(finding.change, 7.5);
  assert.deepEqual(finding.baselineRunIds, ["b1", "b2"]);
  assert.match(finding.message, /Mann-Whitney U p=0\.000333 \(exact\), Welch t on log p=/);
});

Deno.test("checkRegression() flags a 10% latency shift and not 3%, nor an improvement", () => {
  const baseline = [1, 2, 3, 4, 5].map((i) => latencyRun(`b${i}`, i, 10, i));
  const slower = checkRegression(latencyRun("c", 6, 11, 99), baseline, LATENCY, "latency_ms");
  assert.ok(slower !== null);
  assert.equal(slower.test, "mann-whitney");
  assert.ok(slower.pValue! < 1e-20, `p ${slower.pValue}`);
  assert.ok(slower.relativeChange > 0.07 && slower.relativeChange < 0.13);
  // 3% slower is significant with 600 samples but below the 5% minimum change.
  assert.equal(
    checkRegression(latencyRun("c", 6, 10.3, 99), baseline, LATENCY, "latency_ms"),
    null,
  );
  const strict = { ...LATENCY, minRelativeChange: 0.01 };
  assert.ok(checkRegression(latencyRun("c", 6, 10.3, 99), baseline, strict, "latency_ms") !== null);
  assert.equal(checkRegression(latencyRun("c", 6, 9, 99), baseline, LATENCY, "latency_ms"), null);
  // Higher is better (throughput): a 10% drop is the regression, a 10% rise is not.
  const throughput = ruleFor("throughput");
  assert.equal(
    checkRegression(latencyRun("c", 6, 9, 99), baseline, throughput, "tp")?.test,
    "mann-whitney",
  );
  assert.equal(checkRegression(latencyRun("c", 6, 11, 99), baseline, throughput, "tp"), null);
});

Deno.test("checkRegression() falls back to Welch on logs when ranks cannot reach alpha", () => {
  // Three samples against three: the smallest exact one-sided Mann-Whitney p is 1/20 = 0.05,
  // but the log-samples are far apart for Welch's t.
  const baseline = [point("b", 1, 10.1, [10, 10.1, 10.2])];
  const finding = checkRegression(point("c", 2, 11.1, [11, 11.1, 11.2]), baseline, LATENCY, "l");
  assert.ok(finding !== null);
  assert.equal(finding.test, "welch");
  assert.ok(finding.pValue! <= 0.01);
  assert.match(finding.message, /Mann-Whitney U p=0\.0500 \(exact\), Welch t on log p=/);
});

Deno.test("checkRegression() compares run values when samples are missing", () => {
  // One candidate value above 120 distinct baseline values: exact p = 1/121 <= 0.01.
  const many = Array.from({ length: 120 }, (_, i) => point(`b${i}`, 1, 10 + i / 100));
  const finding = checkRegression(point("c", 2, 12), many, LATENCY, "latency_ms");
  assert.ok(finding !== null);
  assert.equal(finding.test, "mann-whitney");
  assert.ok(Math.abs(finding.pValue! - 1 / 121) < 1e-15);
  assert.match(finding.message, /run values \(no raw samples\)/);
  // Against 50 runs the best possible p is 1/51 > 0.01: no finding, however large the change.
  assert.equal(checkRegression(point("c", 2, 100), many.slice(0, 50), LATENCY, "latency_ms"), null);
  // A baseline run without samples turns the whole comparison to run values.
  const mixed = [latencyRun("b1", 1, 10, 1), point("b2", 2, 10)];
  assert.equal(checkRegression(latencyRun("c", 3, 20, 9), mixed, LATENCY, "latency_ms"), null);
});

Deno.test("checkRegression() keeps false alarms at about alpha under no change", () => {
  // 400 candidates drawn like their baseline (30 samples vs 3 runs of 30). Without the minimum
  // change the one-sided tests fire on about alpha of them each, at most 2·alpha with both:
  // expect ~4-8 of 400 (measured: 4). The 5% gate removes most of the rest (measured: 1).
  const noGate: MetricRule = { ...LATENCY, minRelativeChange: 0 };
  let fired = 0;
  let firedWithGate = 0;
  for (let trial = 0; trial < 400; trial++) {
    const baseline = [0, 1, 2].map((i) => {
      const samples = latencies(10_000 + trial * 4 + i, 30, 10);
      return point(`b${i}`, i + 1, 10, samples);
    });
    const candidate = point("c", 9, 10, latencies(10_000 + trial * 4 + 3, 30, 10));
    if (checkRegression(candidate, baseline, noGate, "latency_ms") !== null) fired++;
    if (checkRegression(candidate, baseline, LATENCY, "latency_ms") !== null) firedWithGate++;
  }
  assert.ok(fired >= 1 && fired <= 12, `${fired} of 400 fired`);
  assert.ok(firedWithGate <= Math.min(fired, 4), `${firedWithGate} of 400 fired with the gate`);
});

Deno.test("checkRegression() ignores the candidate in its baseline and empty baselines", () => {
  const candidate = point("c", 2, 2000);
  assert.equal(checkRegression(candidate, [], ruleFor("size_bytes"), "size_bytes"), null);
  assert.equal(checkRegression(candidate, [candidate], ruleFor("size_bytes"), "size_bytes"), null);
  const finding = checkRegression(
    candidate,
    [candidate, point("b", 1, 1000)],
    ruleFor("bytes"),
    "bytes",
  );
  assert.deepEqual(finding?.baselineRunIds, ["b"]);
});

Deno.test("checkRegression() rejects non-finite values and bad rules", () => {
  const base = [point("b", 1, 1)];
  assert.throws(
    () => checkRegression(point("c", 2, Number.NaN), base, LATENCY, "latency_ms"),
    /Cannot check metric 'latency_ms' of run 'c': its value is NaN, not finite/,
  );
  assert.throws(
    () => checkRegression(point("c", 2, 1, [1, Infinity]), base, LATENCY, "latency_ms"),
    RangeError,
  );
  assert.throws(
    () => checkRegression(point("c", 2, 1), base, { ...LATENCY, alpha: 2 }, "latency_ms"),
    RangeError,
  );
  assert.throws(
    () =>
      checkRegression(point("c", 2, 1), base, {
        direction: "lower",
        kind: "absolute",
        tolerance: -1,
      }, "m"),
    RangeError,
  );
});

Deno.test("checkRegression() gives the same finding for the same input", () => {
  const baseline = [1, 2, 3].map((i) => latencyRun(`b${i}`, i, 10, i));
  const candidate = latencyRun("c", 4, 12, 50);
  const first = checkRegression(candidate, baseline, LATENCY, "latency_ms");
  assert.ok(first !== null);
  assert.deepEqual(checkRegression(candidate, baseline, LATENCY, "latency_ms"), first);
  assert.deepEqual(
    checkRegression(candidate, [...baseline].reverse(), LATENCY, "latency_ms")?.pValue,
    first.pValue,
  );
});
