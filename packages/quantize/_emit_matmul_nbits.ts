/**
 * Writing blocked weight-only quantization as ONNX Runtime's com.microsoft MatMulNBits: which
 * MatMul and Gemm nodes map onto it exactly, the packing of codes and zero points, and the
 * node that replaces them. Imported only from this folder.
 *
 * MatMulNBits computes `Y = A · dequant(B)ᵀ (+ bias)` with B stored as `[N, blocks, blob]`
 * unsigned codes packed low bits first along K (`blob = blockSize · bits / 8`), scales
 * `[N · blocks]`, and zero points packed the same way per row of N (`ceil(blocks · bits / 8)`
 * bytes each), `2^(bits-1)` when absent; a value is `(code - zeroPoint) · scale`. onnxruntime-web
 * 1.30 (wasm) accepts 2, 4 and 8 bits and power-of-two block sizes from 16.
 * @module
 */
import {
  attrInt,
  float16ToFloat32,
  float32ToFloat16,
  makeNode,
  makeTensor,
  type ModelProto,
  type NodeProto,
  OperatorSetIdProtoSchema,
  tensorData,
  TensorProto_DataType,
  type UniqueNames,
} from "@modelpress/onnx";
import { create } from "@bufbuild/protobuf";
import type { NodeSettings } from "./recipe.ts";
import type { QuantizedTensor } from "./quantize_tensor.ts";
import type { Scope, WeightSource } from "./_scopes.ts";
import type { WeightSlot } from "./weight_slots.ts";
import type { StoredWeight } from "./_emit.ts";

/** The contrib domain of MatMulNBits. */
export const MICROSOFT_DOMAIN = "com.microsoft";

/** Code widths MatMulNBits runs in onnxruntime-web. */
export const MATMUL_NBITS_BITS: readonly number[] = Object.freeze([2, 4, 8]);

/** A node that reads a weight, as the planner sees it. */
export interface NBitsReader {
  readonly scope: Scope;
  readonly node: NodeProto;
  readonly settings: NodeSettings | undefined;
  readonly weights: readonly { readonly slot: WeightSlot; readonly source: WeightSource }[];
  readonly bias?: WeightSource | undefined;
}

/** Which weights are written as MatMulNBits, and why the others of MatMul/Gemm nodes are not. */
export interface NBitsPlan {
  /** Weight keys (`scope path \0 name`) whose every reader becomes MatMulNBits. */
  readonly weights: ReadonlySet<string>;
  /** Why a MatMul or Gemm node that asked for MatMulNBits keeps DequantizeLinear. */
  readonly reasons: ReadonlyMap<NBitsReader, string>;
}

/** The key of a weight, shared with the linear groups of `quantizeModel`. */
export function weightKey(source: WeightSource): string {
  return `${source.scope.path}\u0000${source.name}`;
}

/**
 * Why settings have no MatMulNBits form (undefined when they have one).
 *
 * @param settings Bits and block size.
 * @returns The reason, or undefined.
 */
export function nbitsSettingsProblem(
  settings: { readonly bits: number; readonly blockSize: number },
): string | undefined {
  if (!MATMUL_NBITS_BITS.includes(settings.bits)) {
    return `MatMulNBits takes 2, 4 or 8 bits, not ${settings.bits}`;
  }
  const b = settings.blockSize;
  if (!(b >= 16 && (b & (b - 1)) === 0)) {
    return `MatMulNBits takes a power-of-two block size >= 16, not ${b}`;
  }
  return undefined;
}

/** Whether a node asked for MatMulNBits (linear, blocked, format `matmulnbits`). */
function wantsNBits(reader: NBitsReader): boolean {
  const s = reader.settings;
  return s !== undefined && s.method === "linear" && s.granularity === "block" &&
    s.format === "matmulnbits";
}

