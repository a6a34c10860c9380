import assert from "node:assert/strict";
import { create, equals, fromBinary, toBinary } from "@bufbuild/protobuf";
import {
  decodeMessage,
  decodeModel,
  encodedModelSize,
  encodeMessage,
  encodeModel,
  encodeModelTo,
} from "./codec.ts";
import { OnnxParseError } from "./errors.ts";
import {
  AttributeProto_AttributeType,
  AttributeProtoSchema,
  GraphProtoSchema,
  ModelProtoSchema,
  NodeProtoSchema,
  TensorProtoSchema,
} from "./_gen/onnx_pb.ts";
import { richModel } from "./_rich_model.ts";
import { SILERO_VERSIONS, sileroPath } from "../../test/support/silero.ts";

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** Writes a protobuf tag + payload by hand, for inputs the encoder would never produce. */
function varint(n: number): number[] {
  const out: number[] = [];
  while (n > 0x7f) {
    out.push((n & 0x7f) | 0x80);
    n >>>= 7;
  }
  out.push(n);
  return out;
}
function field(no: number, wire: number, payload: number[]): number[] {
  return [...varint((no << 3) | wire), ...(wire === 2 ? varint(payload.length) : []), ...payload];
}

const FIXTURES_DIR = new URL("../../test/fixtures/", import.meta.url);
const FIXTURES = [...Deno.readDirSync(FIXTURES_DIR)]
  .filter((e) => e.isFile && e.name.endsWith(".onnx"))
  .map((e) => e.name)
  .sort();

Deno.test("the committed fixtures include the MNIST MLP and CNN", () => {
  assert.ok(FIXTURES.includes("mnist_mlp.onnx") && FIXTURES.includes("mnist_cnn.onnx"));
});

for (const name of FIXTURES) {
  Deno.test(`decodeModel() then encodeModel() gives back fixture ${name} byte for byte`, async () => {
    const bytes = await Deno.readFile(new URL(name, FIXTURES_DIR));
    const again = encodeModel(decodeModel(bytes));
    assert.ok(sameBytes(again, bytes), `${name}: ${again.length} vs ${bytes.length} bytes`);
  });
}

for (const version of SILERO_VERSIONS) {
  const name = `silero_vad_${version}.onnx`;
  Deno.test(`decodeModel() then encodeModel() gives back ${name} byte for byte`, async () => {
    const bytes = await Deno.readFile(sileroPath(version));
    const model = decodeModel(bytes);
    const again = encodeModel(model);
    assert.ok(sameBytes(again, bytes), `${name}: ${again.length} vs ${bytes.length} bytes`);
    // The same message protobuf-es's own decoder builds.
    assert.ok(equals(ModelProtoSchema, model, fromBinary(ModelProtoSchema, bytes)));
    assert.equal(encodedModelSize(model), bytes.length);
  });
}

Deno.test("encodeModel() writes every onnx.proto message and decodeModel() reads it back", () => {
  const model = richModel();
  const bytes = encodeModel(model);
  // protobuf-es's encoder agrees byte for byte, so field order and packing match protobuf's.
  assert.ok(sameBytes(bytes, toBinary(ModelProtoSchema, model)));
  const back = decodeModel(bytes);
  assert.ok(equals(ModelProtoSchema, back, model));
  assert.ok(sameBytes(encodeModel(back), bytes));
  const custom = back.graph!.node[1]!;
  assert.deepEqual(
    custom.attribute.map((a) => a.name),
    model.graph!.node[1]!.attribute.map((a) => a.name),
  );
  assert.deepEqual(back.graph!.initializer[4]!.uint64Data, [2n ** 64n - 1n, 0n]);
  assert.equal(custom.attribute[1]!.i, -7n);
});

Deno.test("decodeModel() keeps unknown fields, at top level and nested, in order", () => {
  const tensor = [
    ...field(8, 2, [...new TextEncoder().encode("w")]),
    ...field(99, 0, [0x96, 0x01]), // unknown varint inside a TensorProto
    ...field(100, 5, [1, 2, 3, 4]), // unknown fixed32
  ];
  const graph = field(5, 2, tensor);
  const bytes = new Uint8Array([
    ...field(1, 0, [8]),
    ...field(7, 2, graph),
    ...field(50, 2, [1, 2, 3]), // unknown length-delimited
    ...field(51, 1, [1, 2, 3, 4, 5, 6, 7, 8]), // unknown fixed64
  ]);
  const model = decodeModel(bytes);
  assert.equal(model.$unknown?.length, 2);
  assert.equal(model.graph!.initializer[0]!.$unknown?.length, 2);
  assert.ok(sameBytes(encodeModel(model), bytes));
});

