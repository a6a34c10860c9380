import assert from "node:assert/strict";
import { decodeNpz } from "./npz.ts";
import { deflateRaw, littleEndianBytes, npyBytes, zipBytes } from "./_testing.ts";

const X = new Float32Array([0.5, -1, 2, 4, 8, 16]);
const Y = new BigInt64Array([3n, 1n]);

function xNpy(): Uint8Array {
  return npyBytes(
    "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }",
    littleEndianBytes(X),
  );
}

function yNpy(): Uint8Array {
  return npyBytes(
    "{'descr': '<i8', 'fortran_order': False, 'shape': (2,), }",
    littleEndianBytes(Y),
  );
}

function assertXY(
  arrays: Record<string, { shape: readonly number[]; data: ArrayLike<unknown> }>,
): void {
  assert.deepEqual(Object.keys(arrays), ["x", "y"]);
  assert.deepEqual(arrays.x?.shape, [2, 3]);
  assert.deepEqual(Array.from(arrays.x?.data ?? []), Array.from(X));
  assert.deepEqual(Array.from(arrays.y?.data ?? []), Array.from(Y));
}

Deno.test("decodeNpz() reads a hand-written zip of stored entries (np.savez)", async () => {
  assertXY(
    await decodeNpz(zipBytes([{ name: "x.npy", data: xNpy() }, { name: "y.npy", data: yNpy() }])),
  );
});

Deno.test("decodeNpz() inflates deflated entries made with CompressionStream (np.savez_compressed)", async () => {
  const x = xNpy();
  const y = yNpy();
  const archive = zipBytes([
    { name: "x.npy", data: x, method: 8, stored: await deflateRaw(x) },
    { name: "y.npy", data: y, method: 8, stored: await deflateRaw(y) },
  ], { comment: "made by hand" });
  assertXY(await decodeNpz(archive));
});

Deno.test("decodeNpz() reads zip64 sizes, offsets and end records", async () => {
  const x = xNpy();
  const archive = zipBytes([
    { name: "x.npy", data: x, method: 8, stored: await deflateRaw(x) },
    { name: "y.npy", data: yNpy() },
  ], { zip64: true });
  assertXY(await decodeNpz(archive));
});

Deno.test("decodeNpz() rejects encrypted entries and unsupported methods with TypeError", async () => {
  for (
    const [entry, pattern] of [
      [{ name: "x.npy", data: xNpy(), flags: 1 }, /'x.npy': it is encrypted/],
      [{ name: "x.npy", data: xNpy(), method: 99 }, /'x.npy': it is encrypted/],
      [{ name: "x.npy", data: xNpy(), method: 12 }, /compression method 12 is not supported/],
      [{ name: "x.txt", data: xNpy() }, /'x.txt' is not an .npy file/],
    ] as const
  ) {
    await assert.rejects(decodeNpz(zipBytes([entry])), (e: unknown) => {
      assert.ok(e instanceof TypeError, String(e));
      assert.match(e.message, pattern);
      return true;
    });
  }
});

Deno.test("decodeNpz() rejects damaged archives with SyntaxError", async () => {
  const good = zipBytes([{ name: "x.npy", data: xNpy() }]);
  const truncated = good.subarray(0, good.length - 30);
  const badCrc = zipBytes([{ name: "x.npy", data: xNpy(), crc: 1234 }]);
  const badDeflate = zipBytes([{
    name: "x.npy",
    data: xNpy(),
    method: 8,
    stored: new Uint8Array([0xff, 0xff, 0xff]),
  }]);
  const badNpy = zipBytes([{ name: "x.npy", data: new TextEncoder().encode("not npy") }]);
  for (
    const [bytes, pattern] of [
      [truncated, /no end-of-central-directory/],
      [new Uint8Array(10), /no end-of-central-directory/],
      [badCrc, /CRC-32 of 'x.npy' does not match/],
      [badDeflate, /deflate data are damaged|inflates to/],
      [badNpy, /Cannot decode NPZ entry 'x': the file does not start with/],
    ] as const
  ) {
    await assert.rejects(decodeNpz(bytes), (e: unknown) => {
      assert.ok(e instanceof SyntaxError, String(e));
      assert.match(e.message, pattern);
      return true;
    });
  }
});

Deno.test("decodeNpz() keeps an entry named __proto__ as an array", async () => {
  const arrays = await decodeNpz(zipBytes([{ name: "__proto__.npy", data: yNpy() }]));
  assert.deepEqual(Object.keys(arrays), ["__proto__"]);
  assert.deepEqual(arrays["__proto__"]?.shape, [2]);
});
