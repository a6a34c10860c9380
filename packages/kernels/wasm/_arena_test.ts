import assert from "node:assert/strict";
import { WasmArena } from "./_arena.ts";

Deno.test("WasmArena.alloc() aligns to 16 bytes, grows the memory, and reset() reuses it", async () => {
  const arena = await WasmArena.create();
  const a = arena.alloc(3);
  const b = arena.alloc(5);
  assert.equal(a % 16, 0);
  assert.equal(b % 16, 0);
  assert.ok(b >= a + 3);
  const big = arena.alloc(10 << 20);
  assert.ok(arena.byteLength >= big + (10 << 20));
  const size = arena.byteLength;
  for (let i = 0; i < 100; i++) {
    arena.reset();
    arena.alloc(10 << 20);
  }
  assert.equal(arena.byteLength, size, "memory must not grow across calls");
  arena.reset();
  assert.equal(arena.alloc(3), a);
});