Deno.test("decodeModel() keeps fields explicitly set to their default value", () => {
  const model = create(ModelProtoSchema, { irVersion: 0n, producerName: "", modelVersion: 0n });
  const bytes = encodeModel(model);
  assert.deepEqual([...bytes], [8, 0, 18, 0, 40, 0]);
  assert.ok(sameBytes(encodeModel(decodeModel(bytes)), bytes));
});

Deno.test("decodeModel() reads unpacked repeated numbers and packed attribute ints", () => {
  // float_data (field 4) written unpacked, twice; ONNX declares it packed.
  const tensor = [...field(4, 5, [0, 0, 128, 63]), ...field(4, 5, [0, 0, 0, 64])];
  // AttributeProto.ints (field 8) written packed; ONNX declares it unpacked.
  const attr = [...field(1, 2, [0x6b]), ...field(8, 2, [1, 2, 0x7f])];
  const t = decodeMessage(TensorProtoSchema, new Uint8Array(tensor));
  assert.deepEqual(t.floatData, [1, 2]);
  const a = decodeMessage(AttributeProtoSchema, new Uint8Array(attr));
  assert.deepEqual(a.ints, [1n, 2n, 127n]);
  // Re-encoding uses the declared form; the decoded messages stay equal.
  assert.ok(
    equals(
      TensorProtoSchema,
      decodeMessage(TensorProtoSchema, encodeMessage(TensorProtoSchema, t)),
      t,
    ),
  );
});

Deno.test("decodeModel() keeps an unknown value of a closed enum as an unknown field", () => {
  // AttributeProto.type (field 20) = 77, not in AttributeType.
  const bytes = new Uint8Array([...field(1, 2, [0x61]), ...field(20, 0, [77])]);
  const a = decodeMessage(AttributeProtoSchema, bytes);
  assert.equal(a.type, AttributeProto_AttributeType.UNDEFINED);
  assert.equal(a.$unknown?.length, 1);
  assert.ok(sameBytes(encodeMessage(AttributeProtoSchema, a), bytes));
});

Deno.test("decodeModel() round-trips negative int32 and int64 extremes", () => {
  const t = create(TensorProtoSchema, {
    dataType: 6,
    int32Data: [-1, -(2 ** 31), 2 ** 31 - 1, 0],
    int64Data: [-(2n ** 63n), 2n ** 63n - 1n, -1n, 0n],
    dims: [4n],
  });
  const bytes = encodeMessage(TensorProtoSchema, t);
  assert.ok(sameBytes(bytes, toBinary(TensorProtoSchema, t)));
  const back = decodeMessage(TensorProtoSchema, bytes);
  assert.deepEqual(back.int32Data, t.int32Data);
  assert.deepEqual(back.int64Data, t.int64Data);
});

Deno.test("decodeModel() returns raw_data as a view into the input, without a copy", async () => {
  const bytes = await Deno.readFile(sileroPath("legacy"));
  const model = decodeModel(bytes);
  const withRaw = model.graph!.initializer.filter((t) => t.rawData.length > 0);
  assert.ok(withRaw.length > 0);
  for (const t of withRaw) assert.equal(t.rawData.buffer, bytes.buffer);
});

Deno.test("encodeModelTo() streams the same bytes as encodeModel(), large tensors uncopied", () => {
  const big = new Uint8Array(1 << 20).map((_, i) => i & 0xff);
  const model = richModel();
  model.graph!.initializer.push(
    create(TensorProtoSchema, {
      name: "big",
      dataType: 2,
      dims: [BigInt(big.length)],
      rawData: big,
    }),
  );
  const whole = encodeModel(model);
  const chunks: Uint8Array[] = [];
  let sawBig = false;
  const size = encodeModelTo(model, (c) => {
    if (c === big) sawBig = true;
    chunks.push(c.slice());
  });
  assert.equal(size, whole.length);
  const joined = new Uint8Array(size);
  let at = 0;
  for (const c of chunks) {
    joined.set(c, at);
    at += c.length;
  }
  assert.ok(sameBytes(joined, whole));
  assert.ok(sawBig, "the 1 MiB tensor reached the sink as the original array");
});

