/**
 * Sparse storage that onnxruntime-web 1.30 loads: a tensor with many equal elements (zeros
 * after pruning; the zero point's code after quantization) is stored as a packed bit mask (one
 * bit per element) and the other elements' values, and rebuilt into the dense initializer by
 * standard ops (opset >= 11) that onnxruntime folds into a constant when the session is created:
 *
 * ```
 * bits [B] uint8 -> Reshape [B,1] -> Cast int32 -> Div [1,2,4,..,128] -> Mod 2   (bit j of byte b)
 *   -> Reshape [-1] -> (Slice to n) = m in {0,1}
 * idx = CumSum(m) * m            (k for the k-th kept element, 0 for the fill)
 * w   = Reshape(Gather([fill, v1, v2, ...], idx), shape)
 * ```
 *
 * Why not ONNX `sparse_initializer`: its COO indices are INT64 (8 bytes each; onnxruntime also
 * reads int32/int16/int8 ones, but linear indices of a large tensor need 4 bytes), so at 50%
 * sparsity a float32 tensor would take 6 bytes per element kept = 75% of dense with int32
 * indices, 100%+ with int64; the bit mask costs 1/8 byte per element: 53% at 50% sparsity.
 * @module
 */
import {
  type ModelProto,
  type NodeProto,
  type TensorProto,
  TensorProto_DataType,
} from "./_gen/onnx_pb.ts";
import { attrInt, makeGraph, makeModel, makeNode, makeTensor } from "./build.ts";
import { encodedModelSize } from "./codec.ts";
import { elementCount, tensorData } from "./tensor.ts";
import { GraphIndex } from "./graph_index.ts";
import { opsetVersion } from "./opset.ts";
import { UniqueNames } from "./unique_names.ts";

/** The doc string that marks the last node of a sparse encoding (see {@linkcode densifyStorage}). */
export const SPARSE_STORAGE_MARK = "modelpress.sparse/1";

/** Options of {@linkcode sparsifyStorage}. */
export interface SparsifyStorageOptions {
  /**
   * `auto`: encode a tensor only when the encoding (with its nodes) is smaller; `sparse`: encode
   * every candidate that has at least one fill element. Default `auto`.
   */
  readonly mode?: "auto" | "sparse";
  /** Only these initializers (default: every main-graph initializer of a supported type). */
  readonly tensors?: readonly string[];
  /** Tensors with fewer elements stay dense. Default 64. */
  readonly minElements?: number;
}

/** What happened to one tensor. */
export interface SparseTensorReport {
  /** The initializer's name. */
  readonly name: string;
  /** Its ONNX element type name (`FLOAT`, `INT8`, ...). */
  readonly dataType: string;
  /** Elements. */
  readonly elements: number;
  /** The value stored implicitly (0, or for integer types the most frequent value). */
  readonly fill: number;
  /** Elements that differ from the fill, stored explicitly. */
  readonly stored: number;
  /** Encoded bytes as a dense initializer. */
  readonly denseBytes: number;
  /** Encoded bytes as mask, values and nodes. */
  readonly sparseBytes: number;
  /** Whether it is now stored sparsely. */
  readonly sparse: boolean;
}

/** The result of {@linkcode sparsifyStorage}. */
export interface SparsifyStorageResult {
  /** The model, changed in place. */
  readonly model: ModelProto;
  /** Every candidate tensor (supported type, enough elements). */
  readonly tensors: readonly SparseTensorReport[];
  /** Encoded model bytes before. */
  readonly bytesBefore: number;
  /** Encoded model bytes after. */
  readonly bytesAfter: number;
}

const T = TensorProto_DataType;
const FLOAT_TYPES: readonly number[] = [T.FLOAT, T.FLOAT16, T.DOUBLE];
const SUPPORTED: ReadonlyMap<number, string> = new Map([
  [T.FLOAT, "FLOAT"],
  [T.FLOAT16, "FLOAT16"],
  [T.DOUBLE, "DOUBLE"],
  [T.INT8, "INT8"],
  [T.UINT8, "UINT8"],
  [T.INT16, "INT16"],
  [T.UINT16, "UINT16"],
  [T.INT32, "INT32"],
]);

