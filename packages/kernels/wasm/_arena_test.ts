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

Deno.test("WasmArena.pin() keeps regions across reset(), first fit, with scratch above them", async () => {
  const arena = await WasmArena.create();
  assert.equal(arena.pinnable, true);
  const a = arena.pin(100);
  const b = arena.pin(1000);
  const c = arena.pin(40);
  assert.ok(a % 16 === 0 && b % 16 === 0 && c % 16 === 0);
  assert.ok(b >= a + 100 && c >= b + 1000);
  arena.reset();
  assert.ok(arena.alloc(8) >= c + 40, "scratch above every pinned region");
  assert.equal(arena.pinned(b, 1000), true);
  assert.equal(arena.pinned(b + 10, 20), true);
  assert.equal(arena.pinned(b + 990, 20), false, "past the region's end");
  assert.equal(arena.unpin(b, 999), false, "the exact region only");
  assert.equal(arena.unpin(b, 1000), true);
  assert.equal(arena.pinned(b, 1000), false);
  assert.equal(arena.pin(500), b, "the gap is reused");
  assert.ok(arena.pin(600) >= c + 40, "too big for the rest of the gap");
  arena.clear();
  assert.equal(arena.pin(16), a);
});
