import assert from "node:assert/strict";
import { axisView, paramRow } from "../_shape.ts";
import { RUN_LENGTH, runChunks } from "./_runs.ts";

/** The output of every element, by the reference's enumeration. */
function outputsOf(view: ReturnType<typeof axisView>): Uint32Array {
  const out = new Uint32Array(view.outer * view.channels * view.inner);
  let e = 0;
  for (let o = 0; o < view.outer; o++) {
    for (let c = 0; c < view.channels; c++) {
      const row = paramRow(view, { o, c });
      for (let i = 0; i < view.inner; i++, e++) out[e] = row + i * view.innerStride;
    }
  }
  return out;
}

Deno.test("runChunks() covers every element once, in its output's runs, within the limits", () => {
  const shapes = [[7], [3, 5], [2, 3, 9], [2, 700], [700, 2], [3, 40, 50], [1, 5000], [4, 1, 3]];
  for (const cap of [256, 1024, 1 << 20]) {
    for (const shape of shapes) {
      const size = shape.reduce((a, b) => a * b, 1);
      for (let axis = -1; axis < shape.length; axis++) {
        for (const blockSize of [undefined, 1, 4, 7]) {
          if (axis < 0 && blockSize !== undefined) continue;
          const options = axis < 0
            ? { shape }
            : blockSize === undefined
            ? { shape, axis }
            : { shape, axis, blockSize };
          const view = axisView(size, { ...options, verb: "reduce" });
          const expected = outputsOf(view);
          const seen = new Uint8Array(size);
          const label = `[${shape}] axis ${axis} block ${blockSize} cap ${cap}`;
          for (const chunk of runChunks(view, size, cap)) {
            assert.ok(chunk.length <= cap, `${label}: chunk of ${chunk.length}`);
            assert.ok(chunk.outputs.length <= Math.floor(cap / 3), `${label}: runs`);
            for (let r = 0; r < chunk.outputs.length; r++) {
              const [start, stride, count] = chunk.runs.subarray(3 * r, 3 * r + 3);
              assert.ok(count! >= 1 && count! <= RUN_LENGTH, `${label}: run of ${count}`);
              for (let t = 0; t < count!; t++) {
                const local = start! + t * stride!;
                assert.ok(local < chunk.length, `${label}: element outside its chunk`);
                const e = chunk.at + local;
                assert.equal(seen[e], 0, `${label}: element ${e} twice`);
                seen[e] = 1;
                assert.equal(chunk.outputs[r], expected[e], `${label}: element ${e}'s output`);
              }
            }
          }
          assert.ok(seen.every((s) => s === 1), `${label}: an element is missing`);
        }
      }
    }
  }
});
