/**
 * Simple shape and type inference over one graph, for the operators compression touches most:
 * MatMul, Gemm, Conv (pads, strides, dilations, group, auto_pad), pooling, element-wise
 * operators with broadcasting, Flatten, Reshape with a constant shape, Transpose, Concat,
 * BatchNormalization, Softmax, Squeeze/Unsqueeze, reductions, Slice, Pad, Gather, Shape, Cast,
 * Q/DQ and a few more. Enough to count MACs and to check a rewiring; operators it does not know
 * give unknown types (or the graph's declared ones), never errors.
 *
 * @example
 * ```ts
 * import { decodeModel, inferShapes } from "@modelpress/onnx";
 * const model = decodeModel(await Deno.readFile("model.onnx"));
 * const types = inferShapes(model.graph!);
 * console.log(types.get("conv1_out")?.shape); // e.g. ["batch", 64, 112, 112]
 * ```
 * @module
 */
import {
  type AttributeProto,
  type GraphProto,
  type NodeProto,
  type TensorProto,
  TensorProto_DataType,
} from "./_gen/onnx_pb.ts";
import { describeNode } from "./_describe.ts";
import { constantNodeTensor } from "./graph_index.ts";
import { isDefaultDomain } from "./opset.ts";
import {
  findValueInfo,
  setValueInfo,
  type ShapeDim,
  type TensorType,
  tensorTypeOfTensor,
  tensorTypeOfType,
  toValueInfo,
  UNKNOWN_TENSOR_TYPE,
} from "./shapes.ts";
import { tensorData } from "./tensor.ts";
import { topologicalOrder } from "./topological_sort.ts";

/** Options for {@linkcode inferShapes}. */
export interface InferShapesOptions {
  /** Types of values of enclosing graphs, for a subgraph that reads them. */
  readonly outer?: ReadonlyMap<string, TensorType>;
  /**
   * Store what was inferred for node outputs in the graph: a graph output's type is updated,
   * other values get a `value_info` entry (default false).
   */
  readonly write?: boolean;
}

const T = TensorProto_DataType;
const DECODER = new TextDecoder();

/**
 * Infers the element type and shape of every value of a graph: graph inputs and initializers as
 * declared, node outputs from their operator and inputs (in topological order). Where inference
 * knows less than the graph's value info, the declared dims fill the gaps. Subgraphs are not
 * entered (If, Loop and Scan outputs come from their declared types).
 *
 * @param graph The graph.
 * @param options `outer` types for a subgraph, and `write`.
 * @returns Each value's type, by name (values of enclosing graphs are not included).
 * @throws {RangeError} When a known operator's input shapes contradict each other, e.g.
 *   "Cannot infer shapes of node 'mm' (MatMul): inner dimensions 3 and 4 differ", or the graph
 *   has a cycle.
 * @example
 * ```ts
 * import { inferShapes, makeGraph, makeNode, makeTensor, makeValueInfo, TensorProto_DataType } from "@modelpress/onnx";
 * const graph = makeGraph("g", {
 *   nodes: [makeNode("MatMul", { inputs: ["x", "w"], outputs: ["y"] })],
 *   inputs: [makeValueInfo("x", TensorProto_DataType.FLOAT, { shape: ["n", 3] })],
 *   initializers: [makeTensor("w", new Float32Array(12), { dims: [3, 4] })],
 * });
 * inferShapes(graph).get("y"); // { elemType: 1, shape: ["n", 4] }
 * ```
 */
export function inferShapes(
  graph: GraphProto,
  options: InferShapesOptions = {},
): Map<string, TensorType> {
  const types = new Map<string, TensorType>();
  const constants = new Map<string, TensorProto>();
  for (const t of graph.initializer) {
    types.set(t.name, tensorTypeOfTensor(t));
    constants.set(t.name, t);
  }
  for (const s of graph.sparseInitializer) {
    if (s.values !== undefined) {
      types.set(s.values.name, { elemType: s.values.dataType, shape: s.dims.map(Number) });
    }
  }
  for (const v of graph.input) {
    const declared = v.type === undefined ? undefined : tensorTypeOfType(v.type);
    if (declared !== undefined) types.set(v.name, declared);
    // An initializer that is also an input may be overridden: it is not a constant.
    constants.delete(v.name);
  }
  const typeOf = (name: string): TensorType | undefined =>
    name === "" ? undefined : types.get(name) ?? options.outer?.get(name);
  const ctx: Context = {
    typeOf,
    constant: (name) => constants.get(name),
  };
  for (const node of topologicalOrder(graph)) {
    let inferred: (TensorType | undefined)[] = [];
    if (isDefaultDomain(node.domain)) {
      if (node.opType === "Constant") {
        const tensor = constantNodeTensor(node);
        if (tensor !== undefined && node.output[0] !== undefined) {
          constants.set(node.output[0], tensor);
          inferred = [tensorTypeOfTensor(tensor)];
        }
      } else {
        const rule = RULES.get(node.opType);
        if (rule !== undefined) inferred = rule(node, ctx);
        else if (node.opType === "If") inferred = ifOutputs(node);
      }
    }
    for (const [slot, name] of node.output.entries()) {
      if (name === "") continue;
      const info = findValueInfo(graph, name);
      const declared = info?.type === undefined ? undefined : tensorTypeOfType(info.type);
      const type = merge(inferred[slot], declared);
      types.set(name, type);
      if (options.write && (type.elemType !== T.UNDEFINED || type.shape !== undefined)) {
        setValueInfo(graph, toValueInfo(name, type));
      }
    }
  }
  return types;
}

