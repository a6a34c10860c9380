/**
 * Test helper for this folder: runs one ONNX QuantizeLinear node in onnxruntime-web, through the
 * repository's shared `test/support/run_model.ts`.
 * @module
 */
import {
  makeGraph,
  makeModel,
  makeNode,
  makeTensor,
  makeValueInfo,
  TensorProto_DataType as T,
} from "@modelpress/onnx";
import { Tensor } from "@modelpress/evaluate";
import { runModel } from "../../../test/support/run_model.ts";

/** What to quantize and how, in ONNX terms. */
export interface OrtQuantize {
  readonly type: "int8" | "uint8";
  readonly shape: readonly number[];
  readonly scale: Float32Array;
  readonly zeroPoint: Int32Array;
  readonly axis?: number;
  readonly blockSize?: number;
}

/** Runs QuantizeLinear in onnxruntime-web and returns its output. */
export async function ortQuantizeLinear(
  x: Float32Array,
  q: OrtQuantize,
): Promise<Int8Array | Uint8Array> {
  const zp = q.type === "int8" ? Int8Array.from(q.zeroPoint) : Uint8Array.from(q.zeroPoint);
  const paramDims = q.axis === undefined
    ? []
    : q.blockSize === undefined
    ? [q.scale.length]
    : q.shape.map((
      d,
      a,
    ) => (a === (q.axis! + q.shape.length) % q.shape.length ? Math.ceil(d / q.blockSize!) : d));
  const attributes: Record<string, bigint> = {};
  if (q.axis !== undefined) attributes.axis = BigInt(q.axis);
  if (q.blockSize !== undefined) attributes.block_size = BigInt(q.blockSize);
  const model = makeModel(makeGraph("quantize", {
    nodes: [makeNode("QuantizeLinear", { inputs: ["x", "s", "z"], outputs: ["y"], attributes })],
    inputs: [makeValueInfo("x", T.FLOAT, { shape: [...q.shape] })],
    outputs: [makeValueInfo("y", q.type === "int8" ? T.INT8 : T.UINT8, { shape: [...q.shape] })],
    initializers: [
      makeTensor("s", q.scale, { dims: paramDims, copy: true }),
      makeTensor("z", zp, { dims: paramDims, copy: true }),
    ],
  }));
  const out = await runModel(model, { x: new Tensor("float32", x, [...q.shape]) });
  return out.y!.data as Int8Array | Uint8Array;
}
