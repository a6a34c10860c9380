import assert from "node:assert/strict";
import { create } from "@bufbuild/protobuf";
import {
  StringStringEntryProtoSchema,
  type TensorProto,
  TensorProto_DataLocation,
  TensorProto_DataType as T,
  TensorProtoSchema,
} from "./_gen/onnx_pb.ts";
import { readSilero, SILERO_VERSIONS } from "../../test/support/silero.ts";
import { makeTensor } from "./build.ts";
import { modelTensors } from "./model_tensors.ts";
import {
  elementCount,
  setTensorData,
  type TensorArray,
  tensorByteLength,
  tensorData,
  withTensorData,
} from "./tensor.ts";

function tensor(dataType: T, dims: number[], fields: Partial<TensorProto> = {}): TensorProto {
  return create(
    TensorProtoSchema,
    {
      name: "t",
      dataType,
      dims: dims.map(BigInt),
      ...fields,
    } as Parameters<typeof create<typeof TensorProtoSchema>>[1],
  );
}

/** `bytes` placed at byte offset `offset` of a larger buffer. */
function at(bytes: Uint8Array, offset: number): Uint8Array {
  const buffer = new Uint8Array(offset + bytes.length + 8);
  buffer.set(bytes, offset);
  return buffer.subarray(offset, offset + bytes.length);
}

function bytesOf(array: TensorArray): Uint8Array {
  return new Uint8Array(array.buffer, array.byteOffset, array.byteLength).slice();
}

Deno.test("tensorData() returns a zero-copy view over aligned raw_data", () => {
  const cases: TensorArray[] = [
    new Float32Array([1.5, -2, 3]),
    new Float64Array([1e300, -0]),
    new Int16Array([-3, 7]),
    new BigInt64Array([-(2n ** 62n), 5n]),
    new Uint32Array([4e9, 1]),
  ];
  for (const values of cases) {
    const raw = at(bytesOf(values), 16);
    const t = makeTensor("t", values);
    t.rawData = raw;
    const view = tensorData(t) as TensorArray;
    assert.deepEqual(view, values, values.constructor.name);
    assert.equal(view.buffer, raw.buffer, `${values.constructor.name} shares the buffer`);
    assert.equal(view.byteOffset, 16);
    view[0] = typeof view[0] === "bigint" ? 9n : 9 as never;
    assert.notDeepEqual(
      raw.subarray(0, values.BYTES_PER_ELEMENT),
      bytesOf(values).subarray(0, values.BYTES_PER_ELEMENT),
    );
  }
});

Deno.test("tensorData() copies raw_data at an unaligned byte offset", () => {
  const cases: TensorArray[] = [
    new Float32Array([1.5, -2, 3]),
    new Float64Array([1e300, -0]),
    new Int16Array([-3, 7]),
    new Uint16Array([65535, 1]),
    new Int32Array([-5, 2 ** 30]),
    new BigInt64Array([-(2n ** 62n), 5n]),
    new BigUint64Array([2n ** 63n, 5n]),
  ];
  for (const values of cases) {
    for (const offset of [1, 2, 3, 5, 6, 7].filter((o) => o % values.BYTES_PER_ELEMENT !== 0)) {
      const raw = at(bytesOf(values), offset);
      const t = makeTensor("t", values);
      t.rawData = raw;
      const copy = tensorData(t) as TensorArray;
      assert.deepEqual(copy, values, `${values.constructor.name} at offset ${offset}`);
      assert.notEqual(copy.buffer, raw.buffer);
    }
  }
});

Deno.test("tensorData() with copy returns a fresh array even when aligned", () => {
  const t = makeTensor("t", new Float32Array([1, 2]));
  const copy = tensorData(t, { copy: true }) as Float32Array;
  copy[0] = 7;
  assert.deepEqual(tensorData(t), new Float32Array([1, 2]));
});

