import assert from "node:assert/strict";
import { mulberry32 } from "../../../test/support/prng.ts";
import { mannWhitneyU } from "./mann_whitney.ts";

function assertClose(actual: number, expected: number, relative: number, what: string): void {
  assert.ok(
    Math.abs(actual - expected) <= relative * Math.abs(expected),
    `${what}: got ${actual}, expected ${expected}`,
  );
}

// SciPy's mannwhitneyu documentation example (from Conover, Practical Nonparametric
// Statistics): U1 = 17, exact two-sided p = 0.1111111111111111 (= 14/126),
// asymptotic p = 0.11134688653314041.
const MALES = [19, 22, 16, 29, 24];
const FEMALES = [20, 11, 17, 12];

Deno.test("mannWhitneyU() reproduces SciPy's documented example, exact and asymptotic", () => {
  const exact = mannWhitneyU(MALES, FEMALES);
  assert.equal(exact.u, 17);
  assert.equal(exact.method, "exact");
  assertClose(exact.pValue, 14 / 126, 1e-12, "exact two-sided");
  assertClose(
    mannWhitneyU(MALES, FEMALES, { alternative: "greater" }).pValue,
    7 / 126,
    1e-12,
    "greater",
  );
  // P(U <= 17) = 1 - P(U >= 18) = 1 - 4/126 = 0.9682539682539683 (SciPy: same).
  assertClose(
    mannWhitneyU(MALES, FEMALES, { alternative: "less" }).pValue,
    122 / 126,
    1e-12,
    "less",
  );
  const asymptotic = mannWhitneyU(MALES, FEMALES, { method: "asymptotic" });
  assert.equal(asymptotic.method, "asymptotic");
  assertClose(asymptotic.pValue, 0.11134688653314041, 1e-10, "asymptotic two-sided");
  // By hand: μ = 10, σ = √(20·10/12), z = (17 - 10 - 1/2)/σ = 1.5922, 1 - Φ(z) = 0.0556734.
  assertClose(
    mannWhitneyU(MALES, FEMALES, { method: "asymptotic", alternative: "greater" }).pValue,
    0.055673443266570206,
    1e-10,
    "asymptotic greater",
  );
});

Deno.test("mannWhitneyU() exact p-values equal counting every arrangement", () => {
  // All of x above all of y: one arrangement in C(5, 2) = 10.
  assertClose(
    mannWhitneyU([3, 4, 5], [1, 2], { alternative: "greater" }).pValue,
    0.1,
    1e-14,
    "1/10",
  );
  // Brute force over all C(8, 3) = 56 rank sets for x of size 3 among 8.
  const x = [2.5, 6.5, 7.5];
  const y = [1.5, 3.5, 4.5, 5.5, 8.5];
  const u = mannWhitneyU(x, y, { alternative: "greater" });
  assert.equal(u.u, 1 + 4 + 4);
  let atLeast = 0;
  let total = 0;
  for (let a = 0; a < 8; a++) {
    for (let b = a + 1; b < 8; b++) {
      for (let c = b + 1; c < 8; c++) {
        // U of ranks {a, b, c}: for each x rank, the y ranks below it.
        const count = a + (b - 1) + (c - 2);
        total++;
        if (count >= u.u) atLeast++;
      }
    }
  }
  assert.equal(total, 56);
  assertClose(u.pValue, atLeast / total, 1e-13, "exact tail");
});

Deno.test("mannWhitneyU() corrects for ties like SciPy", () => {
  // SciPy 1.17.1 mannwhitneyu(x, y, method="asymptotic"): U = 25.5,
  // two-sided 0.023872124191658375, less 0.011936062095829187, greater 0.9899807861684983.
  const x = [1, 2, 2, 3, 3, 3, 4, 5, 5, 7];
  const y = [2, 3, 4, 4, 5, 6, 6, 6, 8, 9, 9, 10];
  const two = mannWhitneyU(x, y);
  assert.equal(two.u, 25.5);
  assert.equal(two.method, "asymptotic");
  assert.equal(two.ties, true);
  assertClose(two.pValue, 0.023872124191658375, 1e-10, "two-sided");
  assertClose(
    mannWhitneyU(x, y, { alternative: "less" }).pValue,
    0.011936062095829187,
    1e-10,
    "less",
  );
  assertClose(
    mannWhitneyU(x, y, { alternative: "greater" }).pValue,
    0.9899807861684983,
    1e-12,
    "greater",
  );
  assert.throws(() => mannWhitneyU(x, y, { method: "exact" }), RangeError);
});

