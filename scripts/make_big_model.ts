/**
 * Writes a large fp32 conv net with seeded random weights, for the codec and quantizer benches:
 * Conv(3->C) then `layers` Conv(C->C, 3x3) + Relu, global average pool, Gemm(C->1000).
 * Default: C = 512 and 16 layers, about 160 MB. Tensors are streamed to the file one by one.
 *
 * Run: `deno run -A scripts/make_big_model.ts [OUT] [--layers N] [--channels C]`
 * @module
 */
import { create } from "@bufbuild/protobuf";
import {
  AttributeProto_AttributeType,
  encodeModelTo,
  GraphProtoSchema,
  ModelProtoSchema,
  NodeProtoSchema,
  type TensorProto,
  TensorProtoSchema,
  ValueInfoProtoSchema,
} from "@modelpress/onnx";

/** Options of {@linkcode makeBigModel}. */
export interface BigModelOptions {
  /** Number of C->C 3x3 convolutions. */
  readonly layers?: number;
  /** Channels C. */
  readonly channels?: number;
  /** PRNG seed. */
  readonly seed?: number;
}

function randomWeights(n: number, fanIn: number, state: { s: number }): Float32Array {
  const out = new Float32Array(n);
  const scale = Math.sqrt(2 / fanIn) * 1.7320508;
  let s = state.s;
  for (let i = 0; i < n; i++) {
    // xorshift32, uniform in [-scale, scale): He-like init keeps activations finite.
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    out[i] = ((s >>> 0) / 4294967296 * 2 - 1) * scale;
  }
  state.s = s;
  return out;
}

function tensor(name: string, data: Float32Array, dims: number[]): TensorProto {
  return create(TensorProtoSchema, {
    name,
    dataType: 1,
    dims: dims.map(BigInt),
    rawData: new Uint8Array(data.buffer, data.byteOffset, data.byteLength),
  });
}

function valueInfo(name: string, dims: (number | string)[]) {
  return create(ValueInfoProtoSchema, {
    name,
    type: {
      value: {
        case: "tensorType",
        value: {
          elemType: 1,
          shape: {
            dim: dims.map((d) =>
              typeof d === "number"
                ? { value: { case: "dimValue" as const, value: BigInt(d) } }
                : { value: { case: "dimParam" as const, value: d } }
            ),
          },
        },
      },
    },
  });
}

/**
 * Builds the model in memory.
 *
 * @param options Size and seed.
 * @returns The model.
 * @example
 * ```ts
 * const model = makeBigModel({ layers: 2, channels: 32 });
 * ```
 */
export function makeBigModel(
  options: BigModelOptions = {},
): ReturnType<typeof create<typeof ModelProtoSchema>> {
  const layers = options.layers ?? 16;
  const c = options.channels ?? 512;
  const state = { s: options.seed ?? 0x9e3779b9 };
  const nodes = [];
  const inits: TensorProto[] = [];
  const pads = { name: "pads", type: AttributeProto_AttributeType.INTS, ints: [1n, 1n, 1n, 1n] };
  let prev = "input";
  let cin = 3;
  for (let i = 0; i <= layers; i++) {
    const w = `conv${i}.weight`;
    const b = `conv${i}.bias`;
    inits.push(tensor(w, randomWeights(c * cin * 9, cin * 9, state), [c, cin, 3, 3]));
    inits.push(tensor(b, new Float32Array(c), [c]));
    nodes.push(
      create(NodeProtoSchema, {
        name: `conv${i}`,
        opType: "Conv",
        input: [prev, w, b],
        output: [`conv${i}_out`],
        attribute: [pads],
      }),
      create(NodeProtoSchema, {
        name: `relu${i}`,
        opType: "Relu",
        input: [`conv${i}_out`],
        output: [`relu${i}_out`],
      }),
    );
    prev = `relu${i}_out`;
    cin = c;
  }
  nodes.push(
    create(NodeProtoSchema, {
      name: "gap",
      opType: "GlobalAveragePool",
      input: [prev],
      output: ["gap_out"],
    }),
    create(NodeProtoSchema, {
      name: "flat",
      opType: "Flatten",
      input: ["gap_out"],
      output: ["flat_out"],
    }),
    create(NodeProtoSchema, {
      name: "fc",
      opType: "Gemm",
      input: ["flat_out", "fc.weight", "fc.bias"],
      output: ["logits"],
      attribute: [{ name: "transB", type: AttributeProto_AttributeType.INT, i: 1n }],
    }),
  );
  inits.push(tensor("fc.weight", randomWeights(1000 * c, c, state), [1000, c]));
  inits.push(tensor("fc.bias", new Float32Array(1000), [1000]));
  return create(ModelProtoSchema, {
    irVersion: 8n,
    producerName: "modelpress-bench",
    opsetImport: [{ domain: "", version: 13n }],
    graph: create(GraphProtoSchema, {
      name: "big_conv",
      node: nodes,
      initializer: inits,
      input: [valueInfo("input", ["N", 3, 32, 32])],
      output: [valueInfo("logits", ["N", 1000])],
    }),
  });
}

function flag(args: string[], name: string): number | undefined {
  const i = args.indexOf(name);
  if (i < 0) return undefined;
  const v = Number(args[i + 1]);
  if (!Number.isInteger(v) || v <= 0) throw new TypeError(`${name} needs a positive integer`);
  return v;
}

if (import.meta.main) {
  const args = Deno.args;
  const out = args[0] && !args[0].startsWith("--") ? args[0] : "bench/_out/big_conv.onnx";
  const layers = flag(args, "--layers");
  const channels = flag(args, "--channels");
  const model = makeBigModel({
    ...(layers !== undefined ? { layers } : {}),
    ...(channels !== undefined ? { channels } : {}),
  });
  await Deno.mkdir(new URL(".", `file://${Deno.realPathSync(".")}/${out}`), { recursive: true });
  using file = Deno.openSync(out, { write: true, create: true, truncate: true });
  const size = encodeModelTo(model, (chunk) => {
    for (let n = 0; n < chunk.length;) n += file.writeSync(chunk.subarray(n));
  });
  console.log(`wrote ${out}: ${(size / 1e6).toFixed(1)} MB`);
}
