import assert from "node:assert/strict";
import { createWasmCopyBaseline } from "./copy_baseline.ts";

Deno.test("createWasmCopyBaseline() returns a copy that runs for any size", async () => {
  for (const bytes of [0, 1, 1 << 20]) {
    const copy = await createWasmCopyBaseline(bytes);
    assert.equal(copy(), undefined);
  }
});