// ---------------------------------------------------------------------------------------------
// Rules

interface Context {
  typeOf(name: string): TensorType | undefined;
  constant(name: string): TensorProto | undefined;
}

type Rule = (node: NodeProto, ctx: Context) => (TensorType | undefined)[];

/** Output 0 has the type and shape of input 0. */
const sameAsInput: Rule = (node, ctx) => [ctx.typeOf(node.input[0] ?? "")];

const RULES = new Map<string, Rule>();
for (
  const op of [
    "Abs",
    "Acos",
    "Acosh",
    "Asin",
    "Asinh",
    "Atan",
    "Atanh",
    "Ceil",
    "Celu",
    "Clip",
    "Cos",
    "Cosh",
    "CumSum",
    "Elu",
    "Erf",
    "Exp",
    "Floor",
    "Gelu",
    "HardSigmoid",
    "HardSwish",
    "Hardmax",
    "Identity",
    "InstanceNormalization",
    "LRN",
    "LeakyRelu",
    "Log",
    "LogSoftmax",
    "LpNormalization",
    "MeanVarianceNormalization",
    "Mish",
    "Neg",
    "PRelu",
    "Reciprocal",
    "Relu",
    "Round",
    "Selu",
    "Shrink",
    "Sigmoid",
    "Sign",
    "Sin",
    "Sinh",
    "Softmax",
    "Softplus",
    "Softsign",
    "Sqrt",
    "Tan",
    "Tanh",
    "ThresholdedRelu",
    "Trilu",
    "BitwiseNot",
    "Not",
  ]
) RULES.set(op, sameAsInput);

for (
  const op of [
    "Add",
    "Sub",
    "Mul",
    "Div",
    "Pow",
    "Mod",
    "BitShift",
    "Max",
    "Min",
    "Sum",
    "Mean",
    "BitwiseAnd",
    "BitwiseOr",
    "BitwiseXor",
  ]
) {
  RULES.set(op, (node, ctx) => [broadcastAll(node, ctx, node.input, undefined)]);
}
for (
  const op of ["Equal", "Less", "Greater", "LessOrEqual", "GreaterOrEqual", "And", "Or", "Xor"]
) {
  RULES.set(op, (node, ctx) => [broadcastAll(node, ctx, node.input, T.BOOL)]);
}
for (const op of ["IsNaN", "IsInf"]) {
  RULES.set(op, (node, ctx) => [withElem(ctx.typeOf(node.input[0] ?? ""), T.BOOL)]);
}
RULES.set("Where", (node, ctx) => {
  const t = broadcastAll(node, ctx, node.input, undefined);
  return [{ elemType: ctx.typeOf(node.input[1] ?? "")?.elemType ?? T.UNDEFINED, shape: t.shape }];
});

RULES.set("Dropout", (node, ctx) => {
  const x = ctx.typeOf(node.input[0] ?? "");
  return [x, withElem(x, T.BOOL)];
});

RULES.set("LayerNormalization", (node, ctx) => [ctx.typeOf(node.input[0] ?? "")]);

RULES.set("BatchNormalization", (node, ctx) => {
  const x = ctx.typeOf(node.input[0] ?? "");
  const channels: ShapeDim = x?.shape?.[1] ?? null;
  const stat = {
    elemType: ctx.typeOf(node.input[3] ?? "")?.elemType ?? T.UNDEFINED,
    shape: [channels],
  };
  return [x, stat, stat, stat, stat];
});