/** Why one reader cannot become MatMulNBits for the weight in `use`. */
function readerProblem(
  reader: NBitsReader,
  use: { readonly slot: WeightSlot; readonly source: WeightSource },
): string | undefined {
  const { node, settings } = reader;
  if (node.opType !== "MatMul" && node.opType !== "Gemm") {
    return `${node.opType} has no MatMulNBits form`;
  }
  const settingsProblem = nbitsSettingsProblem(settings!);
  if (settingsProblem !== undefined) return settingsProblem;
  if (use.slot.slot !== 1) return `weight '${use.source.name}' is not input B`;
  const rank = use.source.tensor.dims.length;
  if (rank !== 2) return `weight '${use.source.name}' has rank ${rank}, not 2`;
  if (node.opType === "Gemm") {
    if (intAttr(node, "transA") === 1) return "Gemm with transA=1 has no MatMulNBits form";
    const c = node.input[2] ?? "";
    if (c !== "") {
      const bias = reader.bias?.tensor;
      if (bias === undefined) return `bias '${c}' is not a constant`;
      if (bias.dataType !== use.source.tensor.dataType) {
        return `bias '${c}' is not of its weight's element type`;
      }
      const dims = bias.dims.map(Number);
      const n = Number(use.source.tensor.dims[use.slot.blockAxis === 0 ? 1 : 0]);
      const ok = (dims.length === 1 && dims[0] === n) ||
        (dims.length === 2 && dims[0] === 1 && dims[1] === n);
      if (!ok) return `bias '${c}' has dims [${dims}], not [${n}] (MatMulNBits adds a row bias)`;
    }
  }
  return undefined;
}

/**
 * Decides which weights become MatMulNBits: those whose every reader asked for it and maps onto
 * it exactly, with one block axis among them.
 *
 * @param items The planned nodes.
 * @returns The weights and the reasons for MatMul/Gemm nodes that keep DequantizeLinear.
 */
export function planMatMulNBits(items: readonly NBitsReader[]): NBitsPlan {
  const readers = new Map<string, { reader: NBitsReader; use: NBitsReader["weights"][0] }[]>();
  for (const reader of items) {
    for (const use of reader.weights) {
      const key = weightKey(use.source);
      const list = readers.get(key);
      if (list === undefined) readers.set(key, [{ reader, use }]);
      else list.push({ reader, use });
    }
  }
  const weights = new Set<string>();
  const reasons = new Map<NBitsReader, string>();
  for (const [key, list] of readers) {
    if (!list.some(({ reader }) => wantsNBits(reader))) continue;
    let problem: string | undefined;
    for (const { reader, use } of list) {
      problem = wantsNBits(reader)
        ? readerProblem(reader, use)
        : `weight '${use.source.name}' is also read by node '${reader.node.name}', which keeps ` +
          "DequantizeLinear";
      if (problem === undefined && use.slot.blockAxis !== list[0]!.use.slot.blockAxis) {
        problem = `weight '${use.source.name}' is read with K along different axes`;
      }
      if (problem !== undefined) break;
    }
    if (problem === undefined) {
      weights.add(key);
      continue;
    }
    for (const { reader } of list) {
      const op = reader.node.opType;
      if (!wantsNBits(reader) || (op !== "MatMul" && op !== "Gemm")) continue;
      const label = reader.node.name !== ""
        ? `node '${reader.node.name}'`
        : `an unnamed ${op} node`;
      reasons.set(
        reader,
        `Cannot write ${label} as MatMulNBits: ${problem}; its weight stays DequantizeLinear`,
      );
    }
  }
  return { weights, reasons };
}

/**
 * Packs unsigned codes `bits` wide, low bits first, into bytes.
 *
 * @param codes Codes in `0 .. 2^bits - 1`.
 * @param bits 2, 4 or 8.
 * @param out Where to write (zeroed), from `offset`.
 * @param offset The first byte.
 */
export function packLowFirst(
  codes: ArrayLike<number>,
  bits: number,
  out: Uint8Array,
  offset = 0,
): void {
  const perByte = 8 / bits;
  for (let i = 0; i < codes.length; i++) {
    const at = offset + Math.floor(i / perByte);
    out[at] = out[at]! | (codes[i]! << ((i % perByte) * bits));
  }
}

/** A quantized weight in MatMulNBits' layout. */
export interface NBitsPacked {
  /** K: the reduction length. */
  readonly k: number;
  /** N: the output columns. */
  readonly n: number;
  /** Blocks along K. */
  readonly blocks: number;
  /** Bytes per block. */
  readonly blob: number;
  /** `[N, blocks, blob]`. */
  readonly data: Uint8Array;
  /** `[N · blocks]`. */
  readonly scales: Float32Array;
  /** `[N · ceil(blocks · bits / 8)]`, or undefined when every zero point is `2^(bits-1)`. */
  readonly zeroPoints: Uint8Array | undefined;
}

