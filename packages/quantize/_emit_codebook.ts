/**
 * Writing codebook-quantized weights into graphs with standard operators only: the codes as an
 * unsigned 8-bit (or, from opset 21, packed 4-bit) initializer, the codebooks as a float
 * initializer, and Cast -> Gather (per channel: -> Add -> or -> Mul) rebuilding the float weight.
 * Imported only from this folder.
 * @module
 */
import {
  attrInt,
  float32ToFloat16,
  makeNode,
  makeTensor,
  type NodeProto,
  TensorProto_DataType,
  type UniqueNames,
} from "@modelpress/onnx";
import type { CodebookTensor } from "./codebook_tensor.ts";
import type { Scope } from "./_scopes.ts";

const T = TensorProto_DataType;

/** What {@linkcode addCodebookWeight} wrote. */
export interface StoredCodebookWeight {
  /** The codes initializer's name. */
  readonly codes: string;
  /** The codebook initializer's name. */
  readonly codebook: string;
  /** The rebuilt float weight (the Gather's output). */
  readonly output: string;
  /** The codes' stored element type (`uint8` or `uint4`). */
  readonly storedAs: string;
}

/**
 * Adds a codebook tensor to a graph and the nodes that rebuild the float weight, placed first in
 * the graph. Gather takes int32 or int64 indices only, so the stored codes are Cast to int32;
 * per channel, each channel's offset into the concatenated codebooks (`channel * 2^bits`) is
 * added at run time (a broadcast Add of a [C, 1, ...] int32 initializer), which keeps the stored
 * codes one byte (or half a byte) each. Gather on the flat codebook then yields the weight's
 * shape directly, so no Reshape is needed. Per-channel `log` codebooks differ only by their
 * power-of-two scale, so one shared codebook of `2^bits` signed powers of two is stored instead,
 * and the gathered values are multiplied by the [C, 1, ...] scales (exact: a product with a power
 * of two). onnxruntime folds the whole chain into a constant when it loads the model.
 *
 * @param scope The graph that defines the weight.
 * @param base The float weight's name, the base of the new names.
 * @param options The tensor, the opset, the names, and whether the weight is float16: then the
 *   codebook is FLOAT16, so that Gather yields fp16 directly; per-channel `log` keeps its unit
 *   codebook and power-of-two scales in float32 (fp16 would flush the small codes of 6 bits and
 *   more, or overflow a scale of 2^16) and Casts their product to fp16.
 * @returns The new names.
 */
export function addCodebookWeight(
  scope: Scope,
  base: string,
  options: { q: CodebookTensor; opset: number; names: UniqueNames; float16?: boolean },
): StoredCodebookWeight {
  const { q, names } = options;
  const graph = scope.index.graph;
  // UINT4 exists from opset 21 (Cast reads it there); before, one code per byte.
  const packed = q.bits <= 4 && options.opset >= 21;
  const codes = names.value(`${base}_codes`);
  const codebook = names.value(`${base}_codebook`);
  const asIndex = names.value(`${base}_codes_int32`);
  const output = names.value(`${base}_decoded`);
  const scaled = q.method === "log" && q.axis !== undefined;
  const book = scaled ? logUnitCodebook(q.bits) : q.codebook;
  graph.initializer.push(
    makeTensor(codes, q.codes, { dims: q.shape, dataType: packed ? T.UINT4 : T.UINT8 }),
    options.float16 && !scaled
      ? makeTensor(codebook, float32ToFloat16(book), { dims: [book.length], dataType: T.FLOAT16 })
      : makeTensor(codebook, book, { dims: [book.length] }),
  );
  const nodes: NodeProto[] = [
    makeNode("Cast", {
      inputs: [codes],
      outputs: [asIndex],
      name: names.node(`${base}_CodesCast`),
      attributes: { to: attrInt(T.INT32) },
    }),
  ];
  // [C, 1, ..., 1]: broadcasts along the channel axis.
  const channelDims = q.axis === undefined
    ? []
    : [q.groups, ...Array(q.shape.length - 1 - q.axis).fill(1)];
  let index = asIndex;
  if (q.axis !== undefined && !scaled) {
    const offsets = names.value(`${base}_codebook_offsets`);
    index = names.value(`${base}_codebook_index`);
    graph.initializer.push(
      makeTensor(offsets, Int32Array.from({ length: q.groups }, (_, g) => g * q.size), {
        dims: channelDims,
      }),
    );
    nodes.push(makeNode("Add", {
      inputs: [asIndex, offsets],
      outputs: [index],
      name: names.node(`${base}_CodebookOffsetAdd`),
    }));
  }
  const gathered = scaled ? names.value(`${base}_unscaled`) : output;
  nodes.push(makeNode("Gather", {
    inputs: [codebook, index],
    outputs: [gathered],
    name: names.node(`${base}_CodebookGather`),
    attributes: { axis: attrInt(0) },
  }));
  if (scaled) {
    const scale = names.value(`${base}_scale`);
    const product = options.float16 ? names.value(`${base}_float32`) : output;
    graph.initializer.push(makeTensor(scale, q.scale, { dims: channelDims }));
    nodes.push(makeNode("Mul", {
      inputs: [gathered, scale],
      outputs: [product],
      name: names.node(`${base}_CodebookScaleMul`),
    }));
    if (options.float16) {
      nodes.push(makeNode("Cast", {
        inputs: [product],
        outputs: [output],
        name: names.node(`${base}_CastToFloat16`),
        attributes: { to: attrInt(T.FLOAT16) },
      }));
    }
  }
  graph.node.unshift(...nodes);
  return { codes, codebook, output, storedAs: packed ? "uint4" : "uint8" };
}

/** The `log` codebook of scale 1 (see `logCodebook`): code `u` is `±2^(m - (h - 1))`. */
function logUnitCodebook(bits: number): Float32Array {
  const half = 2 ** (bits - 1);
  const out = new Float32Array(2 * half);
  for (let m = 1; m < half; m++) {
    out[m] = 2 ** (m - (half - 1));
    out[half + m] = -out[m]!;
  }
  return out;
}
