import assert from "node:assert/strict";
import { createWasmKernels } from "./backend.ts";
import { quantizeJs } from "../js/quantize.ts";
import { randomFloats } from "../_testing.ts";

Deno.test("createWasmKernels() alloc() hands out views of the WASM memory that survive its growth", async () => {
  const k = await createWasmKernels();
  const a = k.alloc("float32", 1000);
  const b = k.alloc("int8", 1000);
  assert.equal(a.buffer, b.buffer, "one memory");
  assert.equal((a.buffer as ArrayBuffer).resizable, true, "a resizable buffer, never detached");
  a.set(randomFloats(1000, { seed: 1 }));
  const before = a.slice();
  const size = a.buffer.byteLength;
  const big = k.alloc("float32", 16 << 20);
  assert.ok(a.buffer.byteLength > size, "the memory grew");
  assert.equal(big.buffer, a.buffer);
  assert.deepEqual(a, before);
  assert.equal(a.length, 1000);
  k.dispose();
});

Deno.test("createWasmKernels() keeps allocated arrays intact while calls use scratch memory", async () => {
  const k = await createWasmKernels();
  const pinned = [k.alloc("float32", 4099), k.alloc("int8", 4099), k.alloc("float32", 77)];
  pinned[0]!.set(randomFloats(4099, { seed: 2 }));
  pinned[1]!.fill(-5);
  pinned[2]!.fill(2.5);
  const copies = pinned.map((p) => p.slice());
  // Calls whose scratch (matrices, chunks of long inputs) is far larger than the arrays.
  const m = randomFloats(300 * 300, { seed: 3 });
  await k.matmul(m, m, { m: 300, k: 300, n: 300 });
  await k.reduce("sum", randomFloats(500000, { seed: 4 }));
  const x = randomFloats(200000, { seed: 5, scale: 3 });
  const options = { type: "int8" as const, scale: new Float32Array([0.05]) };
  assert.deepEqual(await k.quantize(x, options), quantizeJs(x, options));
  pinned.forEach((p, i) => assert.deepEqual(p, copies[i], `array ${i}`));
  // A freed region is handed out again (first fit), zero-filled, without touching its neighbours.
  const middle = pinned[1]!;
  k.free(middle);
  const again = k.alloc("uint8", 4099);
  assert.equal(again.byteOffset, middle.byteOffset);
  assert.ok(again.every((v) => v === 0));
  assert.deepEqual(pinned[0], copies[0]);
  assert.deepEqual(pinned[2], copies[2]);
  k.dispose();
});

Deno.test("createWasmKernels() quantize() reads and writes allocated arrays in place across chunks", async () => {
  const k = await createWasmKernels();
  const n = 5 * 40001; // over three WASM chunks of 65536
  const x = k.alloc("float32", n);
  x.set(randomFloats(n, { seed: 6, scale: 4 }));
  const options = { type: "uint8" as const, shape: [n / 5, 5], axis: 1, ...perAxis(5) };
  const out = k.alloc("uint8", n);
  assert.equal(await k.quantize(x, { ...options, out }), out);
  assert.deepEqual(out, quantizeJs(x, options));
  // A subarray of an allocated array is in place too.
  const part = x.subarray(5, n);
  const outPart = out.subarray(5, n);
  const partOptions = { ...options, shape: [n / 5 - 1, 5] };
  outPart.fill(0);
  await k.quantize(part, { ...partOptions, out: outPart });
  assert.deepEqual(outPart, quantizeJs(part, partOptions));
  k.dispose();
});

function perAxis(count: number): { scale: Float32Array; zeroPoint: Int32Array } {
  return {
    scale: Float32Array.from({ length: count }, (_, i) => 0.01 * (i + 1)),
    zeroPoint: Int32Array.from({ length: count }, (_, i) => 100 + i),
  };
}

Deno.test("createWasmKernels() alloc() falls back to ordinary arrays without resizable WASM buffers", async () => {
  const proto = WebAssembly.Memory.prototype as { toResizableBuffer?: unknown };
  const saved = Object.getOwnPropertyDescriptor(proto, "toResizableBuffer");
  delete proto.toResizableBuffer;
  try {
    const k = await createWasmKernels();
    const x = k.alloc("float32", 100);
    assert.equal((x.buffer as ArrayBuffer).resizable, false);
    assert.equal(x.buffer.byteLength, 400, "an array of its own, not a view of WASM memory");
    x.set(randomFloats(100, { seed: 7 }));
    const out = k.alloc("int4", 100);
    const options = { type: "int4" as const, shape: [100], scale: new Float32Array([0.25]) };
    assert.equal(await k.quantize(x, { ...options, out }), out);
    assert.deepEqual(out, quantizeJs(x, options));
    k.free(x);
    assert.throws(() => k.free(x), RangeError);
    k.dispose();
  } finally {
    if (saved !== undefined) Object.defineProperty(proto, "toResizableBuffer", saved);
  }
});
