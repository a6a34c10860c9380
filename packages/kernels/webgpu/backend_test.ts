import assert from "node:assert/strict";
import { GpuContext } from "./_context.ts";
import { maskProgram, reduceKeysProgram } from "./_programs.ts";
import { createWebGpuKernels } from "./backend.ts";
import { maskSmallestJs, selectMagnitudeJs } from "../js/select_magnitude.ts";
import { reduceJs } from "../js/reduce.ts";
import { assertSameFloats, randomFloats, withSpecials } from "../_testing.ts";

const ignore = (await (navigator as { gpu?: GPU }).gpu?.requestAdapter()) == null;

Deno.test({
  name: "GpuContext.pipeline() compiles one pipeline per program key",
  ignore,
  fn: async () => {
    const gpu = await GpuContext.create();
    try {
      const a = gpu.pipeline(reduceKeysProgram("min"));
      assert.equal(gpu.pipeline(reduceKeysProgram("min")), a);
      assert.equal(gpu.pipelineCount, 1);
      gpu.pipeline(reduceKeysProgram("max"));
      gpu.pipeline(maskProgram("mask"));
      assert.equal(gpu.pipelineCount, 3);
      assert.notEqual(reduceKeysProgram("min").key, reduceKeysProgram("absmax").key);
    } finally {
      gpu.destroy();
    }
  },
});

Deno.test({
  name: "GpuContext.create() sizes chunks by a forced storage-buffer limit",
  ignore,
  fn: async () => {
    const gpu = await GpuContext.create({ maxStorageBufferBindingSize: 1024 });
    try {
      assert.equal(gpu.chunk, 256);
    } finally {
      gpu.destroy();
    }
    await assert.rejects(() => GpuContext.create({ maxStorageBufferBindingSize: 100 }), RangeError);
  },
});

Deno.test({
  name: "createWebGpuKernels() gives exact results through 1 KiB chunks",
  ignore,
  fn: async () => {
    const k = await createWebGpuKernels({ maxStorageBufferBindingSize: 1024 });
    try {
      assert.equal(k.backend, "webgpu");
      // 40 chunks of 256 elements; per-axis outputs span chunk borders.
      const x = withSpecials(randomFloats(10 * 1000 + 7, { seed: 6 }), { seed: 6 });
      for (const op of ["min", "max", "absmax"] as const) {
        assertSameFloats(await k.reduce(op, x), reduceJs(op, x), op);
        const options = { shape: [10007], axis: 0 };
        const y = x.subarray(0, 3 * 3333);
        const per = { shape: [3, 3333], axis: 0 };
        assertSameFloats(await k.reduce(op, x, options), reduceJs(op, x, options), `${op} axis`);
        assertSameFloats(await k.reduce(op, y, per), reduceJs(op, y, per), `${op} rows`);
      }
      const ties = Float32Array.from({ length: 3000 }, (_, i) => (i % 3) - 1);
      const s = await k.selectMagnitude(ties, 1500);
      assert.deepEqual(s, selectMagnitudeJs(ties, 1500));
      const mine = ties.slice();
      const theirs = ties.slice();
      assert.equal(await k.maskSmallest(mine, s), maskSmallestJs(theirs, s));
      assertSameFloats(mine, theirs);
    } finally {
      k.dispose();
    }
  },
});

Deno.test({
  name: "GpuContext.dispatch() refuses a storage binding above the forced limit",
  ignore,
  fn: async () => {
    const gpu = await GpuContext.create({ maxStorageBufferBindingSize: 1024 });
    const big = gpu.storage(2048);
    const keys = gpu.storage(16);
    const params = gpu.uniform([1, 0, 1, 1]);
    try {
      assert.throws(
        () =>
          gpu.dispatch(reduceKeysProgram("max"), {
            buffers: [big, keys, keys, params],
            invocations: 1,
          }),
        RangeError,
      );
    } finally {
      for (const b of [big, keys, params]) b.destroy();
      gpu.destroy();
    }
  },
});
