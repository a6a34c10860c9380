/**
 * A protobuf wire-format codec driven by protobuf-es descriptors, written for ONNX's needs:
 * - decoding reports the byte offset of every failure (OnnxParseError), bounds every length by
 *   the bytes that remain, limits nesting depth, and keeps `bytes` fields as zero-copy views;
 * - encoding sizes the whole message first, then writes it once, either into one exact-size
 *   buffer or in chunks to a sink (a file), never concatenating large tensors in memory.
 * Messages are ordinary protobuf-es messages: unknown fields go to `$unknown` in protobuf-es's
 * own format, field presence follows proto2 (own properties), so `toBinary` agrees with us.
 * @module
 */
import { create, type DescField, type DescMessage, ScalarType } from "@bufbuild/protobuf";
import { OnnxParseError } from "./errors.ts";

const WIRE_VARINT = 0;
const WIRE_I64 = 1;
const WIRE_LEN = 2;
const WIRE_SGROUP = 3;
const WIRE_EGROUP = 4;
const WIRE_I32 = 5;

const KIND_SCALAR = 0;
const KIND_ENUM = 1;
const KIND_MESSAGE = 2;
const KIND_LIST_SCALAR = 3;
const KIND_LIST_ENUM = 4;
const KIND_LIST_MESSAGE = 5;

interface FieldPlan {
  readonly number: number;
  readonly name: string;
  readonly localName: string;
  readonly kind: number;
  readonly scalar: ScalarType;
  /** Wire type of one element (a packed list is written WIRE_LEN). */
  readonly wire: number;
  readonly packed: boolean;
  readonly oneof: string | undefined;
  readonly explicitPresence: boolean;
  readonly enumValues: ReadonlySet<number> | undefined;
  message: MessagePlan | undefined;
  readonly tagSize: number;
}

interface MessagePlan {
  readonly desc: DescMessage;
  readonly typeName: string;
  readonly byNumber: ReadonlyMap<number, FieldPlan>;
  /** Fields indexed by number, for the decoder's hot loop (ONNX numbers are small). */
  readonly byIndex: readonly (FieldPlan | undefined)[];
  /** Fields in field-number order, the order protobuf implementations write them. */
  readonly sorted: readonly FieldPlan[];
  /** Estimated bytes of memory one decoded message of this type takes (object + arrays). */
  readonly cost: number;
}

type AnyMessage = Record<string, unknown> & { $unknown?: UnknownField[] };
interface UnknownField {
  no: number;
  wireType: number;
  data: Uint8Array;
}

const plans = new Map<DescMessage, MessagePlan>();

function wireOf(scalar: ScalarType): number {
  switch (scalar) {
    case ScalarType.DOUBLE:
    case ScalarType.FIXED64:
    case ScalarType.SFIXED64:
      return WIRE_I64;
    case ScalarType.FLOAT:
    case ScalarType.FIXED32:
    case ScalarType.SFIXED32:
      return WIRE_I32;
    case ScalarType.STRING:
    case ScalarType.BYTES:
      return WIRE_LEN;
    default:
      return WIRE_VARINT;
  }
}

/** Returns the (cached) plan of a message type; recursive types share plans. */
export function planOf(desc: DescMessage): MessagePlan {
  const cached = plans.get(desc);
  if (cached) return cached;
  const byNumber = new Map<number, FieldPlan>();
  const sorted: FieldPlan[] = [];
  const byIndex: (FieldPlan | undefined)[] = [];
  const lists = desc.fields.filter((f) => f.fieldKind === "list").length;
  const cost = 64 + 16 * desc.fields.length + 32 * lists;
  const plan: MessagePlan = { desc, typeName: desc.typeName, byNumber, byIndex, sorted, cost };
  plans.set(desc, plan);
  for (const f of desc.fields) {
    const fp = fieldPlan(f);
    byNumber.set(f.number, fp);
    sorted.push(fp);
  }
  sorted.sort((a, b) => a.number - b.number);
  const maxIndexed = Math.min(sorted.at(-1)?.number ?? 0, 1024);
  for (let n = 0; n <= maxIndexed; n++) byIndex.push(byNumber.get(n));
  for (const f of desc.fields) {
    if (f.message) byNumber.get(f.number)!.message = planOf(f.message);
  }
  return plan;
}