Deno.test("encodeModel() refuses a model over 2 GiB with a RangeError, before allocating", () => {
  const shared = new Uint8Array(256 << 20);
  const model = create(ModelProtoSchema, {
    graph: create(GraphProtoSchema, {
      initializer: Array.from(
        { length: 9 },
        (_, i) => create(TensorProtoSchema, { name: `t${i}`, dataType: 2, rawData: shared }),
      ),
    }),
  });
  assert.ok(encodedModelSize(model) > 2 ** 31);
  assert.throws(() => encodeModel(model), (e: unknown) => {
    assert.ok(e instanceof RangeError);
    assert.match(e.message, /exceeds protobuf's 2 GiB limit.*external data/);
    return true;
  });
  assert.throws(
    () => encodeModelTo(model, () => assert.fail("nothing may be written")),
    RangeError,
  );
});

/** graph -> node -> attribute -> graph ... `levels` times, built inside out. */
function nest(levels: number): number[] {
  let inner: number[] = [];
  for (let i = 0; i < levels; i++) {
    const attr = field(6, 2, inner); // AttributeProto.g
    const node = field(5, 2, attr); // NodeProto.attribute
    inner = field(1, 2, node); // GraphProto.node
  }
  return inner;
}

function parseError(bytes: number[] | Uint8Array): OnnxParseError {
  return parseErrorWith(bytes, 100);
}

function parseErrorWith(bytes: number[] | Uint8Array, maxDepth: number): OnnxParseError {
  try {
    decodeModel(bytes instanceof Uint8Array ? bytes : new Uint8Array(bytes), { maxDepth });
  } catch (e) {
    assert.ok(e instanceof OnnxParseError, `expected OnnxParseError, got ${e}`);
    return e;
  }
  assert.fail("decodeModel() accepted invalid bytes");
}

Deno.test("decodeModel() reports the byte offset of a length that overruns the input", () => {
  const e = parseError([...field(1, 0, [8]), 0x3a, 0x64, 0x0a]); // graph says 100 bytes, 1 left
  assert.equal(e.offset, 3);
  assert.match(e.message, /at byte 3: field 'graph' declares 100 bytes but only 1 remain/);
});

Deno.test("decodeModel() rejects a truncated varint, wire type 7 and field number 0", () => {
  assert.equal(parseError([0x08, 0x80]).offset, 1);
  assert.match(parseError([0x0f]).message, /wire type 7/);
  assert.match(parseError([0x08, 0x01, 0x00, 0x01]).message, /field number 0/);
  assert.match(
    parseError([0x08, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01])
      .message,
    /longer than 10 bytes/,
  );
});

Deno.test("decodeModel() rejects invalid UTF-8 in a string field with its offset", () => {
  const e = parseError([...field(2, 2, [0xc3, 0x28])]);
  assert.equal(e.offset, 1);
  assert.match(e.message, /not valid UTF-8/);
});

Deno.test("decodeModel() rejects nesting deeper than maxDepth instead of overflowing the stack", () => {
  const bytes = new Uint8Array(field(7, 2, nest(5_000)));
  const e = parseError(bytes);
  assert.match(e.message, /nest deeper than 100/);
  // A limit set above what the stack holds still ends in OnnxParseError, not a crash.
  assert.match(parseErrorWith(bytes, 1_000_000).message, /nest too deeply/);
  // 30 levels of graph -> node -> attribute (depth 91) are within the default.
  assert.doesNotThrow(() => decodeModel(new Uint8Array(field(7, 2, nest(30)))));
});

Deno.test("decodeModel() refuses input that would allocate far more than its size", () => {
  // 1.5 million empty FunctionProtos (3 bytes each): several hundred bytes of objects apiece.
  const one = field(25, 2, []);
  const bytes = new Uint8Array(one.length * 1_500_000);
  for (let i = 0; i < bytes.length; i += one.length) bytes.set(one, i);
  const e = parseError(bytes);
  assert.match(e.message, /more messages than its 4500000 bytes justify/);
  // A real model's message density is far below the limit.
  assert.equal(decodeModel(encodeModel(richModel())).functions.length, 1);
});

Deno.test("decodeModel() rejects a packed float field whose length is not a multiple of 4", () => {
  const tensor = field(4, 2, [0, 0, 128]);
  const e = parseError(field(7, 2, field(5, 2, tensor)));
  assert.match(e.message, /packed field 'float_data' has 3 bytes, not a multiple of 4/);
});

Deno.test("decodeMessage() decodes a NodeProto alone", () => {
  const node = create(NodeProtoSchema, { opType: "Relu", input: ["a"], output: ["b"] });
  const back = decodeMessage(NodeProtoSchema, encodeMessage(NodeProtoSchema, node));
  assert.ok(equals(NodeProtoSchema, back, node));
});
