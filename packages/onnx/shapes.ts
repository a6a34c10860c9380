/**
 * Types and shapes of a graph's values: looking up value infos (graph inputs, outputs and
 * `value_info`) by name, reading their element type and dims, and setting them.
 *
 * Dims are `number` (a fixed size), `string` (a symbolic size such as "batch") or `null`
 * (unknown); a shape of `undefined` means the rank is unknown too.
 *
 * @example
 * ```ts
 * import { decodeModel, tensorTypeOf } from "@modelpress/onnx";
 * const model = decodeModel(await Deno.readFile("model.onnx"));
 * tensorTypeOf(model.graph!, "input"); // { elemType: 1, shape: ["batch", 3, 224, 224] }
 * ```
 * @module
 */
import { create } from "@bufbuild/protobuf";
import {
  type GraphProto,
  type TensorProto,
  TensorProto_DataType,
  TensorShapeProto_DimensionSchema,
  TensorShapeProtoSchema,
  type TypeProto,
  TypeProtoSchema,
  type ValueInfoProto,
  ValueInfoProtoSchema,
} from "./_gen/onnx_pb.ts";

/** One dimension: a fixed size, a symbolic size, or `null` when unknown. */
export type ShapeDim = number | string | null;

/** The element type and shape of a tensor value. */
export interface TensorType {
  /** The element type; `TensorProto_DataType.UNDEFINED` (0) when unknown. */
  readonly elemType: TensorProto_DataType;
  /** The dims; `undefined` when even the rank is unknown. */
  readonly shape: readonly ShapeDim[] | undefined;
}

/**
 * A tensor type of which nothing is known.
 *
 * @example
 * ```ts
 * import { inferShapes, makeGraph, UNKNOWN_TENSOR_TYPE } from "@modelpress/onnx";
 * const known = (inferShapes(makeGraph("g")).get("y") ?? UNKNOWN_TENSOR_TYPE).shape !== undefined;
 * ```
 */
export const UNKNOWN_TENSOR_TYPE: TensorType = Object.freeze({
  elemType: TensorProto_DataType.UNDEFINED,
  shape: undefined,
});

/**
 * The value info of a name: a graph input, a graph output or a `value_info` entry (searched in
 * that order).
 *
 * @param graph The graph.
 * @param name A value name.
 * @returns The value info, or `undefined`.
 * @example
 * ```ts
 * import { findValueInfo, makeGraph, makeValueInfo, TensorProto_DataType } from "@modelpress/onnx";
 * const graph = makeGraph("g", { inputs: [makeValueInfo("x", TensorProto_DataType.FLOAT)] });
 * findValueInfo(graph, "x")?.name; // "x"
 * ```
 */
export function findValueInfo(graph: GraphProto, name: string): ValueInfoProto | undefined {
  return graph.input.find((v) => v.name === name) ??
    graph.output.find((v) => v.name === name) ??
    graph.valueInfo.find((v) => v.name === name);
}

/**
 * Reads the tensor type of a type proto (dense or sparse tensor types).
 *
 * @param type A TypeProto.
 * @returns The element type and shape, or `undefined` for sequences, maps, optionals and
 *   opaque types.
 * @example
 * ```ts
 * import { makeValueInfo, TensorProto_DataType, tensorTypeOfType } from "@modelpress/onnx";
 * const info = makeValueInfo("x", TensorProto_DataType.FLOAT, { shape: ["n", 3] });
 * tensorTypeOfType(info.type!); // { elemType: 1, shape: ["n", 3] }
 * ```
 */
export function tensorTypeOfType(type: TypeProto): TensorType | undefined {
  const v = type.value;
  if (v.case !== "tensorType" && v.case !== "sparseTensorType") return undefined;
  const shape = v.value.shape === undefined ? undefined : v.value.shape.dim.map((d): ShapeDim => {
    switch (d.value.case) {
      case "dimValue":
        return Number(d.value.value);
      case "dimParam":
        return d.value.value === "" ? null : d.value.value;
      default:
        return null;
    }
  });
  return { elemType: v.value.elemType, shape };
}

/**
 * The tensor type of a value as the graph declares it: from its value info, else from an
 * initializer of that name (dense or sparse).
 *
 * @param graph The graph.
 * @param name A value name.
 * @returns The type, or `undefined` when the graph declares none.
 * @example
 * ```ts
 * import { makeGraph, makeTensor, tensorTypeOf } from "@modelpress/onnx";
 * const graph = makeGraph("g", { initializers: [makeTensor("w", new Float32Array(6), { dims: [2, 3] })] });
 * tensorTypeOf(graph, "w"); // { elemType: 1, shape: [2, 3] }
 * ```
 */
