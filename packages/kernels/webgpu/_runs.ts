/**
 * Reduction runs: every output of an axis view as strided runs of elements, packed into chunks
 * that fit one storage binding, so that one program reduces whole, per-axis and per-block alike.
 * Imported only from this folder.
 * @module
 */
import type { AxisView } from "../_shape.ts";

/** Elements per run at most: bounds the pairwise sum's depth and each invocation's loop. */
export const RUN_LENGTH = 1024;

/** A chunk of the tensor and the runs inside it. */
export interface RunChunk {
  /** First element of the chunk in the tensor. */
  readonly at: number;
  /** Elements in the chunk. */
  readonly length: number;
  /** (start relative to `at`, stride, count) per run. */
  readonly runs: Uint32Array;
  /** The output of each run. */
  readonly outputs: Uint32Array;
}

interface Group {
  readonly from: number;
  readonly to: number;
  /** (start, stride, count, output) per run, start in the tensor. */
  readonly runs: readonly number[];
}

/** Groups (contiguous element ranges of at most `cap` holding whole runs), in element order. */
function* groups(view: AxisView, length: number, cap: number): Generator<Group> {
  const piece = Math.min(RUN_LENGTH, cap);
  const contiguous = function* (
    start: number,
    count: number,
    output: number,
  ): Generator<Group> {
    for (let s = 0; s < count; s += piece) {
      const c = Math.min(piece, count - s);
      yield { from: start + s, to: start + s + c, runs: [start + s, 1, c, output] };
    }
  };
  const { outer, channels, inner } = view;
  if (view.whole) {
    yield* contiguous(0, length, 0);
    return;
  }
  if (!view.blocked) {
    const slab = channels * inner;
    if (outer > inner && slab <= cap) {
      // Runs along the outer dimension: one per (channel, inner) position of a slab.
      const tile = Math.min(RUN_LENGTH, Math.floor(cap / slab));
      for (let o0 = 0; o0 < outer; o0 += tile) {
        const o1 = Math.min(outer, o0 + tile);
        const runs: number[] = [];
        for (let q = 0; q < slab; q++) {
          runs.push(o0 * slab + q, slab, o1 - o0, Math.floor(q / inner));
        }
        yield { from: o0 * slab, to: o1 * slab, runs };
      }
      return;
    }
    for (let r = 0; r < outer * channels; r++) yield* contiguous(r * inner, inner, r % channels);
    return;
  }
  const { blockSize, blocks } = view;
  for (let o = 0; o < outer; o++) {
    for (let b = 0; b < blocks; b++) {
      const c0 = b * blockSize;
      const c1 = Math.min(channels, c0 + blockSize);
      const first = (o * blocks + b) * inner;
      if (inner === 1) {
        yield* contiguous(o * channels + c0, c1 - c0, first);
      } else if (inner <= cap) {
        // Runs along the axis, one per inner position, `tile` channels at a time.
        const tile = Math.min(RUN_LENGTH, Math.floor(cap / inner));
        for (let t0 = c0; t0 < c1; t0 += tile) {
          const t1 = Math.min(c1, t0 + tile);
          const from = (o * channels + t0) * inner;
          const runs: number[] = [];
          for (let i = 0; i < inner; i++) runs.push(from + i, inner, t1 - t0, first + i);
          yield { from, to: (o * channels + t1) * inner, runs };
        }
      } else {
        // Rows longer than a binding: every element is its own run.
        for (let c = c0; c < c1; c++) {
          const row = (o * channels + c) * inner;
          for (let s = 0; s < inner; s += cap) {
            const n = Math.min(cap, inner - s);
            const runs: number[] = [];
            for (let i = s; i < s + n; i++) runs.push(row + i, 1, 1, first + i);
            yield { from: row + s, to: row + s + n, runs };
          }
        }
      }
    }
  }
}

/**
 * The chunks of a reduction over `length` elements: each at most `cap` elements, each with at
 * most `floor(cap / 3)` runs (so that run descriptors and results fit a binding too).
 */
export function* runChunks(view: AxisView, length: number, cap: number): Generator<RunChunk> {
  const maxRuns = Math.floor(cap / 3);
  let at = -1;
  let to = 0;
  let runs: number[] = [];
  const flush = (): RunChunk => {
    const count = runs.length / 4;
    const out = {
      at,
      length: to - at,
      runs: new Uint32Array(count * 3),
      outputs: new Uint32Array(count),
    };
    for (let r = 0; r < count; r++) {
      out.runs[3 * r] = runs[4 * r]! - at;
      out.runs[3 * r + 1] = runs[4 * r + 1]!;
      out.runs[3 * r + 2] = runs[4 * r + 2]!;
      out.outputs[r] = runs[4 * r + 3]!;
    }
    runs = [];
    at = -1;
    return out;
  };
  for (const g of groups(view, length, cap)) {
    if (at >= 0 && (g.to - at > cap || runs.length / 4 + g.runs.length / 4 > maxRuns)) {
      yield flush();
    }
    if (at < 0) at = g.from;
    to = g.to;
    // A group with more runs than a batch holds (single-element runs) is split by runs.
    for (let r = 0; r < g.runs.length; r += 4) {
      if (runs.length / 4 === maxRuns) {
        const start = g.runs[r]!;
        yield flush();
        at = start;
      }
      runs.push(g.runs[r]!, g.runs[r + 1]!, g.runs[r + 2]!, g.runs[r + 3]!);
    }
  }
  if (at >= 0) yield flush();
}
