/**
 * Per-chunk parameter tables for kernels whose parameters (scales, zero points) follow an axis
 * view, so that no binding ever holds more than one chunk's worth of parameters. Imported only
 * from this folder.
 * @module
 */
import type { AxisView } from "../_shape.ts";

/** Which parameters one chunk needs, and how the program maps an element to its table entry. */
export interface ParamTable {
  /**
   * 0: one parameter; 1: entry `(base + i) / inner - lo` (one per row); 2: the blocked index
   * minus `lo`; 3: entry i (one per element).
   */
  readonly mode: 0 | 1 | 2 | 3;
  readonly lo: number;
  /** The parameter index of each table entry. */
  readonly indices: Uint32Array;
}

/** The blocked parameter index of element e. */
function blockedIndex(view: AxisView, e: number): number {
  const row = Math.floor(e / view.inner);
  const o = Math.floor(row / view.channels);
  const c = row % view.channels;
  return (o * view.blocks + Math.floor(c / view.blockSize)) * view.inner + (e % view.inner);
}

/**
 * The table of the chunk of `n` elements starting at `at`: never longer than `n` entries
 * (per-element in the worst case), so it fits wherever the chunk fits.
 */
export function paramTable(
  view: AxisView,
  chunk: { readonly at: number; readonly n: number },
): ParamTable {
  const { at, n } = chunk;
  const last = at + n - 1;
  if (view.whole) return { mode: 0, lo: 0, indices: new Uint32Array(1) };
  if (!view.blocked) {
    const r0 = Math.floor(at / view.inner);
    const rows = Math.floor(last / view.inner) - r0 + 1;
    const indices = new Uint32Array(rows);
    for (let t = 0; t < rows; t++) indices[t] = (r0 + t) % view.channels;
    return { mode: 1, lo: r0, indices };
  }
  const rowOf = (e: number): number => Math.floor(e / view.inner);
  const blockRow = (e: number): number => {
    const row = rowOf(e);
    return Math.floor(row / view.channels) * view.blocks +
      Math.floor((row % view.channels) / view.blockSize);
  };
  let lo: number;
  let hi: number;
  if (rowOf(at) === rowOf(last)) {
    lo = blockedIndex(view, at);
    hi = blockedIndex(view, last);
  } else {
    lo = blockRow(at) * view.inner;
    hi = blockRow(last) * view.inner + view.inner - 1;
  }
  if (hi - lo + 1 <= n) {
    const indices = new Uint32Array(hi - lo + 1);
    for (let t = 0; t < indices.length; t++) indices[t] = lo + t;
    return { mode: 2, lo, indices };
  }
  const indices = new Uint32Array(n);
  for (let i = 0; i < n; i++) indices[i] = blockedIndex(view, at + i);
  return { mode: 3, lo: 0, indices };
}

/** `values[indices[t]]` for every t, in the array type of `values`. */
export function gather<T extends Float32Array | Int32Array>(values: T, indices: Uint32Array): T {
  const out = new (values.constructor as { new (n: number): T })(indices.length);
  for (let t = 0; t < indices.length; t++) out[t] = values[indices[t]!]!;
  return out;
}
