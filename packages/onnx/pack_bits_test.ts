import assert from "node:assert/strict";
import {
  pack2Bit,
  pack4Bit,
  unpackInt2,
  unpackInt4,
  unpackUint2,
  unpackUint4,
} from "./pack_bits.ts";
import { seededInts } from "../../test/support/prng.ts";

Deno.test("pack4Bit() puts the first value in the low nibble", () => {
  assert.deepEqual(pack4Bit(new Int8Array([1, -1, 7])), new Uint8Array([0xf1, 0x07]));
  assert.deepEqual(pack4Bit(new Uint8Array([0xa, 0x5])), new Uint8Array([0x5a]));
  assert.deepEqual(pack4Bit([]), new Uint8Array());
});

Deno.test("pack2Bit() puts the first value in the lowest two bits", () => {
  assert.deepEqual(pack2Bit(new Uint8Array([0, 1, 2, 3])), new Uint8Array([0xe4]));
  assert.deepEqual(pack2Bit(new Int8Array([-1, -2, 1, 0, 1])), new Uint8Array([0x1b, 0x01]));
});

Deno.test("unpackInt4() and unpackUint4() invert pack4Bit() for odd and even counts", () => {
  for (const count of [0, 1, 2, 7, 8, 1001]) {
    const signed = Int8Array.from(seededInts(count, count + 1, { min: -8, max: 7 }));
    assert.deepEqual(unpackInt4(pack4Bit(signed), count), signed, `int4 x${count}`);
    const unsigned = Uint8Array.from(seededInts(count, count + 2, { min: 0, max: 15 }));
    assert.deepEqual(unpackUint4(pack4Bit(unsigned), count), unsigned, `uint4 x${count}`);
  }
  // The same byte read both ways: sign extension only in the signed one.
  assert.deepEqual(unpackInt4(new Uint8Array([0x8f]), 2), new Int8Array([-1, -8]));
  assert.deepEqual(unpackUint4(new Uint8Array([0x8f]), 2), new Uint8Array([15, 8]));
});

Deno.test("unpackInt2() and unpackUint2() invert pack2Bit() for every count modulo 4", () => {
  for (const count of [0, 1, 2, 3, 4, 5, 1003]) {
    const signed = Int8Array.from(seededInts(count, count + 3, { min: -2, max: 1 }));
    assert.deepEqual(unpackInt2(pack2Bit(signed), count), signed, `int2 x${count}`);
    const unsigned = Uint8Array.from(seededInts(count, count + 4, { min: 0, max: 3 }));
    assert.deepEqual(unpackUint2(pack2Bit(unsigned), count), unsigned, `uint2 x${count}`);
  }
  assert.deepEqual(unpackInt2(new Uint8Array([0xe4]), 4), new Int8Array([0, 1, -2, -1]));
});

Deno.test("pack4Bit() and pack2Bit() reject values that do not fit", () => {
  assert.throws(
    () => pack4Bit([1, 16]),
    new RangeError("Cannot pack value 16 at index 1 into 4 bits: it is not in -8..15"),
  );
  assert.throws(() => pack4Bit([-9]), RangeError);
  assert.throws(() => pack4Bit([0.5]), RangeError);
  assert.throws(() => pack2Bit([4]), RangeError);
  assert.throws(() => pack2Bit([-3]), RangeError);
});

Deno.test("unpackInt4() rejects a count the bytes cannot hold", () => {
  assert.throws(
    () => unpackInt4(new Uint8Array(1), 3),
    new RangeError("Cannot unpack 3 values: 1 bytes hold at most 2"),
  );
  assert.throws(() => unpackUint2(new Uint8Array(1), 5), RangeError);
  assert.throws(() => unpackUint2(new Uint8Array(1), -1), RangeError);
});
