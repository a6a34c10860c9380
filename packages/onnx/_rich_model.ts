/**
 * A small model that touches every message of onnx.proto: subgraphs in If/Loop attributes,
 * every attribute kind, sparse initializers, segments, external-data entries, typed repeated
 * fields, functions, training info, metadata and device configurations. Tests in this folder use
 * it to prove the codec keeps everything.
 * @module
 */
import { create } from "@bufbuild/protobuf";
import {
  AttributeProto_AttributeType as A,
  AttributeProtoSchema,
  FunctionProtoSchema,
  GraphProtoSchema,
  type ModelProto,
  ModelProtoSchema,
  NodeProtoSchema,
  SparseTensorProtoSchema,
  type TensorProto,
  TensorProto_DataType as DT,
  TensorProtoSchema,
  TypeProtoSchema,
  ValueInfoProtoSchema,
} from "./_gen/onnx_pb.ts";

function tensorType(elemType: number, dims: (number | string)[]) {
  return create(TypeProtoSchema, {
    value: {
      case: "tensorType",
      value: {
        elemType,
        shape: {
          dim: dims.map((d) =>
            typeof d === "number"
              ? { value: { case: "dimValue" as const, value: BigInt(d) } }
              : { value: { case: "dimParam" as const, value: d }, denotation: "DATA_BATCH" }
          ),
        },
      },
    },
  });
}

function raw(name: string, dataType: number, dims: number[], bytes: number[]): TensorProto {
  return create(TensorProtoSchema, {
    name,
    dataType,
    dims: dims.map(BigInt),
    rawData: new Uint8Array(bytes),
  });
}

/**
 * Builds the model.
 *
 * @returns A model using every ONNX message type.
 */