Deno.test("setTensorData() and tensorData() round-trip every data type", () => {
  const cases: [T, TensorArray, number[]][] = [
    [T.FLOAT, new Float32Array([1, -2.5, Infinity]), [3]],
    [T.DOUBLE, new Float64Array([Math.PI, -0]), [2]],
    [T.INT8, new Int8Array([-128, 127, 0]), [3]],
    [T.UINT8, new Uint8Array([0, 255]), [2]],
    [T.INT16, new Int16Array([-32768, 32767]), [2]],
    [T.UINT16, new Uint16Array([0, 65535]), [1, 2]],
    [T.INT32, new Int32Array([-(2 ** 31), 2 ** 31 - 1]), [2]],
    [T.UINT32, new Uint32Array([0, 2 ** 32 - 1]), [2]],
    [T.INT64, new BigInt64Array([-(2n ** 63n), 2n ** 63n - 1n]), [2]],
    [T.UINT64, new BigUint64Array([0n, 2n ** 64n - 1n]), [2]],
    [T.BOOL, new Uint8Array([1, 0, 1]), [3]],
    [T.FLOAT16, new Uint16Array([0x3c00, 0x7e00]), [2]],
    [T.BFLOAT16, new Uint16Array([0x3f80, 0xff80]), [2]],
    [T.COMPLEX64, new Float32Array([1, 2, 3, 4]), [2]],
    [T.COMPLEX128, new Float64Array([1, 2]), [1]],
    [T.FLOAT8E4M3FN, new Uint8Array([0x38, 0x7f]), [2]],
    [T.FLOAT8E4M3FNUZ, new Uint8Array([0x80]), [1]],
    [T.FLOAT8E5M2, new Uint8Array([0x3c, 0x7c]), [2]],
    [T.FLOAT8E5M2FNUZ, new Uint8Array([0x40]), [1]],
    [T.FLOAT8E8M0, new Uint8Array([127, 255]), [2]],
    [T.INT4, new Int8Array([-8, 7, -1, 0, 3]), [5]],
    [T.UINT4, new Uint8Array([0, 15, 9]), [3]],
    [T.FLOAT4E2M1, new Uint8Array([1, 15, 8, 0]), [2, 2]],
    [T.INT2, new Int8Array([-2, 1, -1, 0, 1]), [5]],
    [T.UINT2, new Uint8Array([0, 3, 2]), [3]],
  ];
  for (const [dataType, values, dims] of cases) {
    const t = tensor(dataType, dims);
    setTensorData(t, values);
    assert.equal(t.rawData.length, tensorByteLength(t), T[dataType]);
    const back = tensorData(t);
    assert.deepEqual(back, values, T[dataType]);
    assert.equal(back.constructor, values.constructor, T[dataType]);
  }
});

