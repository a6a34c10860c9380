import assert from "node:assert/strict";
import { TensorProto_DataType as T } from "./_gen/onnx_pb.ts";
import { dataTypeBits, dataTypeName, isFixedSizeDataType } from "./data_type.ts";

Deno.test("dataTypeName() spells types as onnx.proto does", () => {
  assert.equal(dataTypeName(T.FLOAT), "FLOAT");
  assert.equal(dataTypeName(T.FLOAT8E4M3FNUZ), "FLOAT8E4M3FNUZ");
  assert.equal(dataTypeName(T.INT2), "INT2");
  assert.equal(dataTypeName(99), "UNKNOWN(99)");
});

Deno.test("dataTypeBits() gives the raw_data width of every fixed-size type", () => {
  const expected: [T, number][] = [
    [T.FLOAT, 32],
    [T.DOUBLE, 64],
    [T.INT8, 8],
    [T.UINT8, 8],
    [T.INT16, 16],
    [T.UINT16, 16],
    [T.INT32, 32],
    [T.UINT32, 32],
    [T.INT64, 64],
    [T.UINT64, 64],
    [T.BOOL, 8],
    [T.FLOAT16, 16],
    [T.BFLOAT16, 16],
    [T.COMPLEX64, 64],
    [T.COMPLEX128, 128],
    [T.FLOAT8E4M3FN, 8],
    [T.FLOAT8E4M3FNUZ, 8],
    [T.FLOAT8E5M2, 8],
    [T.FLOAT8E5M2FNUZ, 8],
    [T.FLOAT8E8M0, 8],
    [T.INT4, 4],
    [T.UINT4, 4],
    [T.FLOAT4E2M1, 4],
    [T.INT2, 2],
    [T.UINT2, 2],
  ];
  for (const [type, bits] of expected) {
    assert.equal(dataTypeBits(type), bits, T[type]);
    assert.ok(isFixedSizeDataType(type));
  }
  // Every enum value but UNDEFINED and STRING is covered.
  const all = Object.values(T).filter((v): v is T => typeof v === "number");
  assert.equal(expected.length, all.length - 2);
});

Deno.test("dataTypeBits() rejects STRING, UNDEFINED and unknown types", () => {
  assert.throws(
    () => dataTypeBits(T.STRING),
    new RangeError("Cannot size data type STRING: it has no fixed element size"),
  );
  assert.throws(() => dataTypeBits(T.UNDEFINED), RangeError);
  assert.throws(() => dataTypeBits(99), RangeError);
  assert.equal(isFixedSizeDataType(T.STRING), false);
});