RULES.set("Cast", (node, ctx) => {
  const to = intAttr(node, "to");
  return [withElem(ctx.typeOf(node.input[0] ?? ""), to ?? T.UNDEFINED)];
});
RULES.set("CastLike", (node, ctx) => [
  withElem(
    ctx.typeOf(node.input[0] ?? ""),
    ctx.typeOf(node.input[1] ?? "")?.elemType ?? T.UNDEFINED,
  ),
]);
RULES.set("QuantizeLinear", (node, ctx) => {
  const x = ctx.typeOf(node.input[0] ?? "");
  const zeroPoint = ctx.typeOf(node.input[2] ?? "")?.elemType;
  return [withElem(x, zeroPoint ?? intAttr(node, "output_dtype") ?? T.UINT8)];
});
RULES.set("DequantizeLinear", (node, ctx) => {
  const x = ctx.typeOf(node.input[0] ?? "");
  const scale = ctx.typeOf(node.input[1] ?? "")?.elemType;
  return [withElem(x, intAttr(node, "output_dtype") || scale || T.FLOAT)];
});

RULES.set("MatMul", (node, ctx) => [matmul(node, ctx, undefined)]);
RULES.set("MatMulInteger", (node, ctx) => [matmul(node, ctx, T.INT32)]);
RULES.set("QLinearMatMul", (node, ctx) => {
  const a = ctx.typeOf(node.input[0] ?? "");
  const b = ctx.typeOf(node.input[3] ?? "");
  const out = matmulShapes(node, a?.shape, b?.shape);
  return [{ elemType: ctx.typeOf(node.input[7] ?? "")?.elemType ?? T.UNDEFINED, shape: out }];
});

RULES.set("Gemm", (node, ctx) => {
  const a = ctx.typeOf(node.input[0] ?? "");
  const b = ctx.typeOf(node.input[1] ?? "");
  const transA = intAttr(node, "transA") ?? 0;
  const transB = intAttr(node, "transB") ?? 0;
  const as = a?.shape;
  const bs = b?.shape;
  const m = as?.length === 2 ? as[transA ? 1 : 0] ?? null : null;
  const ka = as?.length === 2 ? as[transA ? 0 : 1] ?? null : null;
  const kb = bs?.length === 2 ? bs[transB ? 1 : 0] ?? null : null;
  const n = bs?.length === 2 ? bs[transB ? 0 : 1] ?? null : null;
  if (as !== undefined && as.length !== 2) fail(node, `input A has rank ${as.length}, not 2`);
  if (bs !== undefined && bs.length !== 2) fail(node, `input B has rank ${bs.length}, not 2`);
  if (typeof ka === "number" && typeof kb === "number" && ka !== kb) {
    fail(node, `inner dimensions ${ka} and ${kb} differ`);
  }
  return [{ elemType: a?.elemType ?? T.UNDEFINED, shape: [m, n] }];
});

RULES.set("Conv", (node, ctx) => [conv(node, ctx, node.input[0], node.input[1], undefined)]);
RULES.set("ConvInteger", (node, ctx) => [conv(node, ctx, node.input[0], node.input[1], T.INT32)]);
RULES.set("QLinearConv", (node, ctx) => {
  const elem = ctx.typeOf(node.input[7] ?? "")?.elemType ?? T.UNDEFINED;
  return [conv(node, ctx, node.input[0], node.input[3], elem)];
});

for (const op of ["MaxPool", "AveragePool", "LpPool"]) {
  RULES.set(op, (node, ctx) => {
    const y = pool(node, ctx);
    return [y, withElem(y, T.INT64)];
  });
}
for (const op of ["GlobalAveragePool", "GlobalMaxPool", "GlobalLpPool"]) {
  RULES.set(op, (node, ctx) => {
    const x = ctx.typeOf(node.input[0] ?? "");
    const shape = x?.shape;
    return [{
      elemType: x?.elemType ?? T.UNDEFINED,
      shape: shape === undefined ? undefined : shape.map((d, i) => (i < 2 ? d : 1)),
    }];
  });
}

RULES.set("Flatten", (node, ctx) => {
  const x = ctx.typeOf(node.input[0] ?? "");
  const shape = x?.shape;
  if (shape === undefined) return [{ elemType: x?.elemType ?? T.UNDEFINED, shape: [null, null] }];
  const axis = normalizeAxis(node, intAttr(node, "axis") ?? 1, shape.length + 1);
  return [{
    elemType: x?.elemType ?? T.UNDEFINED,
    shape: [product(shape.slice(0, axis)), product(shape.slice(axis))],
  }];
});