function fieldPlan(f: DescField): FieldPlan {
  let kind: number;
  let scalar = ScalarType.INT32;
  let enumValues: Set<number> | undefined;
  let packed = false;
  switch (f.fieldKind) {
    case "scalar":
      kind = KIND_SCALAR;
      scalar = f.scalar;
      break;
    case "enum":
      kind = KIND_ENUM;
      enumValues = f.enum.open ? undefined : new Set(f.enum.values.map((v) => v.number));
      break;
    case "message":
      kind = KIND_MESSAGE;
      break;
    case "list":
      packed = f.packed;
      if (f.listKind === "scalar") {
        kind = KIND_LIST_SCALAR;
        scalar = f.scalar;
      } else if (f.listKind === "enum") {
        kind = KIND_LIST_ENUM;
        enumValues = f.enum.open ? undefined : new Set(f.enum.values.map((v) => v.number));
      } else {
        kind = KIND_LIST_MESSAGE;
      }
      break;
    default:
      throw new TypeError(`Cannot plan field '${f.name}': map fields are not used by ONNX`);
  }
  const isMessage = kind === KIND_MESSAGE || kind === KIND_LIST_MESSAGE;
  const isEnum = kind === KIND_ENUM || kind === KIND_LIST_ENUM;
  const wire = isMessage ? WIRE_LEN : isEnum ? WIRE_VARINT : wireOf(scalar);
  return {
    number: f.number,
    name: f.name,
    localName: f.localName,
    kind,
    scalar,
    wire,
    packed,
    oneof: f.oneof?.localName,
    explicitPresence: f.presence !== 2,
    enumValues,
    message: undefined,
    tagSize: varint32Size((f.number << 3) >>> 0),
  };
}

// ---------------------------------------------------------------------------------------------
// Decoding

const utf8 = new TextDecoder("utf-8", { fatal: true });

/** Options of {@linkcode decodeWith}. */
export interface DecodeOptions {
  /** Deepest message nesting accepted (graphs inside attributes inside graphs...). */
  readonly maxDepth?: number;
}

/**
 * Memory the decoded messages may take: a fixed allowance plus a multiple of the input size.
 * An empty nested message costs 2 input bytes but a few hundred bytes of objects, so crafted
 * input could otherwise ask for ~200x its size; real models use far less than 64x.
 */
const ALLOC_BASE_BYTES = 16 << 20;
const ALLOC_PER_INPUT_BYTE = 64;

/** Short ASCII strings (most ONNX names) without TextDecoder's per-call overhead. */
function asciiString(buf: Uint8Array, pos: number, len: number): string | undefined {
  let s = "";
  for (let i = pos, end = pos + len; i < end; i++) {
    const c = buf[i]!;
    if (c >= 0x80) return undefined;
    s += String.fromCharCode(c);
  }
  return s;
}

function describe(what: string | FieldPlan): string {
  if (typeof what === "string") return what;
  return `${what.packed ? "packed " : ""}field '${what.name}'`;
}

class Reader {
  readonly buf: Uint8Array;
  readonly view: DataView;
  pos = 0;
  lo = 0;
  hi = 0;
  readonly maxDepth: number;
  /** What is left of the allocation budget, in estimated bytes. */
  budget: number;

  constructor(buf: Uint8Array, maxDepth: number) {
    this.buf = buf;
    this.view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
    this.maxDepth = maxDepth;
    this.budget = ALLOC_BASE_BYTES + ALLOC_PER_INPUT_BYTE * buf.length;
  }

  /** Charges `bytes` of estimated memory against the budget. */
  charge(bytes: number): void {
    this.budget -= bytes;
    if (this.budget < 0) this.overBudget("values");
  }

  overBudget(what: string): never {
    this.fail(
      `the input declares more ${what} than its ${this.buf.length} bytes justify; ` +
        "refusing to allocate more",
    );
  }

  /** Creates a message, charging its estimated size against the budget. */
  newMessage(plan: MessagePlan): AnyMessage {
    this.budget -= plan.cost;
    if (this.budget < 0) {
      this.fail(
        `the input declares more messages than its ${this.buf.length} bytes justify ` +
          `(at ${plan.typeName}); refusing to allocate more`,
      );
    }
    return create(plan.desc) as unknown as AnyMessage;
  }

  fail(message: string, at: number = this.pos): never {
    throw new OnnxParseError(message, at);
  }

