/**
 * Static quantization of activations: QuantizeLinear -> DequantizeLinear on a float tensor,
 * over a calibrated range, read by the quantized nodes. Imported only from this folder.
 * @module
 */
import {
  float32ToFloat16,
  type GraphProto,
  makeNode,
  makeTensor,
  type NodeProto,
  TensorProto_DataType,
  type UniqueNames,
} from "@modelpress/onnx";
import { linearParams } from "./linear_params.ts";
import { quantGrid } from "./quant_grid.ts";
import type { CalibratedRange } from "./calibration_range.ts";
import type { ActivationReport } from "./report.ts";

/**
 * Inserts Q -> DQ for one activation before the first of its consumers (so the graph stays
 * in topological order) and points the consumers' `slot` inputs at the DQ output.
 *
 * @param graph The graph.
 * @param tensor The activation.
 * @param options Range, observed range, code type, names, the consumers, and whether the
 *   activation is float16 (then the scale is FLOAT16, as Q/DQ need from opset 19).
 * @returns The report entry.
 */
export function quantizeActivation(
  graph: GraphProto,
  tensor: string,
  options: {
    readonly range: CalibratedRange;
    readonly observed: CalibratedRange;
    readonly type: "uint8" | "int8";
    readonly names: UniqueNames;
    readonly consumers: readonly { readonly node: NodeProto; readonly slot: number }[];
    readonly float16?: boolean;
  },
): ActivationReport {
  const { names, type } = options;
  const signed = type === "int8";
  const grid = quantGrid(8, { signed });
  const { scale, zeroPoint } = linearParams(
    new Float32Array([options.range.min]),
    new Float32Array([options.range.max]),
    { grid, symmetric: signed },
  );
  const scaleName = names.value(`${tensor}_scale`);
  const zeroName = names.value(`${tensor}_zero_point`);
  const quantized = names.value(`${tensor}_quantized`);
  const dequantized = names.value(`${tensor}_dequantized`);
  graph.initializer.push(
    options.float16
      ? makeTensor(scaleName, float32ToFloat16(scale), {
        dims: [],
        dataType: TensorProto_DataType.FLOAT16,
      })
      : makeTensor(scaleName, scale, { dims: [] }),
    makeTensor(zeroName, signed ? Int8Array.from(zeroPoint) : Uint8Array.from(zeroPoint), {
      dims: [],
      dataType: signed ? TensorProto_DataType.INT8 : TensorProto_DataType.UINT8,
    }),
  );
  const at = Math.min(...options.consumers.map((c) => graph.node.indexOf(c.node)));
  graph.node.splice(
    at,
    0,
    makeNode("QuantizeLinear", {
      inputs: [tensor, scaleName, zeroName],
      outputs: [quantized],
      name: names.node(`${tensor}_QuantizeLinear`),
    }),
    makeNode("DequantizeLinear", {
      inputs: [quantized, scaleName, zeroName],
      outputs: [dequantized],
      name: names.node(`${tensor}_DequantizeLinear`),
    }),
  );
  for (const { node, slot } of options.consumers) node.input[slot] = dequantized;
  return {
    name: tensor,
    graph: "main",
    quantizedName: dequantized,
    type,
    observed: { min: options.observed.min, max: options.observed.max },
    range: { min: options.range.min, max: options.range.max },
    scale: scale[0]!,
    zeroPoint: zeroPoint[0]!,
    consumers: options.consumers.map((c) => c.node.name),
  };
}
