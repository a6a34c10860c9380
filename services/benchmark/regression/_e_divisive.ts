/**
 * The E-Divisive divergence search over one window (see `change_points.ts`), kept apart so that
 * its tests can compare it with the formula evaluated directly.
 * @module
 */

/** The best split found: the first index of the right part and its divergence Q. */
export interface Candidate {
  index: number;
  q: number;
}

/**
 * W[a·(L+1) + b] = Σ_{a<=i<j<b} |z_i - z_j| for the window z of length L, so that every sum of
 * Q is O(1): within(X) = W(s, τ), within(Y) = W(τ, κ), between = W(s, κ) - W(s, τ) - W(τ, κ).
 */
export function pairSums(z: readonly number[]): Float64Array {
  const length = z.length;
  const stride = length + 1;
  const w = new Float64Array(stride * stride);
  const column = new Float64Array(length + 1);
  for (let b = 1; b <= length; b++) {
    // column[a] = Σ_{i=a}^{b-2} |z_i - z_{b-1}|, built from the top.
    const last = z[b - 1]!;
    column[b - 1] = 0;
    for (let a = b - 2; a >= 0; a--) column[a] = column[a + 1]! + Math.abs(z[a]! - last);
    for (let a = 0; a < b; a++) w[a * stride + b] = w[a * stride + b - 1]! + column[a]!;
  }
  return w;
}

/** The best split of z[start, end) by Q, ties to the smallest τ then κ (as NumPy's argmax). */
export function bestSplit(w: Float64Array, stride: number, start: number, end: number): Candidate {
  let best: Candidate = { index: start + 1, q: -Infinity };
  for (let tau = start + 1; tau < end; tau++) {
    const n = tau - start;
    const withinX = w[start * stride + tau]!;
    for (let kappa = tau + 1; kappa <= end; kappa++) {
      const m = kappa - tau;
      const withinY = w[tau * stride + kappa]!;
      const between = w[start * stride + kappa]! - withinX - withinY;
      const total = n + m;
      let q = (2 / total) * between;
      if (n > 1) q -= ((2 * m) / (total * (n - 1))) * withinX;
      if (m > 1) q -= ((2 * n) / (total * (m - 1))) * withinY;
      if (q > best.q) best = { index: tau, q };
    }
  }
  return best;
}