/**
 * Stores the main graph's initializers with many equal elements as a bit mask plus the other
 * values, rebuilt by constant-folded ops (see the module doc), per tensor only when smaller (in
 * `auto` mode). Works on pruned float models and on quantized ones (int8/uint8 weights of
 * DequantizeLinear, MatMulInteger, ConvInteger: the fill is the most frequent code, the zero
 * point after pruning). Values are kept bit for bit, except that float -0 becomes +0.
 * Initializers that are also graph inputs or outputs, or read inside subgraphs, stay dense.
 *
 * @param model The model, changed in place.
 * @param options Mode, tensors and size floor.
 * @returns The model, a per-tensor report and the encoded sizes before and after.
 * @throws {TypeError} When the model has no graph.
 * @example
 * ```ts
 * import { decodeModel, encodeModel } from "@modelpress/onnx";
 * import { sparsifyStorage } from "@modelpress/onnx";
 * const model = decodeModel(await Deno.readFile("pruned.onnx"));
 * const { bytesBefore, bytesAfter } = sparsifyStorage(model);
 * await Deno.writeFile("pruned_sparse.onnx", encodeModel(model));
 * ```
 */
export function sparsifyStorage(
  model: ModelProto,
  options: SparsifyStorageOptions = {},
): SparsifyStorageResult {
  const graph = model.graph;
  if (graph === undefined) throw new TypeError("Cannot sparsify storage: model has no graph");
  const bytesBefore = encodedModelSize(model);
  const opset = opsetVersion(model, "") ?? 0;
  const mode = options.mode ?? "auto";
  const minElements = options.minElements ?? 64;
  const wanted = options.tensors === undefined ? undefined : new Set(options.tensors);
  const index = new GraphIndex(graph);
  const names = new UniqueNames(model);
  const reports: SparseTensorReport[] = [];
  const shared = new SharedConstants(names);
  const newNodes: NodeProto[] = [];
  const keep: TensorProto[] = [];
  for (const tensor of graph.initializer) {
    const dataTypeName = SUPPORTED.get(tensor.dataType);
    const eligible = opset >= 11 && dataTypeName !== undefined &&
      (wanted === undefined || wanted.has(tensor.name)) && !index.isGraphInput(tensor.name) &&
      !index.isGraphOutput(tensor.name) && !index.subgraphsUse(tensor.name) &&
      tensor.externalData.length === 0 && elementCount(tensor) >= minElements;
    if (!eligible) {
      keep.push(tensor);
      continue;
    }
    const n = elementCount(tensor);
    const data = tensorData(tensor) as ArrayLike<number>;
    const fill = FLOAT_TYPES.includes(tensor.dataType) ? 0 : mostFrequent(data);
    const isFill = tensor.dataType === T.FLOAT16
      ? (v: number) => (v & 0x7fff) === 0
      : (v: number) => v === fill;
    let stored = 0;
    for (let i = 0; i < n; i++) if (!isFill(data[i]!)) stored++;
    const encoding = encode(tensor, data, { fill, stored, isFill, names, shared });
    const denseBytes = sizeOf([], [tensor]);
    const sparseBytes = sizeOf(encoding.nodes, encoding.tensors);
    const sparse = stored < n && (mode === "sparse" || sparseBytes < denseBytes);
    reports.push({
      name: tensor.name,
      dataType: dataTypeName!,
      elements: n,
      fill,
      stored,
      denseBytes,
      sparseBytes,
      sparse,
    });
    if (sparse) {
      newNodes.push(...encoding.nodes);
      keep.push(...encoding.tensors);
      shared.used = true;
    } else {
      keep.push(tensor);
    }
  }
  if (newNodes.length > 0) {
    graph.initializer = [...shared.tensors(), ...keep];
    graph.node.unshift(...newNodes);
  }
  return { model, tensors: reports, bytesBefore, bytesAfter: encodedModelSize(model) };
}

/** The small constants every encoding shares, made once. */
class SharedConstants {
  used = false;
  readonly pow2: string;
  readonly two: string;
  readonly column: string;
  readonly flat: string;
  readonly zero: string;

  constructor(names: UniqueNames) {
    this.pow2 = names.value("sparse_storage.pow2");
    this.two = names.value("sparse_storage.two");
    this.column = names.value("sparse_storage.column");
    this.flat = names.value("sparse_storage.flat");
    this.zero = names.value("sparse_storage.zero");
  }

  tensors(): TensorProto[] {
    if (!this.used) return [];
    return [
      makeTensor(this.pow2, new Int32Array([1, 2, 4, 8, 16, 32, 64, 128]), { dims: [1, 8] }),
      makeTensor(this.two, new Int32Array([2]), { dims: [] }),
      makeTensor(this.column, new BigInt64Array([-1n, 1n])),
      makeTensor(this.flat, new BigInt64Array([-1n])),
      makeTensor(this.zero, new Int32Array([0]), { dims: [] }),
    ];
  }
}