RULES.set("Reshape", (node, ctx) => {
  const x = ctx.typeOf(node.input[0] ?? "");
  const target = constInts(ctx, node.input[1]);
  const elemType = x?.elemType ?? T.UNDEFINED;
  if (target === undefined) {
    const rank = ctx.typeOf(node.input[1] ?? "")?.shape?.[0];
    return [{ elemType, shape: typeof rank === "number" ? new Array(rank).fill(null) : undefined }];
  }
  const allowZero = intAttr(node, "allowzero") === 1;
  const input = x?.shape;
  const out: ShapeDim[] = target.map((d, i) => {
    if (d === 0 && !allowZero) return input?.[i] ?? null;
    return d === -1 ? null : d;
  });
  const inferAt = target.indexOf(-1);
  if (inferAt >= 0 && input !== undefined) {
    const total = product(input);
    const rest = product(out.filter((_, i) => i !== inferAt));
    if (typeof total === "number" && typeof rest === "number" && rest !== 0) {
      if (total % rest !== 0) {
        fail(node, `cannot reshape ${total} elements into ${formatShape(target)}`);
      }
      out[inferAt] = total / rest;
    } else if (total !== null && total === rest) {
      out[inferAt] = 1;
    }
  } else if (inferAt < 0 && input !== undefined) {
    const total = product(input);
    const want = product(out);
    if (typeof total === "number" && typeof want === "number" && total !== want) {
      fail(node, `cannot reshape ${total} elements into ${formatShape(target)}`);
    }
  }
  return [{ elemType, shape: out }];
});

RULES.set("Transpose", (node, ctx) => {
  const x = ctx.typeOf(node.input[0] ?? "");
  const shape = x?.shape;
  if (shape === undefined) return [{ elemType: x?.elemType ?? T.UNDEFINED, shape: undefined }];
  const perm = intsAttr(node, "perm") ?? shape.map((_, i) => shape.length - 1 - i);
  if (perm.length !== shape.length) {
    fail(node, `perm ${formatShape(perm)} does not match rank ${shape.length}`);
  }
  return [{ elemType: x?.elemType ?? T.UNDEFINED, shape: perm.map((p) => shape[p] ?? null) }];
});

RULES.set("Concat", (node, ctx) => {
  const inputs = node.input.filter((n) => n !== "").map((n) => ctx.typeOf(n));
  const elemType = inputs.find((t) => t !== undefined && t.elemType !== T.UNDEFINED)?.elemType ??
    T.UNDEFINED;
  const ranked = inputs.filter((t) => t?.shape !== undefined).map((t) => t?.shape as ShapeDim[]);
  const first = ranked[0];
  if (first === undefined) return [{ elemType, shape: undefined }];
  const axis = normalizeAxis(node, intAttr(node, "axis") ?? 0, first.length);
  const out: ShapeDim[] = first.slice();
  for (const shape of ranked.slice(1)) {
    if (shape.length !== first.length) {
      fail(node, `inputs have ranks ${first.length} and ${shape.length}`);
    }
    for (const [i, d] of shape.entries()) {
      if (i !== axis) out[i] = mergeDim(node, out[i] ?? null, d);
    }
  }
  let total: number | null = 0;
  for (const t of inputs) {
    const d = t?.shape?.[axis];
    total = typeof d === "number" && total !== null ? total + d : null;
  }
  out[axis] = total;
  return [{ elemType, shape: out }];
});

RULES.set("Squeeze", (node, ctx) => {
  const x = ctx.typeOf(node.input[0] ?? "");
  const elemType = x?.elemType ?? T.UNDEFINED;
  const shape = x?.shape;
  const axes = intsAttr(node, "axes") ?? constInts(ctx, node.input[1]);
  if (shape === undefined) return [{ elemType, shape: undefined }];
  if (axes === undefined) {
    if (node.input[1] !== undefined && node.input[1] !== "") {
      return [{ elemType, shape: undefined }];
    }
    if (shape.some((d) => typeof d !== "number")) return [{ elemType, shape: undefined }];
    return [{ elemType, shape: shape.filter((d) => d !== 1) }];
  }
  const drop = new Set(axes.map((a) => normalizeAxis(node, a, shape.length)));
  return [{ elemType, shape: shape.filter((_, i) => !drop.has(i)) }];
});

RULES.set("Unsqueeze", (node, ctx) => {
  const x = ctx.typeOf(node.input[0] ?? "");
  const elemType = x?.elemType ?? T.UNDEFINED;
  const shape = x?.shape;
  const axes = intsAttr(node, "axes") ?? constInts(ctx, node.input[1]);
  if (shape === undefined || axes === undefined) return [{ elemType, shape: undefined }];
  const rank = shape.length + axes.length;
  const add = new Set(axes.map((a) => normalizeAxis(node, a, rank)));
  const out: ShapeDim[] = [];
  let j = 0;
  for (let i = 0; i < rank; i++) out.push(add.has(i) ? 1 : shape[j++] ?? null);
  return [{ elemType, shape: out }];
});