  /** Reads a varint into lo/hi (two's complement halves, both as int32). */
  varint(end: number): void {
    const buf = this.buf;
    const start = this.pos;
    let pos = start;
    let lo = 0;
    let hi = 0;
    let b = 0;
    for (let shift = 0; shift < 28; shift += 7) {
      if (pos >= end) this.fail("the input ends inside a varint", start);
      b = buf[pos++]!;
      lo |= (b & 0x7f) << shift;
      if (b < 0x80) {
        this.pos = pos;
        this.lo = lo;
        this.hi = 0;
        return;
      }
    }
    if (pos >= end) this.fail("the input ends inside a varint", start);
    b = buf[pos++]!;
    lo |= (b & 0x0f) << 28;
    hi = (b & 0x7f) >> 4;
    if (b < 0x80) {
      this.pos = pos;
      this.lo = lo;
      this.hi = hi;
      return;
    }
    for (let shift = 3; shift <= 31; shift += 7) {
      if (pos >= end) this.fail("the input ends inside a varint", start);
      b = buf[pos++]!;
      hi |= (b & 0x7f) << shift;
      if (b < 0x80) {
        this.pos = pos;
        this.lo = lo;
        this.hi = hi;
        return;
      }
    }
    this.fail("a varint is longer than 10 bytes", start);
  }

  /** A varint that must fit in 31 bits: tags and lengths. */
  uint31(end: number, what: string | FieldPlan): number {
    const at = this.pos;
    this.varint(end);
    if (this.hi !== 0 || this.lo < 0) this.fail(`${describe(what)} does not fit in 31 bits`, at);
    return this.lo;
  }

  /** Reads a length prefix; `what` names the field for the error (built only on failure). */
  length(end: number, what: string | FieldPlan): number {
    const at = this.pos;
    const len = this.uint31(end, what);
    if (len > end - this.pos) {
      this.fail(`${describe(what)} declares ${len} bytes but only ${end - this.pos} remain`, at);
    }
    return len;
  }

  /** Skips one field's value, returning the skipped bytes (protobuf-es's unknown-field form). */
  skip(wireType: number, fieldNo: number, end: number, depth: number): Uint8Array {
    const start = this.pos;
    switch (wireType) {
      case WIRE_VARINT:
        this.varint(end);
        break;
      case WIRE_I64:
        if (end - this.pos < 8) this.fail("the input ends inside a 64-bit field");
        this.pos += 8;
        break;
      case WIRE_I32:
        if (end - this.pos < 4) this.fail("the input ends inside a 32-bit field");
        this.pos += 4;
        break;
      case WIRE_LEN: {
        const len = this.length(end, "an unknown field");
        this.pos += len;
        break;
      }
      case WIRE_SGROUP: {
        if (depth >= this.maxDepth) this.fail(`groups nest deeper than ${this.maxDepth}`);
        for (;;) {
          if (this.pos >= end) this.fail(`group ${fieldNo} has no end`, start);
          const tagAt = this.pos;
          const tag = this.uint31(end, "a field tag");
          const no = tag >>> 3;
          const wt = tag & 7;
          if (no === 0) this.fail("field number 0 is invalid", tagAt);
          if (wt === WIRE_EGROUP) {
            if (no !== fieldNo) this.fail(`group ${fieldNo} ends with tag of ${no}`, tagAt);
            break;
          }
          this.skip(wt, no, end, depth + 1);
        }
        break;
      }
      default:
        this.fail(`wire type ${wireType} of field ${fieldNo} is invalid`);
    }
    return this.buf.subarray(start, this.pos);
  }

  int64(): bigint {
    const lo = this.lo >>> 0;
    const hi = this.hi;
    if (hi === 0) return BigInt(lo);
    return BigInt.asIntN(64, (BigInt(hi >>> 0) << 32n) | BigInt(lo));
  }

  uint64(): bigint {
    const lo = this.lo >>> 0;
    const hi = this.hi >>> 0;
    if (hi === 0) return BigInt(lo);
    return (BigInt(hi) << 32n) | BigInt(lo);
  }

