import assert from "node:assert/strict";
import {
  logGamma,
  normalCdf,
  normalUpperTail,
  regularizedIncompleteBeta,
  studentTCdf,
  studentTUpperTail,
} from "./distributions.ts";

function assertClose(actual: number, expected: number, relative: number, what: string): void {
  const tolerance = relative * Math.max(Math.abs(expected), Number.MIN_VALUE);
  assert.ok(
    Math.abs(actual - expected) <= tolerance,
    `${what}: got ${actual}, expected ${expected} (relative tolerance ${relative})`,
  );
}

Deno.test("logGamma() matches factorials and Γ(1/2) = √π", () => {
  assertClose(logGamma(5), Math.log(24), 1e-14, "ln Γ(5) = ln 4!");
  assert.ok(Math.abs(logGamma(1)) < 1e-14);
  assert.ok(Math.abs(logGamma(2)) < 1e-14);
  assertClose(logGamma(0.5), 0.5 * Math.log(Math.PI), 1e-14, "ln Γ(1/2) = ln √π");
  // Reference values: Python's math.lgamma (libm), 3.11.7.
  assertClose(logGamma(100.5), 361.4355404677776, 1e-14, "ln Γ(100.5)");
  assertClose(logGamma(0.1), 2.2527126517342055, 1e-13, "ln Γ(0.1) (reflection)");
  assert.throws(() => logGamma(0), RangeError);
  assert.throws(() => logGamma(-1), RangeError);
});

Deno.test("regularizedIncompleteBeta() matches closed forms and SciPy's betainc", () => {
  // I_x(2, 3) = Σ_{j=2}^{4} C(4, j) x^j (1-x)^(4-j): at 1/2, (6 + 4 + 1) / 16 = 11/16.
  assertClose(regularizedIncompleteBeta(0.5, 2, 3), 11 / 16, 1e-13, "I_0.5(2,3)");
  // I_x(1/2, 1/2) = (2/π) asin(√x), the arcsine distribution.
  assertClose(
    regularizedIncompleteBeta(0.3, 0.5, 0.5),
    (2 / Math.PI) * Math.asin(Math.sqrt(0.3)),
    1e-12,
    "I_0.3(1/2,1/2)",
  );
  // I_x(a, 1) = x^a.
  assertClose(regularizedIncompleteBeta(0.7, 3.5, 1), 0.7 ** 3.5, 1e-13, "I_0.7(3.5,1)");
  // Symmetry I_{1/2}(a, a) = 1/2 for large shapes (the continued fraction's hard case).
  assertClose(regularizedIncompleteBeta(0.5, 1000, 1000), 0.5, 1e-12, "I_0.5(1000,1000)");
  // SciPy 1.17.1 scipy.special.betainc(10, 20, 0.9) = 0.9999999999999593.
  assertClose(1 - regularizedIncompleteBeta(0.9, 10, 20), 1 - 0.9999999999999593, 1e-3, "tail");
  assert.equal(regularizedIncompleteBeta(0, 2, 3), 0);
  assert.equal(regularizedIncompleteBeta(1, 2, 3), 1);
  assert.throws(() => regularizedIncompleteBeta(1.5, 2, 3), RangeError);
  assert.throws(() => regularizedIncompleteBeta(0.5, 0, 3), RangeError);
});

Deno.test("studentTUpperTail() matches textbook quantiles and SciPy's t.sf", () => {
  // One degree of freedom is the Cauchy distribution: P(T > 1) = 1/4 exactly.
  assertClose(studentTUpperTail(1, 1), 0.25, 1e-13, "Cauchy");
  // Two degrees of freedom has a closed form: P(T > t) = 1/2 - t / (2 √(t² + 2)).
  assertClose(studentTUpperTail(3, 2), 0.5 - 3 / (2 * Math.sqrt(11)), 1e-12, "df 2");
  // Textbook table: t_{0.975, 10} = 2.228 (Student's t table; SciPy t.sf gives 0.02500000000001).
  assertClose(studentTUpperTail(2.228138851986, 10), 0.025000000000011628, 1e-10, "t 10 df");
  // SciPy 1.17.1 scipy.stats.t.sf(t, df):
  assertClose(studentTUpperTail(3, 2.5), 0.036288047774515914, 1e-11, "fractional df");
  assertClose(studentTUpperTail(-1.5, 7), 0.911350756505015, 1e-12, "negative t");
  assertClose(studentTUpperTail(10, 3), 0.0010641995292070751, 1e-11, "t=10, df=3");
  assertClose(studentTUpperTail(40, 30), 6.863022597203209e-28, 1e-9, "deep tail");
  assertClose(studentTUpperTail(5, 1000), 3.3836281823243174e-7, 1e-9, "df 1000");
  assertClose(studentTUpperTail(0.1, 10000), 0.4601731650155375, 1e-11, "df 10000");
  assert.equal(studentTUpperTail(0, 4), 0.5);
  assertClose(studentTCdf(-1.5, 7), 1 - 0.911350756505015, 1e-11, "cdf");
  assert.throws(() => studentTUpperTail(1, 0), RangeError);
});

Deno.test("normalCdf() matches the standard normal table", () => {
  // SciPy 1.17.1 scipy.stats.norm.cdf(x) (the table values Φ(1) = 0.8413, Φ(1.96) = 0.975).
  assertClose(normalCdf(1), 0.8413447460685429, 1e-14, "Φ(1)");
  assertClose(normalCdf(1.959963984540054), 0.975, 1e-14, "Φ(1.96)");
  assertClose(normalCdf(0.5), 0.6914624612740131, 1e-14, "Φ(0.5)");
  assertClose(normalCdf(-3), 0.0013498980316300933, 1e-13, "Φ(-3)");
  assertClose(normalCdf(-8), 6.22096057427174e-16, 1e-12, "Φ(-8)");
  assertClose(normalCdf(-20), 2.7536241186061556e-89, 1e-10, "Φ(-20)");
  assertClose(normalUpperTail(-6), 0.9999999990134123, 1e-15, "1 - Φ(-6)");
  assert.equal(normalCdf(0), 0.5);
  assert.equal(normalCdf(-40), 0);
  assert.equal(studentTUpperTail(1, Infinity), normalUpperTail(1));
});
