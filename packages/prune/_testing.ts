/**
 * Small models for the prune package's tests.
 * @module
 */
import {
  attrInt,
  makeGraph,
  makeModel,
  makeNode,
  makeTensor,
  makeValueInfo,
  type ModelProto,
  TensorProto_DataType as T,
} from "@modelpress/onnx";
import { seededFloats } from "../../test/support/prng.ts";

/** Options of {@linkcode smallModel}. */
export interface SmallModelOptions {
  /** The default-domain opset. Default 17. */
  readonly opset?: number;
  /** Gemm weight of [out 12, in 16] (transB=1) filled with this instead of random values. */
  readonly gemmFill?: number;
}

/**
 * x [n, 16] -> Gemm(g [12, 16], transB=1, bias b) -> Relu -> MatMul(w [12, 8]) -> y [n, 8];
 * c [m, 3, 6, 6] -> Conv(k [4, 3, 3, 3], bias kb) -> z [m, 4, 4, 4].
 *
 * @param options Opset and a constant Gemm weight.
 * @returns The model.
 */
export function smallModel(options: SmallModelOptions = {}): ModelProto {
  const g = options.gemmFill === undefined
    ? seededFloats(12 * 16, 1)
    : new Float32Array(12 * 16).fill(options.gemmFill);
  const f = (name: string, shape: (number | string)[]) => makeValueInfo(name, T.FLOAT, { shape });
  const graph = makeGraph("small", {
    nodes: [
      makeNode("Gemm", {
        name: "fc1",
        inputs: ["x", "g", "b"],
        outputs: ["h"],
        attributes: { transB: attrInt(1) },
      }),
      makeNode("Relu", { name: "relu", inputs: ["h"], outputs: ["r"] }),
      makeNode("MatMul", { name: "fc2", inputs: ["r", "w"], outputs: ["y"] }),
      makeNode("Conv", { name: "conv", inputs: ["c", "k", "kb"], outputs: ["z"] }),
    ],
    inputs: [f("x", ["n", 16]), f("c", ["m", 3, 6, 6])],
    outputs: [f("y", ["n", 8]), f("z", ["m", 4, 4, 4])],
    initializers: [
      makeTensor("g", g, { dims: [12, 16] }),
      makeTensor("b", seededFloats(12, 2), { dims: [12] }),
      makeTensor("w", seededFloats(12 * 8, 3), { dims: [12, 8] }),
      makeTensor("k", seededFloats(4 * 3 * 3 * 3, 4), { dims: [4, 3, 3, 3] }),
      makeTensor("kb", seededFloats(4, 5), { dims: [4] }),
    ],
  });
  return makeModel(graph, { opsetImports: [{ domain: "", version: options.opset ?? 17 }] });
}
