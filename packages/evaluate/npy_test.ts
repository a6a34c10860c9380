import assert from "node:assert/strict";
import { decodeNpy } from "./npy.ts";
import { bigEndianBytes, littleEndianBytes, npyBytes } from "./_testing.ts";

function header(descr: string, shape: string, fortran = "False"): string {
  return `{'descr': '${descr}', 'fortran_order': ${fortran}, 'shape': ${shape}, }`;
}

const CASES = [
  { code: "i1", dtype: "int8", values: new Int8Array([-128, -1, 0, 127]) },
  { code: "u1", dtype: "uint8", values: new Uint8Array([0, 1, 200, 255]) },
  { code: "i2", dtype: "int16", values: new Int16Array([-32768, -2, 3, 32767]) },
  { code: "u2", dtype: "uint16", values: new Uint16Array([0, 1, 40000, 65535]) },
  { code: "i4", dtype: "int32", values: new Int32Array([-(2 ** 31), -5, 7, 2 ** 31 - 1]) },
  { code: "u4", dtype: "uint32", values: new Uint32Array([0, 5, 2 ** 31, 2 ** 32 - 1]) },
  { code: "i8", dtype: "int64", values: new BigInt64Array([-(2n ** 63n), -1n, 1n, 2n ** 62n]) },
  { code: "u8", dtype: "uint64", values: new BigUint64Array([0n, 1n, 2n ** 63n, 2n ** 64n - 1n]) },
  { code: "f4", dtype: "float32", values: new Float32Array([-1.5, 0, 3.25, 1e30]) },
  { code: "f8", dtype: "float64", values: new Float64Array([-1e-300, 0, Math.PI, 1e300]) },
] as const;

for (const c of CASES) {
  Deno.test(`decodeNpy() reads <${c.code} and >${c.code} as ${c.dtype}`, () => {
    for (
      const [order, bytes] of [["<", littleEndianBytes(c.values)], [">", bigEndianBytes(c.values)]]
    ) {
      const array = decodeNpy(npyBytes(header(`${order}${c.code}`, "(2, 2)"), bytes as Uint8Array));
      assert.equal(array.dtype, c.dtype);
      assert.deepEqual(array.shape, [2, 2]);
      assert.deepEqual(
        Array.from(array.data as ArrayLike<unknown>),
        Array.from(c.values as ArrayLike<unknown>),
      );
    }
  });
}

Deno.test("decodeNpy() reads |b1 as bool 0/1 and <f2/>f2 widened to float32", () => {
  const bools = decodeNpy(npyBytes(header("|b1", "(3,)"), new Uint8Array([1, 0, 1])));
  assert.equal(bools.dtype, "bool");
  assert.deepEqual(Array.from(bools.data as Uint8Array), [1, 0, 1]);
  // float16 bits: 1.0 = 0x3c00, -2.0 = 0xc000, 0.5 = 0x3800, 65504 = 0x7bff.
  const bits = new Uint16Array([0x3c00, 0xc000, 0x3800, 0x7bff]);
  for (const [order, bytes] of [["<", littleEndianBytes(bits)], [">", bigEndianBytes(bits)]]) {
    const half = decodeNpy(npyBytes(header(`${order}f2`, "(4,)"), bytes as Uint8Array));
    assert.equal(half.dtype, "float16");
    assert.ok(half.data instanceof Float32Array);
    assert.deepEqual(Array.from(half.data), [1, -2, 0.5, 65504]);
  }
});

Deno.test("decodeNpy() reads format versions 1.0, 2.0 and 3.0 (4-byte length, UTF-8 header)", () => {
  const data = littleEndianBytes(new Float32Array([1, 2, 3]));
  for (const major of [1, 2, 3] as const) {
    const bytes = npyBytes(header("<f4", "(3,)"), data, { major });
    assert.equal(bytes[6], major);
    assert.equal((bytes.length - data.length) % 64, 0);
    assert.deepEqual(Array.from(decodeNpy(bytes).data as Float32Array), [1, 2, 3]);
  }
  // A version 3.0 header may hold UTF-8 (here in an extra key that readers ignore).
  const utf8 = npyBytes(
    "{'descr': '<f4', 'fortran_order': False, 'shape': (3,), 'note': 'héllo ✓'}",
    data,
    {
      major: 3,
    },
  );
  assert.deepEqual(decodeNpy(utf8).shape, [3]);
});

