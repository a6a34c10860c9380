import assert from "node:assert/strict";
import { createKernels, isHardwareAdapter } from "./create_kernels.ts";

Deno.test("createKernels() runs the backend asked for and says which", async () => {
  assert.equal((await createKernels({ backend: "js" })).backend, "js");
  assert.equal((await createKernels({ backend: "wasm" })).backend, "wasm");
  await assert.rejects(() => createKernels({ backend: "cuda" as "js" }), TypeError);
});

Deno.test({
  name: "createKernels() takes any adapter, the software one included, when asked for webgpu",
  ignore: (await navigator.gpu?.requestAdapter()) == null,
  fn: async () => {
    const kernels = await createKernels({ backend: "webgpu" });
    assert.equal(kernels.backend, "webgpu");
    assert.deepEqual(
      await kernels.reduce("max", new Float32Array([1, 3, 2])),
      new Float32Array([3]),
    );
    kernels.dispose();
  },
});

Deno.test("createKernels() with auto never picks a software adapter", async () => {
  const kernels = await createKernels();
  const adapter = await navigator.gpu?.requestAdapter();
  if (adapter === null || adapter === undefined || !isHardwareAdapter(adapter)) {
    assert.equal(kernels.backend, "wasm");
  } else {
    assert.notEqual(kernels.backend, "js");
  }
});

Deno.test("isHardwareAdapter() rejects fallback adapters and software rasterizers", () => {
  assert.equal(isHardwareAdapter({ info: { isFallbackAdapter: true, vendor: "nvidia" } }), false);
  assert.equal(
    isHardwareAdapter({ info: { vendor: "mesa", description: "llvmpipe (LLVM 19)" } }),
    false,
  );
  assert.equal(
    isHardwareAdapter({ info: { vendor: "google", architecture: "swiftshader" } }),
    false,
  );
  assert.equal(isHardwareAdapter({ isFallbackAdapter: true }), false);
  assert.equal(isHardwareAdapter({ info: { vendor: "nvidia", description: "NVIDIA H100" } }), true);
});