RULES.set("Shape", (node, ctx) => {
  const rank = ctx.typeOf(node.input[0] ?? "")?.shape?.length;
  if (rank === undefined) return [{ elemType: T.INT64, shape: [null] }];
  const clamp = (v: number): number => Math.min(Math.max(v < 0 ? v + rank : v, 0), rank);
  const start = clamp(intAttr(node, "start") ?? 0);
  const end = clamp(intAttr(node, "end") ?? rank);
  return [{ elemType: T.INT64, shape: [Math.max(end - start, 0)] }];
});
RULES.set("Size", () => [{ elemType: T.INT64, shape: [] }]);

RULES.set("Gather", (node, ctx) => {
  const data = ctx.typeOf(node.input[0] ?? "");
  const indices = ctx.typeOf(node.input[1] ?? "");
  const elemType = data?.elemType ?? T.UNDEFINED;
  if (data?.shape === undefined || indices?.shape === undefined) {
    return [{ elemType, shape: undefined }];
  }
  const axis = normalizeAxis(node, intAttr(node, "axis") ?? 0, data.shape.length);
  return [{
    elemType,
    shape: [...data.shape.slice(0, axis), ...indices.shape, ...data.shape.slice(axis + 1)],
  }];
});

RULES.set("ConstantOfShape", (node, ctx) => {
  const value = node.attribute.find((a) => a.name === "value")?.t;
  const dims = constInts(ctx, node.input[0]);
  return [{ elemType: value?.dataType ?? T.FLOAT, shape: dims }];
});

for (
  const op of [
    "ReduceMean",
    "ReduceSum",
    "ReduceMax",
    "ReduceMin",
    "ReduceProd",
    "ReduceL1",
    "ReduceL2",
    "ReduceLogSum",
    "ReduceLogSumExp",
    "ReduceSumSquare",
  ]
) {
  RULES.set(op, (node, ctx) => {
    const x = ctx.typeOf(node.input[0] ?? "");
    const elemType = x?.elemType ?? T.UNDEFINED;
    const shape = x?.shape;
    const keep = (intAttr(node, "keepdims") ?? 1) === 1;
    const axesInput = node.input[1] ?? "";
    const axes = intsAttr(node, "axes") ?? (axesInput === "" ? [] : constInts(ctx, axesInput));
    if (shape === undefined) return [{ elemType, shape: undefined }];
    if (axes === undefined) return [{ elemType, shape: keep ? shape.map(() => null) : undefined }];
    if (axes.length === 0) {
      if (intAttr(node, "noop_with_empty_axes") === 1) return [x];
      return [{ elemType, shape: keep ? shape.map(() => 1) : [] }];
    }
    const reduced = new Set(axes.map((a) => normalizeAxis(node, a, shape.length)));
    const out: ShapeDim[] = [];
    for (const [i, d] of shape.entries()) {
      if (!reduced.has(i)) out.push(d);
      else if (keep) out.push(1);
    }
    return [{ elemType, shape: out }];
  });
}
for (const op of ["ArgMax", "ArgMin"]) {
  RULES.set(op, (node, ctx) => {
    const shape = ctx.typeOf(node.input[0] ?? "")?.shape;
    if (shape === undefined) return [{ elemType: T.INT64, shape: undefined }];
    const axis = normalizeAxis(node, intAttr(node, "axis") ?? 0, shape.length);
    const keep = (intAttr(node, "keepdims") ?? 1) === 1;
    const out = keep
      ? shape.map((d, i) => (i === axis ? 1 : d))
      : shape.filter((_, i) => i !== axis);
    return [{ elemType: T.INT64, shape: out }];
  });
}