  /** Reads one scalar of the given type; the wire type was checked by the caller. */
  scalar(type: ScalarType, end: number): unknown {
    const view = this.view;
    switch (type) {
      case ScalarType.DOUBLE: {
        if (end - this.pos < 8) this.fail("the input ends inside a double");
        const v = view.getFloat64(this.pos, true);
        this.pos += 8;
        return v;
      }
      case ScalarType.FLOAT: {
        if (end - this.pos < 4) this.fail("the input ends inside a float");
        const v = view.getFloat32(this.pos, true);
        this.pos += 4;
        return v;
      }
      case ScalarType.FIXED64: {
        if (end - this.pos < 8) this.fail("the input ends inside a fixed64");
        const v = view.getBigUint64(this.pos, true);
        this.pos += 8;
        return v;
      }
      case ScalarType.SFIXED64: {
        if (end - this.pos < 8) this.fail("the input ends inside a sfixed64");
        const v = view.getBigInt64(this.pos, true);
        this.pos += 8;
        return v;
      }
      case ScalarType.FIXED32: {
        if (end - this.pos < 4) this.fail("the input ends inside a fixed32");
        const v = view.getUint32(this.pos, true);
        this.pos += 4;
        return v;
      }
      case ScalarType.SFIXED32: {
        if (end - this.pos < 4) this.fail("the input ends inside a sfixed32");
        const v = view.getInt32(this.pos, true);
        this.pos += 4;
        return v;
      }
      case ScalarType.INT64:
        this.varint(end);
        return this.int64();
      case ScalarType.UINT64:
        this.varint(end);
        return this.uint64();
      case ScalarType.SINT64: {
        this.varint(end);
        const u = this.uint64();
        return (u >> 1n) ^ -(u & 1n);
      }
      case ScalarType.INT32:
        this.varint(end);
        return this.lo | 0;
      case ScalarType.UINT32:
        this.varint(end);
        return this.lo >>> 0;
      case ScalarType.SINT32:
        this.varint(end);
        return (this.lo >>> 1) ^ -(this.lo & 1);
      case ScalarType.BOOL:
        this.varint(end);
        return this.lo !== 0 || this.hi !== 0;
      case ScalarType.BYTES: {
        // A Uint8Array view is an object of its own (about 100 bytes), even when empty.
        this.charge(112);
        const len = this.length(end, "a bytes field");
        const v = this.buf.subarray(this.pos, this.pos + len);
        this.pos += len;
        return v;
      }
      case ScalarType.STRING: {
        const at = this.pos;
        const len = this.length(end, "a string field");
        let v = len < 32 ? asciiString(this.buf, this.pos, len) : undefined;
        if (v === undefined) {
          try {
            v = utf8.decode(this.buf.subarray(this.pos, this.pos + len));
          } catch {
            this.fail("a string field is not valid UTF-8", at);
          }
        }
        this.pos += len;
        return v;
      }
    }
    this.fail(`scalar type ${type} is not supported`);
  }
}

function decodeInto(
  r: Reader,
  msg: AnyMessage,
  plan: MessagePlan,
  end: number,
  depth: number,
): void {
  if (depth > r.maxDepth) {
    r.fail(`messages nest deeper than ${r.maxDepth} (at ${plan.typeName})`);
  }
  while (r.pos < end) {
    const tagAt = r.pos;
    const tag = r.uint31(end, "a field tag");
    const no = tag >>> 3;
    const wt = tag & 7;
    if (no === 0) r.fail(`field number 0 in ${plan.typeName} is invalid`, tagAt);
    if (wt === WIRE_EGROUP) r.fail(`an end-group tag in ${plan.typeName} has no start`, tagAt);
    const f = no < plan.byIndex.length ? plan.byIndex[no] : plan.byNumber.get(no);
    if (f !== undefined && readField(r, msg, f, wt, end, depth)) continue;
    const data = r.skip(wt, no, end, depth);
    (msg.$unknown ??= []).push({ no, wireType: wt, data });
  }
  if (r.pos !== end) r.fail(`${plan.typeName} overruns its length`, end);
}