Deno.test("tensorData() reads the typed fields as ONNX specifies", () => {
  const cases: [TensorProto, TensorArray][] = [
    [tensor(T.FLOAT, [2], { floatData: [1.5, -2] }), new Float32Array([1.5, -2])],
    [tensor(T.COMPLEX64, [1], { floatData: [1, 2] }), new Float32Array([1, 2])],
    [tensor(T.DOUBLE, [1], { doubleData: [0.1] }), new Float64Array([0.1])],
    [tensor(T.COMPLEX128, [1], { doubleData: [3, 4] }), new Float64Array([3, 4])],
    [tensor(T.INT32, [2], { int32Data: [-1, 7] }), new Int32Array([-1, 7])],
    [tensor(T.INT8, [2], { int32Data: [-128, 127] }), new Int8Array([-128, 127])],
    [tensor(T.UINT8, [2], { int32Data: [0, 255] }), new Uint8Array([0, 255])],
    [tensor(T.INT16, [1], { int32Data: [-300] }), new Int16Array([-300])],
    [tensor(T.UINT16, [1], { int32Data: [65535] }), new Uint16Array([65535])],
    [tensor(T.BOOL, [2], { int32Data: [1, 0] }), new Uint8Array([1, 0])],
    [tensor(T.FLOAT16, [1], { int32Data: [0x3c00] }), new Uint16Array([0x3c00])],
    [tensor(T.BFLOAT16, [1], { int32Data: [0xbf80] }), new Uint16Array([0xbf80])],
    [tensor(T.FLOAT8E4M3FN, [1], { int32Data: [0x38] }), new Uint8Array([0x38])],
    // 4-bit types: one packed byte (two elements) per int32 value.
    [tensor(T.INT4, [3], { int32Data: [0xf1, 0x07] }), new Int8Array([1, -1, 7])],
    [tensor(T.UINT4, [2], { int32Data: [0xf1] }), new Uint8Array([1, 15])],
    [tensor(T.FLOAT4E2M1, [2], { int32Data: [0x21] }), new Uint8Array([1, 2])],
    // 2-bit types: one packed byte (four elements) per int32 value.
    [tensor(T.INT2, [4], { int32Data: [0xe4] }), new Int8Array([0, 1, -2, -1])],
    [tensor(T.UINT2, [5], { int32Data: [0xe4, 0x03] }), new Uint8Array([0, 1, 2, 3, 3])],
    [tensor(T.INT64, [2], { int64Data: [-5n, 2n ** 40n] }), new BigInt64Array([-5n, 2n ** 40n])],
    [tensor(T.UINT32, [1], { uint64Data: [4000000000n] }), new Uint32Array([4e9])],
    [tensor(T.UINT64, [1], { uint64Data: [2n ** 64n - 1n] }), new BigUint64Array([2n ** 64n - 1n])],
  ];
  for (const [t, expected] of cases) {
    assert.deepEqual(tensorData(t), expected, T[t.dataType]);
  }
});

Deno.test("tensorData() reads STRING tensors as bytes or decoded strings", () => {
  const t = makeTensor("s", ["héllo", ""], { dims: [2] });
  assert.equal(t.dataType, T.STRING);
  assert.deepEqual(tensorData(t), [new TextEncoder().encode("héllo"), new Uint8Array()]);
  assert.deepEqual(tensorData(t, { decodeStrings: true }), ["héllo", ""]);
  assert.equal(tensorByteLength(t), 6);
});

Deno.test("tensorData() names the tensor when the data do not match the dims", () => {
  const raw = tensor(T.FLOAT, [3, 4], { name: "w", rawData: new Uint8Array(10) });
  assert.throws(
    () => tensorData(raw),
    new RangeError("Cannot read tensor 'w': raw_data has 10 bytes, dims [3, 4] need 48"),
  );
  const typed = tensor(T.FLOAT, [3], { name: "b", floatData: [1, 2] });
  assert.throws(
    () => tensorData(typed),
    new RangeError("Cannot read tensor 'b': float_data has 2 values, dims [3] need 3"),
  );
  const empty = tensor(T.INT64, [2], { name: "e" });
  assert.throws(() => tensorData(empty), /raw_data has 0 bytes, dims \[2\] need 16/);
  const strings = tensor(T.STRING, [2], { name: "s", stringData: [new Uint8Array()] });
  assert.throws(() => tensorData(strings), /string_data has 1 values, dims \[2\] need 2/);
  const unknown = tensor(99 as T, [1], { name: "u", rawData: new Uint8Array(1) });
  assert.throws(
    () => tensorData(unknown),
    new TypeError("Cannot read tensor 'u': data type UNKNOWN(99) is not supported"),
  );
});

Deno.test("tensorData() refuses external tensors whose data were not loaded", () => {
  const t = tensor(T.FLOAT, [4], {
    name: "w1",
    dataLocation: TensorProto_DataLocation.EXTERNAL,
    externalData: [create(StringStringEntryProtoSchema, { key: "location", value: "x.data" })],
  });
  assert.throws(
    () => tensorData(t),
    /^Error: Cannot read tensor 'w1': its data are in external file 'x.data' and not loaded/,
  );
});

