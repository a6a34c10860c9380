import assert from "node:assert/strict";
import { mulberry32 } from "../../../test/support/prng.ts";
import { bestSplit, pairSums } from "./_e_divisive.ts";

/**
 * Matteson & James (2014) eq. for α = 1, evaluated directly:
 * Q(X, Y) = nm/(n+m) · Ê, Ê = 2/(nm)·Σ|X-Y| - C(n,2)⁻¹·Σ|X-X'| - C(m,2)⁻¹·Σ|Y-Y'|
 * (a within term of a one-point side is 0).
 */
function directQ(x: readonly number[], y: readonly number[]): number {
  const n = x.length;
  const m = y.length;
  let between = 0;
  for (const a of x) for (const b of y) between += Math.abs(a - b);
  let withinX = 0;
  for (let i = 0; i < n; i++) for (let j = i + 1; j < n; j++) withinX += Math.abs(x[i]! - x[j]!);
  let withinY = 0;
  for (let i = 0; i < m; i++) for (let j = i + 1; j < m; j++) withinY += Math.abs(y[i]! - y[j]!);
  const e = (2 / (n * m)) * between - (n > 1 ? withinX / ((n * (n - 1)) / 2) : 0) -
    (m > 1 ? withinY / ((m * (m - 1)) / 2) : 0);
  return ((n * m) / (n + m)) * e;
}

Deno.test("pairSums() holds every within-range sum of pairwise distances", () => {
  const rand = mulberry32(7);
  const z = Array.from({ length: 13 }, () => rand() * 10);
  const w = pairSums(z);
  const stride = z.length + 1;
  for (let a = 0; a <= z.length; a++) {
    for (let b = a; b <= z.length; b++) {
      let sum = 0;
      for (let i = a; i < b; i++) for (let j = i + 1; j < b; j++) sum += Math.abs(z[i]! - z[j]!);
      assert.ok(Math.abs(w[a * stride + b]! - sum) < 1e-9, `W(${a}, ${b})`);
    }
  }
});

Deno.test("bestSplit() maximizes the E-Divisive divergence evaluated directly", () => {
  for (let seed = 1; seed <= 20; seed++) {
    const rand = mulberry32(seed);
    const length = 8 + Math.floor(rand() * 20);
    const shift = Math.floor(rand() * length);
    const z = Array.from({ length }, (_, i) => rand() + (i >= shift ? 2 * rand() : 0));
    const w = pairSums(z);
    const start = Math.floor(rand() * 3);
    const end = length - Math.floor(rand() * 3);
    let best = { index: -1, q: -Infinity };
    for (let tau = start + 1; tau < end; tau++) {
      for (let kappa = tau + 1; kappa <= end; kappa++) {
        const q = directQ(z.slice(start, tau), z.slice(tau, kappa));
        if (q > best.q + 1e-9) best = { index: tau, q };
      }
    }
    const found = bestSplit(w, length + 1, start, end);
    assert.equal(found.index, best.index, `seed ${seed}`);
    assert.ok(Math.abs(found.q - best.q) < 1e-9 * Math.max(1, best.q), `seed ${seed} q`);
  }
});