export function richModel(): ModelProto {
  const thenBranch = create(GraphProtoSchema, {
    name: "then",
    node: [create(NodeProtoSchema, { opType: "Identity", input: ["x"], output: ["t_out"] })],
    output: [create(ValueInfoProtoSchema, { name: "t_out", type: tensorType(DT.FLOAT, ["N", 4]) })],
  });
  const elseBranch = create(GraphProtoSchema, {
    name: "else",
    node: [create(NodeProtoSchema, { opType: "Neg", input: ["x"], output: ["e_out"] })],
    output: [create(ValueInfoProtoSchema, { name: "e_out", type: tensorType(DT.FLOAT, ["N", 4]) })],
  });
  const attrs = [
    create(AttributeProtoSchema, { name: "f", type: A.FLOAT, f: -1.5 }),
    create(AttributeProtoSchema, { name: "i", type: A.INT, i: -7n }),
    create(AttributeProtoSchema, { name: "s", type: A.STRING, s: new Uint8Array([0xe2, 0x82]) }),
    create(AttributeProtoSchema, {
      name: "t",
      type: A.TENSOR,
      t: raw("t", DT.INT8, [2], [0xff, 0x01]),
    }),
    create(AttributeProtoSchema, {
      name: "floats",
      type: A.FLOATS,
      floats: [0, -0, Math.fround(1e-40), 3],
    }),
    create(AttributeProtoSchema, { name: "ints", type: A.INTS, ints: [1n, -1n, 2n ** 62n] }),
    create(AttributeProtoSchema, {
      name: "strings",
      type: A.STRINGS,
      strings: [new Uint8Array([1]), new Uint8Array()],
    }),
    create(AttributeProtoSchema, {
      name: "tp",
      type: A.TYPE_PROTO,
      tp: tensorType(DT.BFLOAT16, [1]),
    }),
    create(AttributeProtoSchema, {
      name: "tps",
      type: A.TYPE_PROTOS,
      typeProtos: [
        create(TypeProtoSchema, {
          value: { case: "sequenceType", value: { elemType: tensorType(DT.INT4, [3]) } },
        }),
        create(TypeProtoSchema, {
          value: { case: "mapType", value: { keyType: DT.STRING, valueType: tensorType(1, []) } },
        }),
        create(TypeProtoSchema, {
          value: { case: "optionalType", value: { elemType: tensorType(DT.UINT4, [2]) } },
          denotation: "TENSOR",
        }),
        create(TypeProtoSchema, {
          value: {
            case: "sparseTensorType",
            value: {
              elemType: DT.FLOAT,
              shape: { dim: [{ value: { case: "dimValue", value: 9n } }] },
            },
          },
        }),
        create(TypeProtoSchema, {
          value: { case: "opaqueType", value: { domain: "com.example", name: "Blob" } },
        }),
      ],
    }),
    create(AttributeProtoSchema, {
      name: "ref",
      type: A.FLOAT,
      refAttrName: "alpha",
      docString: "d",
    }),
  ];
  const sparse = create(SparseTensorProtoSchema, {
    values: raw("sp", DT.FLOAT, [2], [0, 0, 128, 63, 0, 0, 0, 64]),
    indices: create(TensorProtoSchema, { dataType: DT.INT64, dims: [2n], int64Data: [1n, 5n] }),
    dims: [8n],
  });
  const graph = create(GraphProtoSchema, {
    name: "main",
    docString: "all of onnx.proto",
    input: [
      create(ValueInfoProtoSchema, { name: "x", type: tensorType(DT.FLOAT, ["N", 4]) }),
      create(ValueInfoProtoSchema, { name: "cond", type: tensorType(DT.BOOL, []) }),
    ],
    output: [create(ValueInfoProtoSchema, { name: "y", type: tensorType(DT.FLOAT, ["N", 4]) })],
    valueInfo: [
      create(ValueInfoProtoSchema, {
        name: "mid",
        type: tensorType(DT.FLOAT, ["N", 4]),
        docString: "between",
        metadataProps: [{ key: "k", value: "v" }],
      }),
    ],
    node: [
      create(NodeProtoSchema, {
        name: "if0",
        opType: "If",
        input: ["cond"],
        output: ["mid"],
        attribute: [
          create(AttributeProtoSchema, { name: "then_branch", type: A.GRAPH, g: thenBranch }),
          create(AttributeProtoSchema, { name: "else_branch", type: A.GRAPH, g: elseBranch }),
        ],
        metadataProps: [{ key: "origin", value: "test" }],
        deviceConfigurations: [{
          configurationId: "cfg",
          pipelineStage: 1,
          shardingSpec: [{
            tensorName: "x",
            device: [0n, 1n],
            indexToDeviceGroupMap: [{ key: 0n, value: [0n, 1n] }],
            shardedDim: [{
              axis: 0n,
              simpleSharding: [{ dim: { case: "dimParam", value: "N" }, numShards: 2n }],
            }],
          }],
        }],
      }),
      create(NodeProtoSchema, {
        name: "custom",
        opType: "Custom",
        domain: "com.example",
        overload: "v2",
        input: ["mid", "", "w"],
        output: ["y"],
        attribute: attrs,
        docString: "every attribute kind",
      }),
    ],
    initializer: [
      raw("w", DT.FLOAT, [4], [0, 0, 128, 63, 0, 0, 0, 64, 0, 0, 64, 64, 0, 0, 128, 64]),
      create(TensorProtoSchema, {
        name: "f16",
        dataType: DT.FLOAT16,
        dims: [2n],
        int32Data: [0x3c00, 0xc000],
      }),
      create(TensorProtoSchema, {
        name: "fd",
        dataType: DT.FLOAT,
        dims: [3n],
        floatData: [1, -2, 0.5],
      }),
      create(TensorProtoSchema, {
        name: "dd",
        dataType: DT.DOUBLE,
        dims: [1n],
        doubleData: [Math.PI],
      }),
      create(TensorProtoSchema, {
        name: "u64",
        dataType: DT.UINT64,
        dims: [2n],
        uint64Data: [2n ** 64n - 1n, 0n],
      }),
      create(TensorProtoSchema, {
        name: "str",
        dataType: DT.STRING,
        dims: [2n],
        stringData: [new Uint8Array([104, 105]), new Uint8Array()],
      }),
      create(TensorProtoSchema, {
        name: "seg",
        dataType: DT.INT32,
        dims: [4n],
        segment: { begin: 0n, end: 2n },
        int32Data: [-1, 2],
      }),
      create(TensorProtoSchema, {
        name: "ext",
        dataType: DT.FLOAT,
        dims: [1024n],
        dataLocation: 1,
        externalData: [
          { key: "location", value: "weights.bin" },
          { key: "offset", value: "0" },
          { key: "length", value: "4096" },
        ],
        metadataProps: [{ key: "note", value: "external" }],
      }),
    ],
    sparseInitializer: [sparse],
    quantizationAnnotation: [{
      tensorName: "w",
      quantParameterTensorNames: [{ key: "SCALE_TENSOR", value: "w_scale" }],
    }],
    metadataProps: [{ key: "graph", value: "yes" }],
  });
  const fn = create(FunctionProtoSchema, {
    name: "Custom",
    domain: "com.example",
    overload: "v2",
    input: ["a", "b", "c"],
    output: ["o"],
    attribute: ["alpha"],
    attributeProto: [create(AttributeProtoSchema, { name: "beta", type: A.INT, i: 3n })],
    node: [create(NodeProtoSchema, { opType: "Add", input: ["a", "c"], output: ["o"] })],
    opsetImport: [{ domain: "", version: 21n }],
    valueInfo: [create(ValueInfoProtoSchema, { name: "o", type: tensorType(DT.FLOAT, []) })],
    docString: "local function",
    metadataProps: [{ key: "fn", value: "1" }],
  });
  return create(ModelProtoSchema, {
    irVersion: 10n,
    opsetImport: [{ domain: "", version: 21n }, { domain: "com.example", version: 1n }],
    producerName: "modelpress-test",
    producerVersion: "0",
    domain: "ai.modelpress",
    modelVersion: 3n,
    docString: "rich",
    graph,
    metadataProps: [{ key: "author", value: "tests" }],
    trainingInfo: [{
      initialization: create(GraphProtoSchema, { name: "init" }),
      algorithm: create(GraphProtoSchema, { name: "algo" }),
      initializationBinding: [{ key: "w", value: "w_init" }],
      updateBinding: [{ key: "w", value: "w_new" }],
    }],
    functions: [fn],
    configuration: [{ name: "cfg", numDevices: 2, device: ["gpu0", "gpu1"] }],
  });
}