/** Reads a known field; returns false when the wire type does not fit (kept as unknown). */
function readField(
  r: Reader,
  msg: AnyMessage,
  f: FieldPlan,
  wt: number,
  end: number,
  depth: number,
): boolean {
  switch (f.kind) {
    case KIND_SCALAR: {
      if (wt !== f.wire) return false;
      const v = r.scalar(f.scalar, end);
      setSingular(msg, f, v);
      return true;
    }
    case KIND_ENUM: {
      if (wt !== WIRE_VARINT) return false;
      const at = r.pos;
      r.varint(end);
      const v = r.lo | 0;
      if (f.enumValues !== undefined && !f.enumValues.has(v)) {
        // Closed (proto2) enums keep unknown values as unknown fields, as protobuf does.
        (msg.$unknown ??= []).push({ no: f.number, wireType: wt, data: r.buf.subarray(at, r.pos) });
        return true;
      }
      setSingular(msg, f, v);
      return true;
    }
    case KIND_MESSAGE: {
      if (wt !== WIRE_LEN) return false;
      const len = r.length(end, f);
      const subEnd = r.pos + len;
      const plan = f.message!;
      let sub: AnyMessage | undefined;
      if (f.oneof !== undefined) {
        const cur = msg[f.oneof] as { case?: string; value?: AnyMessage };
        if (cur.case === f.localName) sub = cur.value;
      } else {
        sub = msg[f.localName] as AnyMessage | undefined;
      }
      // A repeated occurrence of a singular message merges into the first, as protobuf does.
      const fresh = sub === undefined;
      if (fresh) sub = r.newMessage(plan);
      decodeInto(r, sub!, plan, subEnd, depth + 1);
      if (fresh) setSingular(msg, f, sub);
      return true;
    }
    case KIND_LIST_MESSAGE: {
      if (wt !== WIRE_LEN) return false;
      const len = r.length(end, f);
      const subEnd = r.pos + len;
      const plan = f.message!;
      const sub = r.newMessage(plan);
      decodeInto(r, sub, plan, subEnd, depth + 1);
      (msg[f.localName] as unknown[]).push(sub);
      return true;
    }
    case KIND_LIST_SCALAR: {
      const list = msg[f.localName] as unknown[];
      if (wt === f.wire) {
        list.push(r.scalar(f.scalar, end));
        return true;
      }
      if (wt !== WIRE_LEN || f.wire === WIRE_LEN) return false;
      const len = r.length(end, f);
      readPacked(r, list, f, r.pos + len);
      return true;
    }
    case KIND_LIST_ENUM: {
      const list = msg[f.localName] as number[];
      if (wt === WIRE_VARINT) {
        r.varint(end);
        list.push(r.lo | 0);
        return true;
      }
      if (wt !== WIRE_LEN) return false;
      const len = r.length(end, f);
      const subEnd = r.pos + len;
      while (r.pos < subEnd) {
        r.varint(subEnd);
        list.push(r.lo | 0);
      }
      return true;
    }
  }
  return false;
}

function readPacked(r: Reader, list: unknown[], f: FieldPlan, end: number): void {
  const width = f.wire === WIRE_I32 ? 4 : f.wire === WIRE_I64 ? 8 : 0;
  if (width !== 0 && (end - r.pos) % width !== 0) {
    r.fail(`packed field '${f.name}' has ${end - r.pos} bytes, not a multiple of ${width}`);
  }
  const view = r.view;
  switch (f.scalar) {
    case ScalarType.FLOAT:
      for (let p = r.pos; p < end; p += 4) list.push(view.getFloat32(p, true));
      r.pos = end;
      return;
    case ScalarType.DOUBLE:
      for (let p = r.pos; p < end; p += 8) list.push(view.getFloat64(p, true));
      r.pos = end;
      return;
    case ScalarType.INT32:
      while (r.pos < end) {
        r.varint(end);
        list.push(r.lo | 0);
      }
      return;
    case ScalarType.INT64:
      // A bigint per element (one byte of input each at least).
      r.charge(32 * (end - r.pos));
      while (r.pos < end) {
        r.varint(end);
        list.push(r.int64());
      }
      return;
    case ScalarType.UINT64:
      r.charge(32 * (end - r.pos));
      while (r.pos < end) {
        r.varint(end);
        list.push(r.uint64());
      }
      return;
    default:
      while (r.pos < end) list.push(r.scalar(f.scalar, end));
  }
}

function setSingular(msg: AnyMessage, f: FieldPlan, v: unknown): void {
  if (f.oneof !== undefined) msg[f.oneof] = { case: f.localName, value: v };
  else msg[f.localName] = v;
}

/**
 * Decodes `bytes` as a message of type `desc`.
 *
 * @param desc The message descriptor (a generated `...Schema`).
 * @param bytes The wire bytes; `bytes` fields of the result are views into it.
 * @param options Nesting limit.
 * @returns The decoded message.
 */
export function decodeWith<T>(desc: DescMessage, bytes: Uint8Array, options?: DecodeOptions): T {
  const r = new Reader(bytes, options?.maxDepth ?? 100);
  const msg = create(desc) as unknown as AnyMessage;
  try {
    decodeInto(r, msg, planOf(desc), bytes.length, 0);
  } catch (e) {
    // maxDepth above what the stack holds: still a parse error, never a crash.
    if (e instanceof RangeError && /call stack/i.test(e.message)) {
      throw new OnnxParseError("messages nest too deeply for the stack", r.pos, { cause: e });
    }
    throw e;
  }
  return msg as unknown as T;
}

// ---------------------------------------------------------------------------------------------
// Encoding

function varint32Size(v: number): number {
  if (v < 0) return 10;
  if (v < 0x80) return 1;
  if (v < 0x4000) return 2;
  if (v < 0x200000) return 3;
  if (v < 0x10000000) return 4;
  return 5;
}

function varint64Size(v: bigint): number {
  if (v >= 0n && v < 0x80000000n) return varint32Size(Number(v));
  let u = BigInt.asUintN(64, v);
  let n = 1;
  while (u >= 0x80n) {
    u >>= 7n;
    n++;
  }
  return n;
}

