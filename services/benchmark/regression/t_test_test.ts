import assert from "node:assert/strict";
import { studentTTest, welchTTest } from "./t_test.ts";

function assertClose(actual: number, expected: number, relative: number, what: string): void {
  assert.ok(
    Math.abs(actual - expected) <= relative * Math.abs(expected),
    `${what}: got ${actual}, expected ${expected}`,
  );
}

// Wikipedia, "Welch's t-test", example 1 (A1, A2): t = -2.46, df = 24.99, p = 0.021.
// Full precision from SciPy 1.17.1 ttest_ind(equal_var=False): t = -2.455356398286006,
// df = 24.988529290231416, p = 0.021378001462866992.
const A1 = [
  27.5,
  21.0,
  19.0,
  23.6,
  17.0,
  17.9,
  16.9,
  20.1,
  21.9,
  22.6,
  23.1,
  19.6,
  19.0,
  21.7,
  21.4,
];
const A2 = [
  27.1,
  22.0,
  20.8,
  23.4,
  23.4,
  23.5,
  25.8,
  22.0,
  24.8,
  20.2,
  21.9,
  22.1,
  22.9,
  20.5,
  24.4,
];

Deno.test("welchTTest() reproduces Wikipedia's Welch example 1", () => {
  const result = welchTTest(A1, A2);
  assertClose(result.t, -2.455356398286006, 1e-12, "t");
  assertClose(result.df, 24.988529290231416, 1e-12, "df");
  assertClose(result.pValue, 0.021378001462866992, 1e-10, "p");
  assertClose(
    welchTTest(A1, A2, { alternative: "less" }).pValue,
    0.021378001462866992 / 2,
    1e-10,
    "one-sided",
  );
  assertClose(
    welchTTest(A1, A2, { alternative: "greater" }).pValue,
    1 - 0.021378001462866992 / 2,
    1e-12,
    "other side",
  );
});

Deno.test("welchTTest() handles unequal sizes and variances like SciPy", () => {
  // SciPy 1.17.1: ttest_ind(a, b, equal_var=False) -> t 3.972047567218331, df 4.931207043125488,
  // p 0.010913107521018045.
  const a = [10.2, 10.4, 10.3, 10.5, 11.9];
  const b = [9.1, 9.3, 9.0, 9.2, 9.6, 9.4, 9.8];
  const result = welchTTest(a, b);
  assertClose(result.t, 3.972047567218331, 1e-12, "t");
  assertClose(result.df, 4.931207043125488, 1e-12, "df");
  assertClose(result.pValue, 0.010913107521018045, 1e-9, "p");
});

Deno.test("welchTTest() with zero variance is certain about different means only", () => {
  assert.equal(welchTTest([2, 2, 2], [1, 1, 1], { alternative: "greater" }).pValue, 0);
  assert.equal(welchTTest([2, 2, 2], [1, 1, 1], { alternative: "less" }).pValue, 1);
  assert.equal(welchTTest([1, 1], [1, 1]).pValue, 1);
  assert.throws(() => welchTTest([1], [1, 2]), RangeError);
  assert.throws(() => welchTTest([1, Number.NaN], [1, 2]), RangeError);
});

Deno.test("studentTTest() matches the pooled test by hand and SciPy", () => {
  // [1,2,3] vs [4,5,6]: pooled variance 1, se = √(2/3), t = -3/0.8165 = -3.6742346141747673,
  // df 4; SciPy 1.17.1 ttest_ind p = 0.021311641128756713.
  const result = studentTTest([1, 2, 3], [4, 5, 6]);
  assertClose(result.t, -3 / Math.sqrt(2 / 3), 1e-14, "t");
  assert.equal(result.df, 4);
  assertClose(result.pValue, 0.021311641128756713, 1e-10, "p");
  // SciPy: ttest_ind(a, b) with equal variances, p = 0.0010658593980916783.
  const pooled = studentTTest([10.2, 10.4, 10.3, 10.5, 11.9], [9.1, 9.3, 9.0, 9.2, 9.6, 9.4, 9.8]);
  assertClose(pooled.t, 4.545369790213655, 1e-12, "t");
  assertClose(pooled.pValue, 0.0010658593980916783, 1e-9, "p");
});
