import assert from "node:assert/strict";
import { codebookDecodeJs, codebookEncodeJs } from "./codebook.ts";

Deno.test("codebookEncodeJs() picks the nearest code, the lower index on ties and 0 for NaN", () => {
  const book = new Float32Array([1, -1, 0, 1]);
  const x = new Float32Array([0.9, -3, 0.5, -0.5, 100, NaN, -0, Infinity]);
  // 0.5 is as near to 0 (index 2) as to 1 (index 0): index 0 wins; -0.5 ties 1 and 2: 1 wins.
  assert.deepEqual(codebookEncodeJs(x, book), new Uint8Array([0, 1, 0, 1, 0, 0, 2, 0]));
});

Deno.test("codebookEncodeJs() returns 16-bit indices above 256 codes", () => {
  const book = Float32Array.from({ length: 300 }, (_, i) => i);
  const idx = codebookEncodeJs(new Float32Array([299.4, 3]), book);
  assert.ok(idx instanceof Uint16Array);
  assert.deepEqual(idx, new Uint16Array([299, 3]));
  assert.deepEqual(codebookDecodeJs(idx, book), new Float32Array([299, 3]));
});

Deno.test("codebookEncodeJs() rejects empty and non-finite codebooks; decode rejects bad indices", () => {
  assert.throws(() => codebookEncodeJs(new Float32Array(1), new Float32Array(0)), RangeError);
  assert.throws(() => codebookEncodeJs(new Float32Array(1), new Float32Array([NaN])), RangeError);
  assert.throws(() => codebookDecodeJs(new Uint8Array([2]), new Float32Array(2)), RangeError);
});