RULES.set("Slice", (node, ctx) => {
  const x = ctx.typeOf(node.input[0] ?? "");
  const elemType = x?.elemType ?? T.UNDEFINED;
  const shape = x?.shape;
  if (shape === undefined) return [{ elemType, shape: undefined }];
  const fromAttrs = node.input.length === 1;
  const starts = fromAttrs ? intsAttr(node, "starts") : constInts(ctx, node.input[1]);
  const ends = fromAttrs ? intsAttr(node, "ends") : constInts(ctx, node.input[2]);
  const axesName = node.input[3] ?? "";
  const axes = fromAttrs
    ? intsAttr(node, "axes")
    : axesName === ""
    ? undefined
    : constInts(ctx, axesName);
  const stepsName = node.input[4] ?? "";
  const steps = fromAttrs || stepsName === "" ? undefined : constInts(ctx, stepsName);
  if (
    starts === undefined || ends === undefined || (axesName !== "" && axes === undefined) ||
    (stepsName !== "" && steps === undefined)
  ) {
    return [{ elemType, shape: shape.map(() => null) }];
  }
  const out: ShapeDim[] = shape.slice();
  for (const [k, s] of starts.entries()) {
    const axis = normalizeAxis(node, axes?.[k] ?? k, shape.length);
    const dim = shape[axis];
    const step = steps?.[k] ?? 1;
    const e = ends[k];
    if (typeof dim !== "number" || e === undefined || step === 0) {
      out[axis] = null;
      continue;
    }
    out[axis] = sliceLength(dim, s, e, step);
  }
  return [{ elemType, shape: out }];
});

RULES.set("Pad", (node, ctx) => {
  const x = ctx.typeOf(node.input[0] ?? "");
  const elemType = x?.elemType ?? T.UNDEFINED;
  const shape = x?.shape;
  const pads = intsAttr(node, "pads") ?? constInts(ctx, node.input[1]);
  if (shape === undefined) return [{ elemType, shape: undefined }];
  if (pads === undefined) return [{ elemType, shape: shape.map(() => null) }];
  const axesName = node.input[3] ?? "";
  const axes = axesName === "" ? shape.map((_, i) => i) : constInts(ctx, axesName);
  if (axes === undefined) return [{ elemType, shape: shape.map(() => null) }];
  const out: ShapeDim[] = shape.slice();
  for (const [k, a] of axes.entries()) {
    const axis = normalizeAxis(node, a, shape.length);
    const d = out[axis];
    const begin = pads[k] ?? 0;
    const end = pads[k + axes.length] ?? 0;
    out[axis] = typeof d === "number" ? d + begin + end : begin + end === 0 ? d ?? null : null;
  }
  return [{ elemType, shape: out }];
});

RULES.set("Split", (node, ctx) => {
  const x = ctx.typeOf(node.input[0] ?? "");
  const elemType = x?.elemType ?? T.UNDEFINED;
  const shape = x?.shape;
  const count = node.output.length;
  if (shape === undefined) return node.output.map(() => ({ elemType, shape: undefined }));
  const axis = normalizeAxis(node, intAttr(node, "axis") ?? 0, shape.length);
  const splitName = node.input[1] ?? "";
  const split = intsAttr(node, "split") ??
    (splitName === "" ? undefined : constInts(ctx, splitName));
  const dim = shape[axis];
  return node.output.map((_, i) => {
    let size: ShapeDim = null;
    if (split !== undefined) size = split[i] ?? null;
    else if (typeof dim === "number") {
      const chunk = Math.ceil(dim / count);
      size = i < count - 1 ? chunk : dim - chunk * (count - 1);
    }
    return { elemType, shape: shape.map((d, j) => (j === axis ? size : d)) };
  });
});

// ---------------------------------------------------------------------------------------------
// Helpers

function ifOutputs(node: NodeProto): (TensorType | undefined)[] {
  const branch = node.attribute.find((a) => a.name === "then_branch")?.g;
  if (branch === undefined) return [];
  return branch.output.map((v) => (v.type === undefined ? undefined : tensorTypeOfType(v.type)));
}

function matmul(
  node: NodeProto,
  ctx: Context,
  elemType: TensorProto_DataType | undefined,
): TensorType {
  const a = ctx.typeOf(node.input[0] ?? "");
  const b = ctx.typeOf(node.input[1] ?? "");
  return {
    elemType: elemType ?? a?.elemType ?? T.UNDEFINED,
    shape: matmulShapes(node, a?.shape, b?.shape),
  };
}

function matmulShapes(
  node: NodeProto,
  a: readonly ShapeDim[] | undefined,
  b: readonly ShapeDim[] | undefined,
): ShapeDim[] | undefined {
  if (a === undefined || b === undefined) return undefined;
  if (a.length === 0 || b.length === 0) fail(node, "an input is a scalar");
  const a2 = a.length === 1 ? [1, a[0] ?? null] : a;
  const b2 = b.length === 1 ? [b[0] ?? null, 1] : b;
  const ka = a2[a2.length - 1] ?? null;
  const kb = b2[b2.length - 2] ?? null;
  if (typeof ka === "number" && typeof kb === "number" && ka !== kb) {
    fail(node, `inner dimensions ${ka} and ${kb} differ`);
  }
  const batch = broadcastShapes(node, a2.slice(0, -2), b2.slice(0, -2));
  const out: ShapeDim[] = [...batch];
  if (a.length > 1) out.push(a2[a2.length - 2] ?? null);
  if (b.length > 1) out.push(b2[b2.length - 1] ?? null);
  return out;
}