/**
 * Lays out a blocked quantized `[K, N]` or `[N, K]` weight for MatMulNBits: codes and zero
 * points shifted by `2^(bits-1)` when signed (the value `(c - z) · s` is unchanged), transposed
 * to `[N, K]`, the last block padded with its zero point.
 *
 * @param q The quantized tensor (blocked along `blockAxis`).
 * @param shape The weight's dims.
 * @param blockAxis 0 for `[K, N]`, 1 for `[N, K]`.
 * @returns The packed tensors.
 */
export function packMatMulNBits(
  q: QuantizedTensor,
  shape: readonly number[],
  blockAxis: number,
): NBitsPacked {
  const bits = q.grid.bits;
  const blockSize = q.blockSize!;
  const k = shape[blockAxis]!;
  const n = shape[1 - blockAxis]!;
  const blocks = Math.ceil(k / blockSize);
  const blob = blockSize * bits / 8;
  const shift = q.grid.signed ? 2 ** (bits - 1) : 0;
  const code = blockAxis === 0
    ? (col: number, row: number): number => q.codes[row * n + col]!
    : (col: number, row: number): number => q.codes[col * k + row]!;
  const param = blockAxis === 0
    ? (col: number, b: number): number => b * n + col
    : (col: number, b: number): number => col * blocks + b;
  const data = new Uint8Array(n * blocks * blob);
  const scales = new Float32Array(n * blocks);
  const zp = new Uint8Array(n * blocks);
  const block = new Uint8Array(blockSize);
  let defaultZeroPoints = true;
  for (let col = 0; col < n; col++) {
    for (let b = 0; b < blocks; b++) {
      const p = param(col, b);
      const z = q.zeroPoint[q.zeroPoint.length === 1 ? 0 : p]! + shift;
      scales[col * blocks + b] = q.scale[p]!;
      zp[col * blocks + b] = z;
      if (z !== 2 ** (bits - 1)) defaultZeroPoints = false;
      block.fill(z);
      const end = Math.min(blockSize, k - b * blockSize);
      for (let i = 0; i < end; i++) block[i] = code(col, b * blockSize + i) + shift;
      packLowFirst(block, bits, data, (col * blocks + b) * blob);
    }
  }
  let zeroPoints: Uint8Array | undefined;
  if (!defaultZeroPoints) {
    const row = Math.ceil(blocks * bits / 8);
    zeroPoints = new Uint8Array(n * row);
    for (let col = 0; col < n; col++) {
      packLowFirst(zp.subarray(col * blocks, (col + 1) * blocks), bits, zeroPoints, col * row);
    }
  }
  return { k, n, blocks, blob, data, scales, zeroPoints };
}

/** Initializer names of a weight written for MatMulNBits. */
export interface NBitsWeight extends StoredWeight {
  /** The packed layout (sizes). */
  readonly packed: NBitsPacked;
  /** Bits per code. */
  readonly bits: number;
  /** Block length. */
  readonly blockSize: number;
  /** Gemm biases replaced by copies scaled by beta (removable once nothing reads them). */
  readonly biases: readonly WeightSource[];
}

/**
 * Writes a weight for MatMulNBits into its defining graph and replaces each reader (MatMul or
 * Gemm) by a MatMulNBits node in the reader's graph, with Gemm's alpha folded into the scales and
 * beta into the bias.
 *
 * @param q The quantized weight.
 * @param readers The nodes that read it (each checked by {@linkcode planMatMulNBits}).
 * @param options The weight's source and dims, the names, and the model (for the opset import).
 * @returns The stored names, for the report.
 */