interface EncodeContext {
  readonly fill: number;
  readonly stored: number;
  readonly isFill: (v: number) => boolean;
  readonly names: UniqueNames;
  readonly shared: SharedConstants;
}

function encode(
  tensor: TensorProto,
  data: ArrayLike<number>,
  ctx: EncodeContext,
): { nodes: NodeProto[]; tensors: TensorProto[] } {
  const { names, shared } = ctx;
  const n = data.length;
  const w = tensor.name;
  const bytes = Math.ceil(n / 8);
  const bits = new Uint8Array(bytes);
  const Ctor = (data as unknown as { constructor: new (n: number) => ArrayLike<number> })
    .constructor;
  const values = new Ctor(ctx.stored + 1) as unknown as { [i: number]: number };
  values[0] = tensor.dataType === T.FLOAT16 ? 0 : ctx.fill;
  let k = 1;
  for (let i = 0; i < n; i++) {
    const v = data[i]!;
    if (!ctx.isFill(v)) {
      bits[i >> 3]! |= 1 << (i & 7);
      values[k++] = v;
    }
  }
  // Intermediate values get short names: they vanish when onnxruntime folds the constants, and
  // every byte of name is paid per tensor. Nodes are unnamed for the same reason.
  const v = (suffix: string): string => names.value(`${w}.${suffix}`);
  const bitsName = v("mask_bits");
  const valuesName = v("values");
  const shapeName = v("shape");
  const tensors = [
    makeTensor(bitsName, bits),
    makeTensor(valuesName, values as unknown as Float32Array, {
      dataType: tensor.dataType,
      dims: [ctx.stored + 1],
    }),
    makeTensor(shapeName, BigInt64Array.from(tensor.dims.map((d) => BigInt(d)))),
  ];
  const col = v("s0");
  const ints = v("s1");
  const shifted = v("s2");
  const bit = v("s3");
  const flat = v("s4");
  const mask = bytes * 8 === n ? flat : v("s5");
  const cum = v("s6");
  const idx = v("s7");
  const dense = v("s8");
  const nodes = [
    makeNode("Reshape", {
      inputs: [bitsName, shared.column],
      outputs: [col],
    }),
    makeNode("Cast", {
      inputs: [col],
      outputs: [ints],
      attributes: { to: attrInt(T.INT32) },
    }),
    makeNode("Div", { inputs: [ints, shared.pow2], outputs: [shifted] }),
    makeNode("Mod", { inputs: [shifted, shared.two], outputs: [bit] }),
    makeNode("Reshape", { inputs: [bit, shared.flat], outputs: [flat] }),
  ];
  if (mask !== flat) {
    const starts = v("s9");
    const ends = v("s10");
    tensors.push(makeTensor(starts, new BigInt64Array([0n])));
    tensors.push(makeTensor(ends, new BigInt64Array([BigInt(n)])));
    nodes.push(
      makeNode("Slice", { inputs: [flat, starts, ends], outputs: [mask] }),
    );
  }
  nodes.push(
    makeNode("CumSum", { inputs: [mask, shared.zero], outputs: [cum] }),
    makeNode("Mul", { inputs: [cum, mask], outputs: [idx] }),
    makeNode("Gather", {
      inputs: [valuesName, idx],
      outputs: [dense],
      attributes: { axis: attrInt(0) },
    }),
    makeNode("Reshape", {
      inputs: [dense, shapeName],
      outputs: [w],
      docString: SPARSE_STORAGE_MARK,
    }),
  );
  return { nodes, tensors };
}

/** Encoded bytes of nodes and tensors, as the part of a graph they take. */
function sizeOf(nodes: readonly NodeProto[], tensors: readonly TensorProto[]): number {
  const empty = encodedModelSize(makeModel(makeGraph("g")));
  return encodedModelSize(
    makeModel(makeGraph("g", { nodes: [...nodes], initializers: [...tensors] })),
  ) - empty;
}