function conv(
  node: NodeProto,
  ctx: Context,
  xName: string | undefined,
  wName: string | undefined,
  elemType: TensorProto_DataType | undefined,
): TensorType {
  const x = ctx.typeOf(xName ?? "");
  const w = ctx.typeOf(wName ?? "");
  const type = elemType ?? x?.elemType ?? T.UNDEFINED;
  const xs = x?.shape;
  const ws = w?.shape;
  const rank = xs?.length ?? ws?.length;
  if (rank === undefined) return { elemType: type, shape: undefined };
  if (xs !== undefined && ws !== undefined && xs.length !== ws.length) {
    fail(node, `input has rank ${xs.length} and weight rank ${ws.length}`);
  }
  const group = intAttr(node, "group") ?? 1;
  const channels = xs?.[1];
  const perGroup = ws?.[1];
  if (
    typeof channels === "number" && typeof perGroup === "number" && channels !== perGroup * group
  ) {
    fail(node, `input has ${channels} channels, weight expects ${perGroup} x group ${group}`);
  }
  const spatial = rank - 2;
  const kernel = intsAttr(node, "kernel_shape") ?? ws?.slice(2);
  const out: ShapeDim[] = [xs?.[0] ?? null, ws?.[0] ?? null];
  out.push(...spatialDims(node, xs?.slice(2) ?? new Array(spatial).fill(null), kernel, false));
  return { elemType: type, shape: out };
}

function pool(node: NodeProto, ctx: Context): TensorType {
  const x = ctx.typeOf(node.input[0] ?? "");
  const xs = x?.shape;
  const elemType = x?.elemType ?? T.UNDEFINED;
  if (xs === undefined) return { elemType, shape: undefined };
  const kernel = intsAttr(node, "kernel_shape");
  const ceil = intAttr(node, "ceil_mode") === 1;
  return {
    elemType,
    shape: [xs[0] ?? null, xs[1] ?? null, ...spatialDims(node, xs.slice(2), kernel, ceil)],
  };
}

/** Output sizes of a sliding window (Conv and pooling), per spatial axis. */
function spatialDims(
  node: NodeProto,
  input: readonly ShapeDim[],
  kernel: readonly ShapeDim[] | undefined,
  ceilMode: boolean,
): ShapeDim[] {
  const n = input.length;
  const strides = intsAttr(node, "strides") ?? new Array(n).fill(1);
  const dilations = intsAttr(node, "dilations") ?? new Array(n).fill(1);
  const pads = intsAttr(node, "pads") ?? new Array(2 * n).fill(0);
  const autoPad = stringAttr(node, "auto_pad") ?? "NOTSET";
  return input.map((d, i) => {
    const k = kernel?.[i];
    const s = strides[i] ?? 1;
    const dil = dilations[i] ?? 1;
    if (typeof d !== "number") return null;
    if (autoPad === "SAME_UPPER" || autoPad === "SAME_LOWER") return Math.ceil(d / s);
    if (typeof k !== "number") return null;
    const span = (k - 1) * dil + 1;
    if (autoPad === "VALID") return Math.floor((d - span) / s) + 1;
    const begin = pads[i] ?? 0;
    const padded = d + begin + (pads[i + n] ?? 0);
    if (padded < span) fail(node, `window ${span} is larger than padded input ${padded}`);
    if (!ceilMode) return Math.floor((padded - span) / s) + 1;
    let out = Math.ceil((padded - span) / s) + 1;
    // A last window starting in the end padding is dropped (as ONNX Runtime and PyTorch do).
    if ((out - 1) * s >= d + begin) out -= 1;
    return out;
  });
}

function broadcastAll(
  node: NodeProto,
  ctx: Context,
  names: readonly string[],
  elemType: TensorProto_DataType | undefined,
): TensorType {
  let shape: ShapeDim[] | undefined = [];
  let elem: TensorProto_DataType = T.UNDEFINED;
  for (const name of names) {
    if (name === "") continue;
    const t = ctx.typeOf(name);
    if (elem === T.UNDEFINED && t !== undefined) elem = t.elemType;
    if (shape === undefined) continue;
    shape = t?.shape === undefined ? undefined : broadcastShapes(node, shape, t.shape);
  }
  return { elemType: elemType ?? elem, shape };
}

