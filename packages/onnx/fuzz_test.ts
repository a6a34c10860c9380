import assert from "node:assert/strict";
import { equals } from "@bufbuild/protobuf";
import { decodeModel, encodeModel } from "./codec.ts";
import { OnnxParseError } from "./errors.ts";
import { ModelProtoSchema } from "./_gen/onnx_pb.ts";
import { richModel } from "./_rich_model.ts";
import { mulberry32 } from "../../test/support/prng.ts";
import { sileroPath } from "../../test/support/silero.ts";

/** One random corruption: truncation, bit flips, byte overwrites, splices or varint bombs. */
function mutate(src: Uint8Array, rand: () => number): Uint8Array {
  const pick = (n: number): number => Math.floor(rand() * n);
  const kind = pick(6);
  const out = src.slice();
  switch (kind) {
    case 0: // truncate
      return src.slice(0, pick(src.length));
    case 1: { // flip 1..8 bits
      for (let i = 1 + pick(8); i > 0; i--) out[pick(out.length)]! ^= 1 << pick(8);
      return out;
    }
    case 2: { // overwrite 1..4 bytes with boundary values
      const values = [0x00, 0x7f, 0x80, 0xff, 0x0a, 0x12, 0x3a, 0x08];
      for (let i = 1 + pick(4); i > 0; i--) out[pick(out.length)] = values[pick(values.length)]!;
      return out;
    }
    case 3: { // a huge length prefix somewhere
      const at = pick(out.length);
      const bomb = [0xff, 0xff, 0xff, 0xff, 0x07];
      const res = new Uint8Array(out.length + bomb.length);
      res.set(out.subarray(0, at));
      res.set(bomb, at);
      res.set(out.subarray(at), at + bomb.length);
      return res;
    }
    case 4: { // duplicate a slice (repeated fields, merged messages)
      const a = pick(out.length);
      const b = Math.min(out.length, a + pick(64));
      const res = new Uint8Array(out.length + (b - a));
      res.set(out.subarray(0, b));
      res.set(out.subarray(a), b);
      return res;
    }
    default: { // delete a slice
      const a = pick(out.length);
      const b = Math.min(out.length, a + 1 + pick(16));
      const res = new Uint8Array(out.length - (b - a));
      res.set(out.subarray(0, a));
      res.set(out.subarray(b), a);
      return res;
    }
  }
}

/** Each input parses (and then re-encodes to bytes that decode to the same model) or throws OnnxParseError. */
function check(bytes: Uint8Array, seed: number): "ok" | "error" {
  let model;
  try {
    model = decodeModel(bytes);
  } catch (e) {
    if (!(e instanceof OnnxParseError)) {
      throw new Error(`seed ${seed}: decodeModel() threw ${e} instead of OnnxParseError`);
    }
    assert.ok(e.offset >= 0 && e.offset <= bytes.length, `seed ${seed}: offset ${e.offset}`);
    return "error";
  }
  const again = encodeModel(model);
  assert.ok(equals(ModelProtoSchema, decodeModel(again), model), `seed ${seed}: re-encode differs`);
  return "ok";
}

Deno.test("decodeModel() parses or throws OnnxParseError on 10,000 mutated rich models", () => {
  const base = encodeModel(richModel());
  const counts = { ok: 0, error: 0 };
  for (let seed = 1; seed <= 10_000; seed++) {
    counts[check(mutate(base, mulberry32(seed)), seed)]++;
  }
  // Both outcomes must occur, or the mutations are not exercising the decoder.
  assert.ok(counts.ok > 500 && counts.error > 500, JSON.stringify(counts));
});

Deno.test("decodeModel() parses or throws OnnxParseError on 300 mutated silero VAD models", async () => {
  const base = await Deno.readFile(sileroPath("v5"));
  for (let seed = 20_001; seed <= 20_300; seed++) check(mutate(base, mulberry32(seed)), seed);
});

Deno.test("decodeModel() parses or throws OnnxParseError on every prefix of a rich model", () => {
  const base = encodeModel(richModel());
  for (let n = 0; n < base.length; n++) check(base.subarray(0, n), n);
});