function mostFrequent(data: ArrayLike<number>): number {
  if (data instanceof Int8Array || data instanceof Uint8Array) {
    const offset = data instanceof Int8Array ? 128 : 0;
    const histogram = new Uint32Array(256);
    for (let i = 0; i < data.length; i++) histogram[data[i]! + offset]!++;
    let top = 0;
    for (let v = 1; v < 256; v++) if (histogram[v]! > histogram[top]!) top = v;
    return top - offset;
  }
  const counts = new Map<number, number>();
  let best = 0;
  let bestCount = -1;
  for (let i = 0; i < data.length; i++) {
    const v = data[i]!;
    const c = (counts.get(v) ?? 0) + 1;
    counts.set(v, c);
    if (c > bestCount) {
      best = v;
      bestCount = c;
    }
  }
  return best;
}

/** The result of {@linkcode densifyStorage}. */
export interface DensifyStorageResult {
  /** The model, changed in place. */
  readonly model: ModelProto;
  /** The initializers rebuilt as dense tensors. */
  readonly tensors: readonly string[];
}

/**
 * Undoes {@linkcode sparsifyStorage}: every tensor it encoded becomes a dense initializer again
 * (so that tools that want constant weights, such as quantization, see them), its nodes and
 * mask/values tensors removed.
 *
 * @param model The model, changed in place.
 * @returns The model and the names of the rebuilt tensors.
 * @throws {TypeError} When the model has no graph or an encoding is malformed.
 * @example
 * ```ts
 * import { decodeModel } from "@modelpress/onnx";
 * import { densifyStorage } from "@modelpress/onnx";
 * const model = decodeModel(await Deno.readFile("pruned_sparse.onnx"));
 * densifyStorage(model).tensors; // the weights, dense again
 * ```
 */
export function densifyStorage(model: ModelProto): DensifyStorageResult {
  const graph = model.graph;
  if (graph === undefined) throw new TypeError("Cannot densify storage: model has no graph");
  const index = new GraphIndex(graph);
  const chain = new Set<NodeProto>();
  const inputs = new Set<string>();
  const dense: TensorProto[] = [];
  for (const last of graph.node) {
    if (last.docString !== SPARSE_STORAGE_MARK || last.opType !== "Reshape") continue;
    const name = last.output[0] ?? "";
    const fail = (why: string): never => {
      throw new TypeError(`Cannot densify tensor '${name}': ${why}`);
    };
    const mine: NodeProto[] = [];
    const stack = [last];
    while (stack.length > 0) {
      const node = stack.pop()!;
      if (mine.includes(node)) continue;
      mine.push(node);
      for (const input of node.input) {
        if (input === "") continue;
        const producer = index.producerOf(input);
        if (producer !== undefined) stack.push(producer.node);
        else if (index.initializer(input) !== undefined) inputs.add(input);
        else fail(`its encoding reads '${input}', which is not a constant`);
      }
    }
    const gather = mine.find((n) => n.opType === "Gather") ?? fail("no Gather node");
    const bitsReshape = mine.find((n) =>
      n.opType === "Reshape" && n !== last && index.initializer(n.input[0] ?? "") !== undefined
    ) ??
      fail("no mask Reshape");
    const values = index.initializer(gather.input[0] ?? "") ?? fail("no values tensor");
    const bits = index.initializer(bitsReshape.input[0] ?? "") ?? fail("no mask tensor");
    const shape = index.initializer(last.input[1] ?? "") ?? fail("no shape tensor");
    const dims = [...(tensorData(shape) as BigInt64Array)];
    const n = elementCount(dims);
    const v = tensorData(values) as ArrayLike<number>;
    const b = tensorData(bits) as Uint8Array;
    const Ctor = (v as unknown as { constructor: new (n: number) => ArrayLike<number> })
      .constructor;
    const out = new Ctor(n) as unknown as { [i: number]: number };
    let k = 1;
    for (let i = 0; i < n; i++) {
      out[i] = (b[i >> 3]! >> (i & 7)) & 1 ? v[k++]! : v[0]!;
    }
    if (k !== v.length) {
      fail(`the mask keeps ${k - 1} elements, the values hold ${v.length - 1}`);
    }
    dense.push(
      makeTensor(name, out as unknown as Float32Array, { dataType: values.dataType, dims }),
    );
    for (const node of mine) {
      chain.add(node);
    }
  }
  if (dense.length === 0) return { model, tensors: [] };
  graph.node = graph.node.filter((node) => !chain.has(node));
  graph.initializer.push(...dense);
  const after = new GraphIndex(graph);
  graph.initializer = graph.initializer.filter((t) =>
    !inputs.has(t.name) || after.isUsed(t.name) || after.isGraphOutput(t.name)
  );
  return { model, tensors: dense.map((t) => t.name) };
}
