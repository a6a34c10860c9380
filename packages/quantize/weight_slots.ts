/**
 * Which inputs of which operators are weights, and along which axes their channels and blocks
 * run.
 * @module
 */
import type { NodeProto } from "@modelpress/onnx";

/** A weight input of a node. */
export interface WeightSlot {
  /** The input's position. */
  readonly slot: number;
  /** The output-channel axis (negative counts from the end): one range per index along it. */
  readonly channelAxis: number;
  /** The reduction axis that blocks run along (negative counts from the end). */
  readonly blockAxis: number;
}

/** The operators whose weights are quantized, by default domain operator type. */
export const WEIGHT_OPS: readonly string[] = Object.freeze([
  "MatMul",
  "Gemm",
  "Conv",
  "ConvTranspose",
  "LSTM",
  "GRU",
  "RNN",
]);

/**
 * The weight inputs of a node: MatMul B ([K, N]: channels last, blocks along K), Gemm B (by
 * `transB`), Conv W ([M, C, ...]), ConvTranspose W ([C, M/group, ...]), and the W and R inputs
 * of LSTM, GRU and RNN ([dirs, gates * hidden, in]).
 *
 * @param node The node.
 * @returns Its weight slots; empty for other operators and other domains.
 * @example
 * ```ts
 * import { attrInt, makeNode } from "@modelpress/onnx";
 * import { weightSlots } from "@modelpress/quantize";
 * weightSlots(makeNode("Gemm", { inputs: ["x", "w"], attributes: { transB: attrInt(1) } }));
 * // [{ slot: 1, channelAxis: 0, blockAxis: 1 }]
 * ```
 */
export function weightSlots(node: NodeProto): WeightSlot[] {
  if (node.domain !== "" && node.domain !== "ai.onnx") return [];
  switch (node.opType) {
    case "MatMul":
      return [{ slot: 1, channelAxis: -1, blockAxis: -2 }];
    case "Gemm": {
      const transB = node.attribute.find((a) => a.name === "transB")?.i ?? 0n;
      return [
        transB === 0n ? { slot: 1, channelAxis: 1, blockAxis: 0 } : {
          slot: 1,
          channelAxis: 0,
          blockAxis: 1,
        },
      ];
    }
    case "Conv":
      return [{ slot: 1, channelAxis: 0, blockAxis: 1 }];
    case "ConvTranspose":
      return [{ slot: 1, channelAxis: 1, blockAxis: 0 }];
    case "LSTM":
    case "GRU":
    case "RNN":
      return [{ slot: 1, channelAxis: 1, blockAxis: 2 }, { slot: 2, channelAxis: 1, blockAxis: 2 }];
    default:
      return [];
  }
}
