import assert from "node:assert/strict";
import { segments } from "./_segments.ts";

function cover(
  view: { outer: number; channels: number; inner: number },
  chunk: number,
  block: number,
): number[] {
  const seen: number[] = [];
  for (const s of segments(view, { chunk, block })) {
    assert.ok(s.length <= chunk, "piece too long");
    assert.equal(s.length, s.outer * s.channels * s.inner);
    assert.equal(s.offset, (s.o * view.channels + s.c) * view.inner + s.i);
    assert.ok(s.channels === 1 || s.c % block === 0, "channel range not block-aligned");
    for (let e = s.offset; e < s.offset + s.length; e++) seen.push(e);
  }
  return seen;
}

Deno.test("segments() covers every element once, in order, in pieces of at most the chunk", () => {
  for (
    const view of [
      { outer: 1, channels: 1, inner: 100 },
      { outer: 7, channels: 3, inner: 5 },
      { outer: 2, channels: 50, inner: 3 },
      { outer: 3, channels: 4, inner: 33 },
      { outer: 0, channels: 4, inner: 3 },
    ]
  ) {
    for (const [chunk, block] of [[16, 1], [16, 4], [7, 3], [1000, 8]] as const) {
      const seen = cover(view, chunk, block);
      const total = view.outer * view.channels * view.inner;
      assert.deepEqual(
        seen,
        Array.from({ length: total }, (_, i) => i),
        JSON.stringify({ view, chunk, block }),
      );
    }
  }
});