function broadcastShapes(
  node: NodeProto,
  a: readonly ShapeDim[],
  b: readonly ShapeDim[],
): ShapeDim[] {
  const rank = Math.max(a.length, b.length);
  const out: ShapeDim[] = [];
  for (let i = 0; i < rank; i++) {
    const x = i < rank - a.length ? 1 : a[i - (rank - a.length)] ?? null;
    const y = i < rank - b.length ? 1 : b[i - (rank - b.length)] ?? null;
    out.push(broadcastDim(node, x, y));
  }
  return out;
}

function broadcastDim(node: NodeProto, x: ShapeDim, y: ShapeDim): ShapeDim {
  if (x === 1) return y;
  if (y === 1) return x;
  if (x === y) return x;
  if (typeof x === "number" && typeof y === "number") {
    fail(node, `dimensions ${x} and ${y} do not broadcast`);
  }
  // A known size other than 1 decides: the other side must be 1 or equal to it.
  if (typeof x === "number") return x;
  if (typeof y === "number") return y;
  return null;
}

function mergeDim(node: NodeProto, x: ShapeDim, y: ShapeDim): ShapeDim {
  if (x === y) return x;
  if (typeof x === "number" && typeof y === "number") fail(node, `dimensions ${x} and ${y} differ`);
  if (typeof x === "number") return x;
  if (typeof y === "number") return y;
  return x ?? y;
}

/** Inferred dims win; declared ones fill what inference left unknown. */
function merge(inferred: TensorType | undefined, declared: TensorType | undefined): TensorType {
  if (inferred === undefined) return declared ?? UNKNOWN_TENSOR_TYPE;
  if (declared === undefined) return inferred;
  const elemType = inferred.elemType !== T.UNDEFINED ? inferred.elemType : declared.elemType;
  let shape = inferred.shape;
  if (shape === undefined) shape = declared.shape;
  else if (declared.shape !== undefined && declared.shape.length === shape.length) {
    shape = shape.map((d, i) => {
      const other = declared.shape?.[i] ?? null;
      if (typeof d === "number") return d;
      if (typeof other === "number") return other;
      return d ?? other;
    });
  }
  return { elemType, shape };
}

function withElem(type: TensorType | undefined, elemType: TensorProto_DataType): TensorType {
  return { elemType, shape: type?.shape };
}

function product(dims: readonly ShapeDim[]): number | null {
  let p = 1;
  for (const d of dims) {
    if (typeof d !== "number") return null;
    p *= d;
  }
  return p;
}

function sliceLength(dim: number, start: number, end: number, step: number): number {
  const clamp = (v: number, lo: number, hi: number): number => Math.min(Math.max(v, lo), hi);
  let s = start < 0 ? start + dim : start;
  let e = end < 0 ? end + dim : end;
  if (step > 0) {
    s = clamp(s, 0, dim);
    e = clamp(e, 0, dim);
    return Math.max(0, Math.ceil((e - s) / step));
  }
  s = clamp(s, -1, dim - 1);
  e = clamp(e, -1, dim - 1);
  return Math.max(0, Math.ceil((e - s) / step));
}

function normalizeAxis(node: NodeProto, axis: number, rank: number): number {
  const a = axis < 0 ? axis + rank : axis;
  if (a < 0 || a >= rank) fail(node, `axis ${axis} is out of range for rank ${rank}`);
  return a;
}

function attr(node: NodeProto, name: string): AttributeProto | undefined {
  return node.attribute.find((a) => a.name === name);
}

function intAttr(node: NodeProto, name: string): number | undefined {
  const a = attr(node, name);
  return a === undefined ? undefined : Number(a.i);
}

function intsAttr(node: NodeProto, name: string): number[] | undefined {
  const a = attr(node, name);
  return a === undefined ? undefined : a.ints.map(Number);
}

function stringAttr(node: NodeProto, name: string): string | undefined {
  const a = attr(node, name);
  return a === undefined ? undefined : DECODER.decode(a.s);
}

/** The values of a constant integer tensor (INT64 or INT32), or `undefined`. */
function constInts(ctx: Context, name: string | undefined): number[] | undefined {
  if (name === undefined || name === "") return undefined;
  const tensor = ctx.constant(name);
  if (tensor === undefined || (tensor.dataType !== T.INT64 && tensor.dataType !== T.INT32)) {
    return undefined;
  }
  const data = tensorData(tensor);
  return Array.from(data as ArrayLike<number | bigint>, Number);
}

function formatShape(dims: readonly ShapeDim[]): string {
  return `[${dims.map((d) => (d === null ? "?" : String(d))).join(", ")}]`;
}

function fail(node: NodeProto, why: string): never {
  throw new RangeError(`Cannot infer shapes of ${describeNode(node)} (${node.opType}): ${why}`);
}