function isSet(msg: AnyMessage, f: FieldPlan): boolean {
  if (f.oneof !== undefined) {
    return (msg[f.oneof] as { case?: string } | undefined)?.case === f.localName;
  }
  const v = msg[f.localName];
  if (v === undefined) return false;
  if (f.kind >= KIND_LIST_SCALAR) return (v as unknown[]).length > 0;
  if (f.kind === KIND_MESSAGE) return true;
  if (f.explicitPresence) return Object.prototype.hasOwnProperty.call(msg, f.localName);
  return !isZero(v);
}

function isZero(v: unknown): boolean {
  if (typeof v === "number" || typeof v === "bigint") return v == 0 && !Object.is(v, -0);
  if (typeof v === "boolean") return !v;
  if (typeof v === "string") return v.length === 0;
  return v instanceof Uint8Array && v.length === 0;
}

function valueOf(msg: AnyMessage, f: FieldPlan): unknown {
  if (f.oneof !== undefined) return (msg[f.oneof] as { value: unknown }).value;
  return msg[f.localName];
}

const utf8Encoder = new TextEncoder();

class Sizer {
  readonly sizes = new Map<object, number>();
  readonly strings = new Map<string, Uint8Array>();

  str(s: string): Uint8Array {
    let b = this.strings.get(s);
    if (b === undefined) {
      b = utf8Encoder.encode(s);
      this.strings.set(s, b);
    }
    return b;
  }

  scalarSize(type: ScalarType, v: unknown): number {
    switch (type) {
      case ScalarType.DOUBLE:
      case ScalarType.FIXED64:
      case ScalarType.SFIXED64:
        return 8;
      case ScalarType.FLOAT:
      case ScalarType.FIXED32:
      case ScalarType.SFIXED32:
        return 4;
      case ScalarType.BOOL:
        return 1;
      case ScalarType.INT32:
        return varint32Size(v as number);
      case ScalarType.UINT32:
        return varint32Size((v as number) >>> 0);
      case ScalarType.SINT32: {
        const n = v as number;
        return varint32Size(((n << 1) ^ (n >> 31)) >>> 0);
      }
      case ScalarType.INT64:
      case ScalarType.UINT64:
        return varint64Size(BigInt(v as bigint));
      case ScalarType.SINT64: {
        const n = BigInt(v as bigint);
        return varint64Size(BigInt.asUintN(64, (n << 1n) ^ (n >> 63n)));
      }
      case ScalarType.STRING: {
        const n = this.str(v as string).length;
        return varint32Size(n) + n;
      }
      case ScalarType.BYTES: {
        const n = (v as Uint8Array).length;
        return varint32Size(n) + n;
      }
    }
    throw new TypeError(`Cannot encode scalar type ${type}`);
  }

  packedSize(f: FieldPlan, list: unknown[]): number {
    const cached = this.sizes.get(list);
    if (cached !== undefined) return cached;
    let n = 0;
    if (f.wire === WIRE_I32) n = 4 * list.length;
    else if (f.wire === WIRE_I64) n = 8 * list.length;
    else if (f.kind === KIND_LIST_ENUM) { for (const v of list) n += varint32Size(v as number); }
    else for (const v of list) n += this.scalarSize(f.scalar, v);
    this.sizes.set(list, n);
    return n;
  }

  message(msg: AnyMessage, plan: MessagePlan): number {
    const cached = this.sizes.get(msg);
    if (cached !== undefined) return cached;
    let n = 0;
    for (const f of plan.sorted) {
      if (!isSet(msg, f)) continue;
      const v = valueOf(msg, f);
      switch (f.kind) {
        case KIND_SCALAR:
          n += f.tagSize + this.scalarSize(f.scalar, v);
          break;
        case KIND_ENUM:
          n += f.tagSize + varint32Size(v as number);
          break;
        case KIND_MESSAGE: {
          const s = this.message(v as AnyMessage, f.message!);
          n += f.tagSize + varint32Size(s) + s;
          break;
        }
        case KIND_LIST_MESSAGE:
          for (const m of v as AnyMessage[]) {
            const s = this.message(m, f.message!);
            n += f.tagSize + varint32Size(s) + s;
          }
          break;
        case KIND_LIST_SCALAR:
        case KIND_LIST_ENUM: {
          const list = v as unknown[];
          if (f.packed) {
            const s = this.packedSize(f, list);
            n += f.tagSize + varint32Size(s) + s;
          } else if (f.kind === KIND_LIST_ENUM) {
            for (const e of list) n += f.tagSize + varint32Size(e as number);
          } else {
            for (const e of list) n += f.tagSize + this.scalarSize(f.scalar, e);
          }
          break;
        }
      }
    }
    const unknown = msg.$unknown;
    if (unknown !== undefined) {
      for (const u of unknown) {
        n += varint32Size(((u.no << 3) | u.wireType) >>> 0) + u.data.length;
      }
    }
    this.sizes.set(msg, n);
    return n;
  }
}