Deno.test("mannWhitneyU() exact and asymptotic agree at 30 x 40 as in SciPy", () => {
  // numpy default_rng(1): normal(0.5, 1, 30) and normal(0, 1, 40), rounded to 6 decimals.
  // SciPy 1.17.1, alternative="greater": U = 846, exact p = 0.0015799996827919444,
  // asymptotic p = 0.0017867289220123716.
  const a = [
    0.845584,
    1.321618,
    0.830437,
    -0.803157,
    1.405356,
    0.946375,
    -0.036953,
    1.081118,
    0.864572,
    0.794132,
    0.528422,
    1.046713,
    -0.236454,
    0.33709,
    0.017881,
    1.098846,
    0.539722,
    0.207543,
    -0.281908,
    0.242808,
    0.508142,
    0.224397,
    1.794064,
    1.506724,
    -2.211162,
    -1.389013,
    0.325228,
    0.07781,
    0.713643,
    0.717322,
  ];
  const b = [
    2.117839,
    -1.112021,
    -0.377605,
    2.042772,
    0.646703,
    0.663063,
    -0.514006,
    -1.648075,
    0.167465,
    0.109014,
    -1.227352,
    -0.683227,
    -0.072044,
    -0.944752,
    -0.09827,
    0.095483,
    0.035586,
    -0.506292,
    0.593748,
    0.891167,
    0.320848,
    -0.81823,
    0.731652,
    -0.50144,
    0.879161,
    -1.071787,
    0.914467,
    -0.020063,
    -1.248749,
    -0.313899,
    0.054102,
    0.272791,
    -0.982188,
    -1.107373,
    0.199585,
    -0.46675,
    0.235506,
    0.75952,
    -1.648787,
    0.254388,
  ];
  const exact = mannWhitneyU(a, b, { alternative: "greater" });
  assert.equal(exact.u, 846);
  assert.equal(exact.method, "exact");
  assertClose(exact.pValue, 0.0015799996827919444, 1e-9, "exact");
  const asymptotic = mannWhitneyU(a, b, { alternative: "greater", method: "asymptotic" });
  assertClose(asymptotic.pValue, 0.0017867289220123716, 1e-9, "asymptotic");
  assert.throws(() => mannWhitneyU([], b), RangeError);
});

Deno.test("mannWhitneyU() p-values are calibrated under the null hypothesis", () => {
  // 1,000 pairs of 20 uniform values: P(p <= 0.05) should be about 0.05 (a little less for
  // the discrete exact test), so about 50; P(p <= 0.01) about 10.
  const rand = mulberry32(2024);
  let at5 = 0;
  let at1 = 0;
  let asymptotic5 = 0;
  for (let trial = 0; trial < 1000; trial++) {
    const x = Array.from({ length: 20 }, rand);
    const y = Array.from({ length: 20 }, rand);
    const p = mannWhitneyU(x, y, { alternative: "greater" }).pValue;
    if (p <= 0.05) at5++;
    if (p <= 0.01) at1++;
    const a = mannWhitneyU(x, y, { alternative: "less", method: "asymptotic" }).pValue;
    if (a <= 0.05) asymptotic5++;
  }
  assert.ok(at5 >= 30 && at5 <= 70, `${at5} of 1000 at 0.05`);
  assert.ok(at1 >= 3 && at1 <= 20, `${at1} of 1000 at 0.01`);
  assert.ok(asymptotic5 >= 30 && asymptotic5 <= 70, `${asymptotic5} of 1000 at 0.05 (asymptotic)`);
});