Deno.test("decodeNpy() parses header dicts robustly: quotes, spacing, order, scalars, L suffixes", () => {
  const one = littleEndianBytes(new Float64Array([7]));
  const six = littleEndianBytes(new Float64Array(6));
  const variants: [string, Uint8Array, number[]][] = [
    [`{"shape": (2,3), "fortran_order": False, "descr": "<f8"}`, six, [2, 3]],
    [`{ 'descr' : '<f8' ,'fortran_order':False,'shape':( 2 , 3 , ) }`, six, [2, 3]],
    [`{'descr': '<f8', 'fortran_order': False, 'shape': (2L, 3L), }`, six, [2, 3]],
    [`{'descr': '<f8', 'fortran_order': False, 'shape': [6], }`, six, [6]],
    [`{'descr': '<f8', 'fortran_order': False, 'shape': (), }`, one, []],
    [`{'descr': '<f8', 'fortran_order': False, 'shape': (0, 4), }`, new Uint8Array(0), [0, 4]],
  ];
  for (const [text, data, shape] of variants) {
    assert.deepEqual(decodeNpy(npyBytes(text, data, { align: 16 })).shape, shape, text);
  }
  assert.deepEqual(Array.from(decodeNpy(npyBytes(header("<f8", "()"), one)).data as Float64Array), [
    7,
  ]);
});

Deno.test("decodeNpy() rejects Fortran order unless the layout equals C order", () => {
  const data = littleEndianBytes(new Float32Array(6));
  assert.throws(
    () => decodeNpy(npyBytes(header("<f4", "(2, 3)", "True"), data)),
    (e: unknown) => e instanceof TypeError && /Fortran order/.test(e.message),
  );
  // A vector in Fortran order has the same bytes as in C order.
  assert.deepEqual(decodeNpy(npyBytes(header("<f4", "(6, 1)", "True"), data)).shape, [6, 1]);
});

Deno.test("decodeNpy() names what is wrong with a malformed or unsupported file", () => {
  const f4 = littleEndianBytes(new Float32Array([1, 2]));
  const cases: [Uint8Array, ErrorConstructor | TypeErrorConstructor, RegExp][] = [
    [new TextEncoder().encode("NUMPY not really"), SyntaxError, /does not start with/],
    [
      (() => {
        const b = npyBytes(header("<f4", "(2,)"), f4);
        b[6] = 4;
        return b;
      })(),
      SyntaxError,
      /version 4\.0/,
    ],
    [npyBytes(header("<f4", "(2,)"), f4).subarray(0, 20), SyntaxError, /past the end/],
    [npyBytes("{'descr': '<f4', 'shape': (2,)}", f4), SyntaxError, /fortran_order/],
    [
      npyBytes("{'descr': '<f4', 'fortran_order': False, 'shape': (2, -1)}", f4),
      SyntaxError,
      /shape/,
    ],
    [npyBytes("{'descr': '<f4', 'fortran_order': False, 'shape': (2,)", f4), SyntaxError, /header/],
    [npyBytes(header("<c8", "(1,)"), new Uint8Array(8)), TypeError, /dtype '<c8' is not supported/],
    [npyBytes(header("|O", "(1,)"), new Uint8Array(8)), TypeError, /dtype '\|O'/],
    [npyBytes(header("<U3", "(1,)"), new Uint8Array(12)), TypeError, /dtype '<U3'/],
    [
      npyBytes(
        "{'descr': [('a', '<f4')], 'fortran_order': False, 'shape': (1,)}",
        new Uint8Array(4),
      ),
      TypeError,
      /structured/,
    ],
    [npyBytes(header("<f4", "(3,)"), f4), RangeError, /needs 12 data bytes, the file holds 8/],
    [npyBytes(header("<f4", "(1,)"), f4), RangeError, /needs 4 data bytes, the file holds 8/],
  ];
  for (const [bytes, Class, pattern] of cases) {
    assert.throws(() => decodeNpy(bytes), (e: unknown) => {
      assert.ok(e instanceof Class, `${e} should be a ${Class.name}`);
      assert.match((e as Error).message, /^Cannot decode NPY: /);
      assert.match((e as Error).message, pattern);
      return true;
    });
  }
});

Deno.test("decodeNpy() returns aligned arrays that do not alias the input", () => {
  const file = npyBytes(header("<f4", "(2,)"), littleEndianBytes(new Float32Array([1, 2])), {
    align: 7,
  });
  const padded = new Uint8Array(file.length + 1);
  padded.set(file, 1);
  const array = decodeNpy(padded.subarray(1));
  (array.data as Float32Array)[0] = 9;
  assert.deepEqual(Array.from(decodeNpy(padded.subarray(1)).data as Float32Array), [1, 2]);
});
