/**
 * Every tensor of a model together with where it sits: which graph (main, subgraph, function,
 * training), which node and attribute. `modelTensors` of `@modelpress/onnx` lists the tensors,
 * but saving external data must know whether a tensor is in the main graph (see
 * model_files.ts), so this walks the graphs with `walkGraphs` of `@modelpress/onnx`.
 *
 * TODO(onnx): replace with `mapModelTensors` once its `TensorSite` carries the `GraphEntry`,
 * node and attribute of each tensor; this file then goes away.
 * @module
 */
import {
  type GraphEntry,
  type ModelProto,
  type NodeProto,
  type TensorProto,
  walkGraphs,
} from "@modelpress/onnx";

/** One tensor found by {@linkcode walkTensors}. */
export interface TensorVisit {
  /** The tensor. */
  readonly tensor: TensorProto;
  /** What holds it: a graph initializer, part of a sparse initializer, or an attribute. */
  readonly kind: "initializer" | "sparse_initializer" | "attribute";
  /** The graph or function that holds it. */
  readonly entry: GraphEntry;
  /** For tensors of node attributes: the node. */
  readonly node?: NodeProto;
  /** For `attribute` tensors: the attribute's name, such as `value`. */
  readonly attribute?: string;
}

/**
 * Walks every tensor of a model: initializers, sparse initializers (values and indices), tensors
 * in node attributes (Constant values and others) and attribute defaults of functions, in every
 * graph and function, in `walkGraphs` order.
 *
 * @param model The model.
 * @returns The visits.
 * @example
 * ```ts
 * import { decodeModel } from "@modelpress/onnx";
 * import { walkTensors } from "./_walk_tensors.ts";
 * const model = decodeModel(await Deno.readFile("model.onnx"));
 * const inMain = [...walkTensors(model)].filter((v) => v.entry.kind === "main").length;
 * ```
 */
export function* walkTensors(model: ModelProto): Generator<TensorVisit> {
  for (const entry of walkGraphs(model)) {
    for (const tensor of entry.graph?.initializer ?? []) {
      yield { tensor, kind: "initializer", entry };
    }
    for (const sparse of entry.graph?.sparseInitializer ?? []) {
      for (const tensor of [sparse.values, sparse.indices]) {
        if (tensor) yield { tensor, kind: "sparse_initializer", entry };
      }
    }
    for (const attr of entry.function?.attributeProto ?? []) {
      for (const tensor of attributeTensors(attr)) {
        yield { tensor, kind: "attribute", entry, attribute: attr.name };
      }
    }
    for (const node of entry.nodes) {
      for (const attr of node.attribute) {
        for (const tensor of attributeTensors(attr)) {
          yield { tensor, kind: "attribute", entry, node, attribute: attr.name };
        }
      }
    }
  }
}

function attributeTensors(attr: NodeProto["attribute"][number]): TensorProto[] {
  const tensors = [
    attr.t,
    ...attr.tensors,
    attr.sparseTensor?.values,
    attr.sparseTensor?.indices,
    ...attr.sparseTensors.flatMap((s) => [s.values, s.indices]),
  ];
  return tensors.filter((t): t is TensorProto => t !== undefined);
}
