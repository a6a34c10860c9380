/**
 * Which weights of a model can be pruned: the constant float32 weights of Gemm, MatMul and Conv,
 * with the axes their inputs and outputs run along.
 * @module
 */
import {
  elementCount,
  GraphIndex,
  isDefaultDomain,
  type ModelProto,
  type NodeProto,
  type TensorProto,
  TensorProto_DataType,
} from "@modelpress/onnx";
import { matchingOverrides, type NodeMatch, weightSlots } from "@modelpress/quantize";

/** The operators whose weights are pruned. */
export const PRUNABLE_OPS: readonly string[] = Object.freeze(["Gemm", "MatMul", "Conv"]);

/** A weight that can be pruned. */
export interface PrunableWeight {
  /** The node's name (its first output's name when unnamed). */
  readonly node: string;
  /** The node. */
  readonly nodeProto: NodeProto;
  /** Its operator. */
  readonly opType: string;
  /** The weight tensor (live: an initializer or a Constant node's value). */
  readonly tensor: TensorProto;
  /** The weight's value name. */
  readonly name: string;
  /** The weight's dims. */
  readonly shape: readonly number[];
  /** Elements. */
  readonly params: number;
  /**
   * The axis the node's inputs run along: Gemm 1 with transB=1 ([out, in]) else 0; MatMul the
   * second last ([..., in, out]); Conv 1 ([O, I/g, kh, kw], the kernel window follows it).
   */
  readonly inputAxis: number;
  /** The axis of the output units: Gemm 0 with transB=1 else 1; MatMul the last; Conv 0. */
  readonly outputAxis: number;
  /** The node's activation input (input 0), whose column norms Wanda uses. */
  readonly activation: string;
}

/** A Gemm, MatMul or Conv node whose weight is not pruned, and why. */
export interface SkippedWeight {
  /** The node's name. */
  readonly node: string;
  /** Its operator. */
  readonly opType: string;
  /** The weight's value name ("" when there is none). */
  readonly tensor: string;
  /** Why it is not pruned. */
  readonly reason: string;
}

/** Options of {@linkcode findPrunableWeights}. */
export interface FindPrunableWeightsOptions {
  /** Only nodes matching one of these (default: every node). */
  readonly include?: readonly NodeMatch[];
  /** Nodes matching one of these are skipped. */
  readonly exclude?: readonly NodeMatch[];
}

/** What {@linkcode findPrunableWeights} found. */
export interface PrunableWeights {
  /** The weights, in node order, each tensor once. */
  readonly weights: readonly PrunableWeight[];
  /** The Gemm, MatMul and Conv nodes left alone, with the reason. */
  readonly skipped: readonly SkippedWeight[];
}

/** The node's name, else its first output's name. */
function nodeName(node: NodeProto): string {
  return node.name !== "" ? node.name : node.output[0] ?? "";
}

/**
 * Finds the prunable weights of a model's main graph: the weight input (per `weightSlots` of
 * `@modelpress/quantize`) of Gemm, MatMul and Conv when it is a constant float32 tensor of rank
 * 2 or more (rank 2 for Gemm, 3+ for Conv). Biases, normalization parameters and embeddings
 * (Gather tables) are never prunable; weights an initializer shares with a graph input (so a
 * caller may override them) are skipped; a weight shared by several nodes is listed once.
 *
 * @param model The model.
 * @param options Include and exclude matches on node name, name pattern and operator.
 * @returns The weights and the skipped nodes.
 * @throws {TypeError} When the model has no graph.
 * @example
 * ```ts
 * import { decodeModel } from "@modelpress/onnx";
 * import { findPrunableWeights } from "@modelpress/prune";
 * const model = decodeModel(await Deno.readFile("test/fixtures/mnist_mlp.onnx"));
 * findPrunableWeights(model).weights.map((w) => w.shape); // [[256, 784], [128, 256], [10, 128]]
 * ```
 */
export function findPrunableWeights(
  model: ModelProto,
  options: FindPrunableWeightsOptions = {},
): PrunableWeights {
  const graph = model.graph;
  if (graph === undefined) throw new TypeError("Cannot find prunable weights: model has no graph");
  const index = new GraphIndex(graph);
  const weights: PrunableWeight[] = [];
  const skipped: SkippedWeight[] = [];
  const seen = new Set<string>();
  const include = options.include?.map((match) => ({ match }));
  const exclude = options.exclude?.map((match) => ({ match })) ?? [];
  for (const node of graph.node) {
    if (!PRUNABLE_OPS.includes(node.opType) || !isDefaultDomain(node.domain)) continue;
    const name = nodeName(node);
    const id = { name: node.name, opType: node.opType };
    const slot = weightSlots(node)[0]!;
    const tensorName = node.input[slot.slot] ?? "";
    const skip = (reason: string): void => {
      skipped.push({ node: name, opType: node.opType, tensor: tensorName, reason });
    };
    if (include !== undefined && matchingOverrides(include, id).length === 0) {
      skip("not included");
      continue;
    }
    if (matchingOverrides(exclude, id).length > 0) {
      skip("excluded");
      continue;
    }
    if (tensorName === "") {
      skip("it has no weight input");
      continue;
    }
    const source = index.constantOf(tensorName);
    if (source?.kind === "initializer" && source.overridable) {
      skip("the weight is also a graph input");
      continue;
    }
    const tensor = index.constantTensor(tensorName);
    if (tensor === undefined) {
      skip("the weight is not a constant");
      continue;
    }
    if (tensor.dataType !== TensorProto_DataType.FLOAT) {
      skip("the weight is not float32");
      continue;
    }
    const shape = tensor.dims.map(Number);
    const rank = shape.length;
    if ((node.opType === "Conv" && rank < 3) || (node.opType !== "Conv" && rank < 2)) {
      skip(`the weight has rank ${rank}`);
      continue;
    }
    if (seen.has(tensorName)) {
      skip("the weight is shared with an earlier node and pruned there");
      continue;
    }
    seen.add(tensorName);
    let inputAxis: number;
    let outputAxis: number;
    if (node.opType === "Gemm") {
      // weightSlots gives the output-channel axis by transB; the other one carries the inputs.
      outputAxis = slot.channelAxis;
      inputAxis = 1 - outputAxis;
    } else if (node.opType === "MatMul") {
      inputAxis = rank - 2;
      outputAxis = rank - 1;
    } else {
      inputAxis = 1;
      outputAxis = 0;
    }
    weights.push({
      node: name,
      nodeProto: node,
      opType: node.opType,
      tensor,
      name: tensorName,
      shape,
      params: elementCount(tensor),
      inputAxis,
      outputAxis,
      activation: node.input[0] ?? "",
    });
  }
  return { weights, skipped };
}