Deno.test("tensorData() reads every tensor of the Silero VAD models", async () => {
  for (const version of SILERO_VERSIONS) {
    const tensors = modelTensors(await readSilero(version));
    assert.ok(tensors.length > 100, `${version} has tensors`);
    for (const t of tensors) {
      const data = tensorData(t) as TensorArray;
      assert.equal(data.length, elementCount(t), `${version} ${t.name}`);
      assert.deepEqual(data, tensorData(t, { copy: true }));
      // Aligned raw_data come back as views, the rest as copies.
      const raw = t.rawData;
      if (raw.length > 0) {
        const aligned = raw.byteOffset % data.BYTES_PER_ELEMENT === 0;
        assert.equal(data.buffer === raw.buffer, aligned, `${version} ${t.name} view iff aligned`);
      }
    }
  }
});

Deno.test("elementCount() multiplies dims, with [] a scalar", () => {
  assert.equal(elementCount([]), 1);
  assert.equal(elementCount([3n, 4n]), 12);
  assert.equal(elementCount([2, 0, 5]), 0);
  assert.equal(elementCount(tensor(T.FLOAT, [2, 3])), 6);
  assert.throws(
    () => elementCount(tensor(T.FLOAT, [2, -1], { name: "w" })),
    new RangeError("Cannot count elements of tensor 'w': dims [2, -1] hold -1"),
  );
  assert.throws(() => elementCount([2n ** 40n, 2n ** 40n]), RangeError);
});

Deno.test("tensorByteLength() rounds sub-byte types up and counts complex twice", () => {
  assert.equal(tensorByteLength(tensor(T.INT4, [3])), 2);
  assert.equal(tensorByteLength(tensor(T.UINT2, [5])), 2);
  assert.equal(tensorByteLength(tensor(T.COMPLEX128, [2])), 32);
  assert.equal(tensorByteLength(tensor(T.FLOAT16, [2, 3])), 12);
  assert.throws(() => tensorByteLength(tensor(T.UNDEFINED, [1])), RangeError);
});

Deno.test("setTensorData() clears the typed fields and the external entries", () => {
  const t = tensor(T.FLOAT, [2], {
    floatData: [1, 2],
    dataLocation: TensorProto_DataLocation.EXTERNAL,
    externalData: [create(StringStringEntryProtoSchema, { key: "location", value: "x" })],
  });
  setTensorData(t, new Float32Array([3, 4]));
  assert.deepEqual(t.floatData, []);
  assert.deepEqual(t.externalData, []);
  assert.equal(t.dataLocation, TensorProto_DataLocation.DEFAULT);
  assert.deepEqual(tensorData(t), new Float32Array([3, 4]));
});

Deno.test("setTensorData() rejects the wrong array type, count and 4-bit range", () => {
  assert.throws(
    () => setTensorData(tensor(T.INT64, [2], { name: "i" }), new Int32Array(2)),
    new TypeError("Cannot set data of tensor 'i': INT64 needs BigInt64Array, not Int32Array"),
  );
  assert.throws(
    () => setTensorData(tensor(T.STRING, [1], { name: "s" }), new Uint8Array(1)),
    /STRING needs string\[\] or Uint8Array\[\], not Uint8Array/,
  );
  assert.throws(
    () => setTensorData(tensor(T.FLOAT, [3], { name: "w" }), new Float32Array(2)),
    new RangeError("Cannot set data of tensor 'w': 2 values given, dims [3] need 3"),
  );
  assert.throws(
    () => setTensorData(tensor(T.COMPLEX64, [1], { name: "c" }), new Float32Array(3)),
    RangeError,
  );
  assert.throws(() => setTensorData(tensor(T.INT4, [1]), new Int8Array([16])), RangeError);
});

Deno.test("withTensorData() copies the metadata and leaves the original unchanged", () => {
  const original = makeTensor("w", new Float32Array([1, 2]), { dims: [1, 2], docString: "doc" });
  const changed = withTensorData(original, new Float32Array([3, 4]));
  assert.deepEqual(tensorData(original), new Float32Array([1, 2]));
  assert.deepEqual(tensorData(changed), new Float32Array([3, 4]));
  assert.equal(changed.name, "w");
  assert.equal(changed.docString, "doc");
  assert.deepEqual(changed.dims, [1n, 2n]);
});