export function emitMatMulNBits(
  q: QuantizedTensor,
  readers: readonly NBitsReader[],
  options: {
    source: WeightSource;
    shape: readonly number[];
    names: UniqueNames;
    model: ModelProto;
  },
): NBitsWeight {
  const { source, names } = options;
  const blockAxis = readers[0]!.weights.find((w) => w.source.name === source.name)!.slot
    .blockAxis;
  const axis = blockAxis < 0 ? blockAxis + 2 : blockAxis;
  const packed = packMatMulNBits(q, options.shape, axis);
  const bits = q.grid.bits;
  const blockSize = q.blockSize!;
  const codes = names.value(`${source.name}_nbits`);
  const zeroPoint = packed.zeroPoints === undefined
    ? ""
    : names.value(`${source.name}_nbits_zero_point`);
  const graph = source.scope.graph;
  // MatMulNBits takes scales and bias in A's element type: fp16 for an fp16 weight.
  const half = source.tensor.dataType === TensorProto_DataType.FLOAT16;
  const floatTensor = (name: string, values: Float32Array, dims: number[]) =>
    half
      ? makeTensor(name, float32ToFloat16(values), {
        dims,
        dataType: TensorProto_DataType.FLOAT16,
      })
      : makeTensor(name, values, { dims });
  graph.initializer.push(
    makeTensor(codes, packed.data, {
      dims: [packed.n, packed.blocks, packed.blob],
      dataType: TensorProto_DataType.UINT8,
    }),
  );
  if (packed.zeroPoints !== undefined) {
    graph.initializer.push(
      makeTensor(zeroPoint, packed.zeroPoints, {
        dims: [packed.zeroPoints.length],
        dataType: TensorProto_DataType.UINT8,
      }),
    );
  }
  // One scale tensor per Gemm alpha among the readers (alpha folded in).
  const scaled = new Map<number, string>();
  const biases: WeightSource[] = [];
  for (const reader of readers) {
    const { node } = reader;
    const isGemm = node.opType === "Gemm";
    const alpha = isGemm ? floatAttr(node, "alpha") ?? 1 : 1;
    let scaleName = scaled.get(alpha);
    if (scaleName === undefined) {
      scaleName = names.value(`${source.name}_nbits_scale${alpha === 1 ? "" : "_alpha"}`);
      graph.initializer.push(
        floatTensor(
          scaleName,
          alpha === 1 ? packed.scales : packed.scales.map((s) => Math.fround(s * alpha)),
          [packed.scales.length],
        ),
      );
      scaled.set(alpha, scaleName);
    }
    let bias = "";
    if (isGemm && (node.input[2] ?? "") !== "") {
      const beta = floatAttr(node, "beta") ?? 1;
      const data = tensorData(reader.bias!.tensor);
      const values = half ? float16ToFloat32(data as Uint16Array) : data as Float32Array;
      if (beta === 1 && reader.bias!.tensor.dims.length === 1) {
        bias = node.input[2]!;
      } else {
        bias = names.value(`${node.input[2]!}_nbits_bias`);
        biases.push(reader.bias!);
        reader.scope.graph.initializer.push(
          floatTensor(bias, values.map((v) => Math.fround(v * beta)), [packed.n]),
        );
      }
    }
    const inputs = [node.input[0]!, codes, scaleName, zeroPoint, "", bias];
    while (inputs[inputs.length - 1] === "") inputs.pop();
    const base = node.name !== "" ? node.name : node.output[0]!;
    const replacement = makeNode("MatMulNBits", {
      inputs,
      outputs: [node.output[0]!],
      name: names.node(`${base}_MatMulNBits`),
      domain: MICROSOFT_DOMAIN,
      attributes: {
        K: attrInt(packed.k),
        N: attrInt(packed.n),
        bits: attrInt(bits),
        block_size: attrInt(blockSize),
      },
    });
    const nodes = reader.scope.graph.node;
    nodes.splice(nodes.indexOf(node), 1, replacement);
  }
  addMicrosoftOpset(options.model);
  return {
    codes,
    scale: [...scaled.values()][0]!,
    zeroPoint,
    storedAs: `uint${bits}`,
    packed,
    bits,
    blockSize,
    biases,
  };
}

/** Imports the com.microsoft opset (version 1) unless the model already does. */
function addMicrosoftOpset(model: ModelProto): void {
  if (model.opsetImport.some((o) => o.domain === MICROSOFT_DOMAIN)) return;
  model.opsetImport.push(
    create(OperatorSetIdProtoSchema, { domain: MICROSOFT_DOMAIN, version: 1n }),
  );
}

function intAttr(node: NodeProto, name: string): number | undefined {
  const a = node.attribute.find((x) => x.name === name);
  return a === undefined ? undefined : Number(a.i);
}

function floatAttr(node: NodeProto, name: string): number | undefined {
  return node.attribute.find((x) => x.name === name)?.f;
}
