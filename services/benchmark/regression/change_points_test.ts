import assert from "node:assert/strict";
import { mulberry32 } from "../../../test/support/prng.ts";
import { baselineSince, changePoints } from "./change_points.ts";

/** Standard normal deviates from a seeded generator (Box-Muller). */
function gaussian(rand: () => number): () => number {
  return () => Math.sqrt(-2 * Math.log(1 - rand())) * Math.cos(2 * Math.PI * rand());
}

/** A repeating ripple, so that segments have variance but the answer is known exactly. */
function ripple(length: number, level: number): number[] {
  return Array.from({ length }, (_, i) => level + [0, 0.2, -0.1, 0.1, -0.2][i % 5]!);
}

Deno.test("changePoints() finds a clean step at its first new value, with the segment means", () => {
  const series = [...ripple(30, 10), ...ripple(30, 12)];
  const found = changePoints(series);
  assert.equal(found.length, 1);
  assert.equal(found[0]!.index, 30);
  assert.ok(Math.abs(found[0]!.meanBefore - 10) < 1e-12);
  assert.ok(Math.abs(found[0]!.meanAfter - 12) < 1e-12);
  assert.ok(found[0]!.pValue < 1e-20);
});

Deno.test("changePoints() finds several shifts in a series longer than the window", () => {
  // Shifts at 40, 90, 170 and 260 in 300 points: more than one window (50) each way.
  const rand = gaussian(mulberry32(11));
  const levels = [[0, 100], [40, 104], [90, 99], [170, 95], [260, 101]] as const;
  const series = Array.from({ length: 300 }, (_, i) => {
    const level = levels.findLast(([start]) => i >= start)![1];
    return level + rand();
  });
  const found = changePoints(series).map((c) => c.index);
  assert.equal(found.length, 4, `found ${found}`);
  for (const [k, expected] of [40, 90, 170, 260].entries()) {
    assert.ok(Math.abs(found[k]! - expected) <= 1, `found ${found}`);
  }
});

Deno.test("changePoints() finds nothing in constant, very short or flat-noise series", () => {
  assert.deepEqual(changePoints(Array(100).fill(5)), []);
  assert.deepEqual(changePoints([1, 1, 1, 9, 9]), []); // 5 points: too short to test
  assert.deepEqual(changePoints([]), []);
  const rand = gaussian(mulberry32(3));
  assert.deepEqual(changePoints(Array.from({ length: 120 }, () => 20 + rand())), []);
  // Six points are enough for a clean step.
  assert.deepEqual(changePoints([1, 1.1, 1, 9, 9.1, 9]).map((c) => c.index), [3]);
});

Deno.test("changePoints() is deterministic and ignores the seed", () => {
  const rand = gaussian(mulberry32(5));
  const series = Array.from({ length: 200 }, (_, i) => (i < 120 ? 0 : 3) + rand());
  const first = changePoints(series);
  assert.deepEqual(changePoints(series), first);
  assert.deepEqual(changePoints(series, { seed: 1 }), first);
  assert.deepEqual(changePoints(series, { seed: 99 }), first);
  assert.ok(first.some((c) => Math.abs(c.index - 120) <= 3));
});

Deno.test("changePoints() rejects non-finite values and bad options", () => {
  assert.throws(() => changePoints([1, 2, Number.NaN, 4, 5, 6]), /index 2 is NaN/);
  assert.throws(() => changePoints([1, 2, 3], { window: 1 }), RangeError);
  assert.throws(() => changePoints([1, 2, 3], { window: 2.5 }), RangeError);
  assert.throws(() => changePoints([1, 2, 3], { alpha: 0 }), RangeError);
});

interface Generated {
  readonly values: number[];
  readonly shifts: number[];
}

/**
 * 0-3 mean shifts of 3-10 sigma (random sign) in 100-300 points of Gaussian noise (sigma
 * 1-5, level 100); shifts at least 10 points from each other and from the ends.
 */
function generate(seed: number): Generated {
  const rand = mulberry32(seed);
  const normal = gaussian(rand);
  const length = 100 + Math.floor(rand() * 201);
  const count = Math.floor(rand() * 4);
  const shifts: number[] = [];
  while (shifts.length < count) {
    const at = 10 + Math.floor(rand() * (length - 20));
    if (shifts.every((s) => Math.abs(s - at) >= 10)) shifts.push(at);
  }
  shifts.sort((a, b) => a - b);
  const sigma = 1 + rand() * 4;
  let level = 100;
  const values: number[] = [];
  for (let i = 0; i < length; i++) {
    if (shifts.includes(i)) level += (3 + rand() * 7) * sigma * (rand() < 0.5 ? -1 : 1);
    values.push(level + sigma * normal());
  }
  return { values, shifts };
}

Deno.test("changePoints() has precision >= 0.9 and recall >= 0.95 on 200 generated series", () => {
  // A detection within ±3 points of a true shift is a hit (each shift matched at most once);
  // measured with these seeds: precision 0.922 (296 of 321), recall 0.997 (296 of 297).
  let hits = 0;
  let detections = 0;
  let truths = 0;
  for (let seed = 1000; seed < 1200; seed++) {
    const { values, shifts } = generate(seed);
    const found = changePoints(values).map((c) => c.index);
    const used = new Set<number>();
    for (const shift of shifts) {
      const hit = found.findIndex((f, i) => !used.has(i) && Math.abs(f - shift) <= 3);
      if (hit >= 0) used.add(hit);
    }
    hits += used.size;
    detections += found.length;
    truths += shifts.length;
  }
  const precision = hits / detections;
  const recall = hits / truths;
  const summary =
    `precision ${precision} (${hits}/${detections}), recall ${recall} (${hits}/${truths})`;
  assert.ok(truths > 250, summary);
  assert.ok(precision >= 0.9, summary);
  assert.ok(recall >= 0.95, summary);
});

Deno.test("changePoints() flags fewer than alpha of the points of pure noise", () => {
  // 200 Gaussian series of 100-300 points; alpha 0.001. Measured: 22 change points in 39,144
  // points (0.00056 per point; 0.11 per series), below alpha per point.
  let flagged = 0;
  let points = 0;
  for (let seed = 5000; seed < 5200; seed++) {
    const rand = mulberry32(seed);
    const normal = gaussian(rand);
    const length = 100 + Math.floor(rand() * 201);
    flagged += changePoints(Array.from({ length }, () => 50 + normal())).length;
    points += length;
  }
  assert.ok(flagged / points <= 0.001, `${flagged} change points in ${points} points`);
});

Deno.test("baselineSince() keeps the history from the last change point on", () => {
  const history = Array.from({ length: 10 }, (_, i) => ({
    runId: `r${i}`,
    time: new Date(i * 1000),
    value: i < 6 ? 1 : 2,
  }));
  assert.deepEqual(baselineSince(history, []).map((p) => p.runId), history.map((p) => p.runId));
  const since = baselineSince(history, [{ index: 3 }, { index: 6 }]);
  assert.deepEqual(since.map((p) => p.runId), ["r6", "r7", "r8", "r9"]);
  assert.deepEqual(baselineSince(history, [{ index: 6 }, { index: 3 }]), since);
  assert.throws(() => baselineSince(history, [{ index: 11 }]), RangeError);
  // With changePoints() on the values, as the service does.
  const rippled = ripple(40, 1).concat(ripple(20, 3)).map((value, i) => ({
    runId: `r${i}`,
    time: new Date(i),
    value,
  }));
  const baseline = baselineSince(rippled, changePoints(rippled.map((p) => p.value)));
  assert.equal(baseline.length, 20);
  assert.equal(baseline[0]!.runId, "r40");
});