export function tensorTypeOf(graph: GraphProto, name: string): TensorType | undefined {
  const info = findValueInfo(graph, name);
  if (info?.type !== undefined) {
    const type = tensorTypeOfType(info.type);
    if (type !== undefined) return type;
  }
  const init = graph.initializer.find((t) => t.name === name);
  if (init !== undefined) return tensorTypeOfTensor(init);
  const sparse = graph.sparseInitializer.find((s) => s.values?.name === name);
  if (sparse?.values !== undefined) {
    return { elemType: sparse.values.dataType, shape: sparse.dims.map(Number) };
  }
  return undefined;
}

/**
 * The tensor type of a tensor: its data type and dims.
 *
 * @param tensor A tensor.
 * @returns Its type.
 * @example
 * ```ts
 * import { makeTensor, tensorTypeOfTensor } from "@modelpress/onnx";
 * tensorTypeOfTensor(makeTensor("b", new Float32Array(4))); // { elemType: 1, shape: [4] }
 * ```
 */
export function tensorTypeOfTensor(tensor: TensorProto): TensorType {
  return { elemType: tensor.dataType, shape: tensor.dims.map(Number) };
}

/**
 * Makes a value info of a tensor type.
 *
 * @param name The value's name.
 * @param type The type; an unknown shape leaves the shape out.
 * @returns A new ValueInfoProto.
 * @example
 * ```ts
 * import { TensorProto_DataType, toValueInfo } from "@modelpress/onnx";
 * const info = toValueInfo("y", { elemType: TensorProto_DataType.FLOAT, shape: ["n", null, 4] });
 * ```
 */
export function toValueInfo(name: string, type: TensorType): ValueInfoProto {
  return create(ValueInfoProtoSchema, { name, type: toTypeProto(type) });
}

/**
 * Sets the declared type of a value: updates the type of a graph input or output of that name,
 * else replaces its `value_info` entry, else appends one. Other fields of an existing graph input
 * or output (doc string, metadata) are kept.
 *
 * @param graph The graph.
 * @param info The value info (its name says which value).
 * @example
 * ```ts
 * import { makeGraph, setValueInfo, TensorProto_DataType, toValueInfo } from "@modelpress/onnx";
 * const graph = makeGraph("g");
 * setValueInfo(graph, toValueInfo("h", { elemType: TensorProto_DataType.FLOAT, shape: [1, 64] }));
 * ```
 */
export function setValueInfo(graph: GraphProto, info: ValueInfoProto): void {
  let found = false;
  for (const list of [graph.input, graph.output]) {
    for (const v of list) {
      if (v.name !== info.name) continue;
      found = true;
      if (info.type === undefined) delete v.type;
      else v.type = info.type;
    }
  }
  if (found) return;
  const i = graph.valueInfo.findIndex((v) => v.name === info.name);
  if (i >= 0) graph.valueInfo[i] = info;
  else graph.valueInfo.push(info);
}

/**
 * Makes a TypeProto for a tensor type.
 *
 * @param type The tensor type.
 * @returns A tensor TypeProto.
 * @example
 * ```ts
 * import { TensorProto_DataType, toTypeProto } from "@modelpress/onnx";
 * toTypeProto({ elemType: TensorProto_DataType.INT64, shape: [] }); // a scalar int64
 * ```
 */
export function toTypeProto(type: TensorType): TypeProto {
  const tensor: { elemType: number; shape?: ReturnType<typeof shapeProto> } = {
    elemType: type.elemType,
  };
  if (type.shape !== undefined) tensor.shape = shapeProto(type.shape);
  return create(TypeProtoSchema, { value: { case: "tensorType", value: tensor } });
}

function shapeProto(shape: readonly ShapeDim[]) {
  return create(TensorShapeProtoSchema, {
    dim: shape.map((d) => {
      if (typeof d === "number") {
        return create(TensorShapeProto_DimensionSchema, {
          value: { case: "dimValue", value: BigInt(d) },
        });
      }
      if (typeof d === "string") {
        return create(TensorShapeProto_DimensionSchema, { value: { case: "dimParam", value: d } });
      }
      return create(TensorShapeProto_DimensionSchema);
    }),
  });
}
