import assert from "node:assert/strict";
import { buildWasm, writeWasm } from "./build_wasm.ts";

const COMMITTED = new URL("../_wasm/", import.meta.url);

Deno.test("buildWasm() reproduces the committed kernels.wasm and kernels_wasm.ts byte for byte", async () => {
  const dir = await Deno.makeTempDir({ prefix: "kernels_wasm_" });
  try {
    await writeWasm(dir);
    const fresh = await Deno.readFile(`${dir}/kernels.wasm`);
    const committed = await Deno.readFile(new URL("kernels.wasm", COMMITTED));
    assert.ok(fresh.length > 0);
    assert.deepEqual(fresh, committed, "run `deno task build:wasm` and commit _wasm/");
    assert.equal(
      await Deno.readTextFile(`${dir}/kernels_wasm.ts`),
      await Deno.readTextFile(new URL("kernels_wasm.ts", COMMITTED)),
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("buildWasm() gives the same bytes twice and a module with SIMD that validates", async () => {
  const a = await buildWasm();
  const b = await buildWasm();
  assert.deepEqual(a.wasm, b.wasm);
  assert.ok(WebAssembly.validate(a.wasm.slice()));
  const exports = WebAssembly.Module.exports(new WebAssembly.Module(a.wasm.slice())).map((e) =>
    e.name
  );
  assert.deepEqual(exports.sort(), [
    "affine",
    "codebookEncode",
    "copy",
    "heapBase",
    "histHigh",
    "histLow",
    "histogram",
    "log2Quantize",
    "maskBelow",
    "matmulF32",
    "matmulI8",
    "nmMask",
    "reduceAxis",
    "reduceBlocked",
    "reduceWhole",
  ]);
});