/** Receives encoded bytes; a chunk is only valid during the call. */
export type ChunkSink = (chunk: Uint8Array) => void;

/** Bytes fields at least this large go to a chunked sink directly, without a copy. */
const DIRECT_WRITE_BYTES = 1 << 16;

class Writer {
  buf: Uint8Array;
  view: DataView;
  pos = 0;
  readonly sink: ChunkSink | undefined;
  readonly sizer: Sizer;

  constructor(capacity: number, sizer: Sizer, sink: ChunkSink | undefined) {
    this.buf = new Uint8Array(capacity);
    this.view = new DataView(this.buf.buffer);
    this.sink = sink;
    this.sizer = sizer;
  }

  flush(): void {
    if (this.sink !== undefined && this.pos > 0) {
      this.sink(this.buf.subarray(0, this.pos));
      this.pos = 0;
    }
  }

  room(n: number): void {
    if (this.pos + n > this.buf.length) this.flush();
  }

  varint32(v: number): void {
    this.room(10);
    const buf = this.buf;
    if (v < 0) {
      this.varint64(BigInt(v));
      return;
    }
    while (v > 0x7f) {
      buf[this.pos++] = (v & 0x7f) | 0x80;
      v >>>= 7;
    }
    buf[this.pos++] = v;
  }

  varint64(v: bigint): void {
    if (v >= 0n && v < 0x80000000n) {
      this.varint32(Number(v));
      return;
    }
    this.room(10);
    const u = BigInt.asUintN(64, v);
    let lo = Number(u & 0xffffffffn);
    let hi = Number(u >> 32n);
    const buf = this.buf;
    // Seven bits at a time across the two 32-bit halves.
    while (hi > 0 || lo > 0x7f) {
      buf[this.pos++] = (lo & 0x7f) | 0x80;
      lo = ((lo >>> 7) | ((hi & 0x7f) << 25)) >>> 0;
      hi >>>= 7;
    }
    buf[this.pos++] = lo;
  }

  raw(b: Uint8Array): void {
    if (b.length <= this.buf.length - this.pos) {
      this.buf.set(b, this.pos);
      this.pos += b.length;
      return;
    }
    if (this.sink === undefined) throw new RangeError("Cannot encode: size pass and write differ");
    this.flush();
    if (b.length >= DIRECT_WRITE_BYTES || b.length > this.buf.length) {
      this.sink(b);
      return;
    }
    this.buf.set(b, 0);
    this.pos = b.length;
  }

  tag(no: number, wt: number): void {
    this.varint32(((no << 3) | wt) >>> 0);
  }

  scalar(type: ScalarType, v: unknown): void {
    switch (type) {
      case ScalarType.DOUBLE:
        this.room(8);
        this.view.setFloat64(this.pos, v as number, true);
        this.pos += 8;
        return;
      case ScalarType.FLOAT:
        this.room(4);
        this.view.setFloat32(this.pos, v as number, true);
        this.pos += 4;
        return;
      case ScalarType.FIXED64:
        this.room(8);
        this.view.setBigUint64(this.pos, BigInt(v as bigint), true);
        this.pos += 8;
        return;
      case ScalarType.SFIXED64:
        this.room(8);
        this.view.setBigInt64(this.pos, BigInt(v as bigint), true);
        this.pos += 8;
        return;
      case ScalarType.FIXED32:
        this.room(4);
        this.view.setUint32(this.pos, v as number, true);
        this.pos += 4;
        return;
      case ScalarType.SFIXED32:
        this.room(4);
        this.view.setInt32(this.pos, v as number, true);
        this.pos += 4;
        return;
      case ScalarType.BOOL:
        this.varint32(v ? 1 : 0);
        return;
      case ScalarType.INT32:
        this.varint32(v as number);
        return;
      case ScalarType.UINT32:
        this.varint32((v as number) >>> 0);
        return;
      case ScalarType.SINT32: {
        const n = v as number;
        this.varint32(((n << 1) ^ (n >> 31)) >>> 0);
        return;
      }
      case ScalarType.INT64:
      case ScalarType.UINT64:
        this.varint64(BigInt(v as bigint));
        return;
      case ScalarType.SINT64: {
        const n = BigInt(v as bigint);
        this.varint64(BigInt.asUintN(64, (n << 1n) ^ (n >> 63n)));
        return;
      }
      case ScalarType.STRING: {
        const b = this.sizer.str(v as string);
        this.varint32(b.length);
        this.raw(b);
        return;
      }
      case ScalarType.BYTES: {
        const b = v as Uint8Array;
        this.varint32(b.length);
        this.raw(b);
        return;
      }
    }
  }

  packed(f: FieldPlan, list: unknown[]): void {
    if (f.scalar === ScalarType.FLOAT && f.kind === KIND_LIST_SCALAR) {
      // Bulk path: float_data of big tensors.
      const arr = Float32Array.from(list as number[]);
      this.raw(new Uint8Array(arr.buffer));
      return;
    }
    if (f.scalar === ScalarType.DOUBLE && f.kind === KIND_LIST_SCALAR) {
      const arr = Float64Array.from(list as number[]);
      this.raw(new Uint8Array(arr.buffer));
      return;
    }
    if (f.kind === KIND_LIST_ENUM) {
      for (const v of list) this.varint32(v as number);
      return;
    }
    for (const v of list) this.scalar(f.scalar, v);
  }

  message(msg: AnyMessage, plan: MessagePlan): void {
    for (const f of plan.sorted) {
      if (!isSet(msg, f)) continue;
      const v = valueOf(msg, f);
      switch (f.kind) {
        case KIND_SCALAR:
          this.tag(f.number, f.wire);
          this.scalar(f.scalar, v);
          break;
        case KIND_ENUM:
          this.tag(f.number, WIRE_VARINT);
          this.varint32(v as number);
          break;
        case KIND_MESSAGE:
          this.tag(f.number, WIRE_LEN);
          this.varint32(this.sizer.message(v as AnyMessage, f.message!));
          this.message(v as AnyMessage, f.message!);
          break;
        case KIND_LIST_MESSAGE:
          for (const m of v as AnyMessage[]) {
            this.tag(f.number, WIRE_LEN);
            this.varint32(this.sizer.message(m, f.message!));
            this.message(m, f.message!);
          }
          break;
        case KIND_LIST_SCALAR:
        case KIND_LIST_ENUM: {
          const list = v as unknown[];
          if (f.packed) {
            this.tag(f.number, WIRE_LEN);
            this.varint32(this.sizer.packedSize(f, list));
            this.packed(f, list);
          } else {
            const wire = f.kind === KIND_LIST_ENUM ? WIRE_VARINT : f.wire;
            for (const e of list) {
              this.tag(f.number, wire);
              if (f.kind === KIND_LIST_ENUM) this.varint32(e as number);
              else this.scalar(f.scalar, e);
            }
          }
          break;
        }
      }
    }
    const unknown = msg.$unknown;
    if (unknown !== undefined) {
      for (const u of unknown) {
        this.tag(u.no, u.wireType);
        this.raw(u.data);
      }
    }
  }
}

/** Largest message protobuf allows (2 GiB - 1): readers use signed 32-bit lengths. */
export const MAX_PROTOBUF_BYTES = 0x7fffffff;

/**
 * Computes the encoded size of a message without encoding it.
 *
 * @param desc The message descriptor.
 * @param msg The message.
 * @returns The size in bytes.
 */
export function encodedSize(desc: DescMessage, msg: object): number {
  return new Sizer().message(msg as AnyMessage, planOf(desc));
}

/**
 * Encodes a message into one buffer of exactly the right size, or in chunks to `sink`.
 *
 * @param desc The message descriptor.
 * @param msg The message.
 * @param sink Where chunks go; without it, the whole encoding is returned.
 * @returns The encoding (empty when a sink was given) and its size.
 */
export function encodeWith(
  desc: DescMessage,
  msg: object,
  sink?: ChunkSink,
): { bytes: Uint8Array; size: number } {
  const sizer = new Sizer();
  const plan = planOf(desc);
  const size = sizer.message(msg as AnyMessage, plan);
  const w = new Writer(sink === undefined ? size : Math.min(size, 1 << 20), sizer, sink);
  w.message(msg as AnyMessage, plan);
  if (sink !== undefined) {
    w.flush();
    return { bytes: new Uint8Array(0), size };
  }
  if (w.pos !== size) throw new RangeError(`Cannot encode: wrote ${w.pos} of ${size} bytes`);
  return { bytes: w.buf, size };
}
