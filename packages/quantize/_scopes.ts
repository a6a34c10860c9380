/**
 * The graphs of a model with their indexes (subgraphs linked to their parents), and where a
 * weight is defined. Imported only from this folder.
 * @module
 */
import {
  GraphIndex,
  type GraphProto,
  type ModelProto,
  type NodeProto,
  type TensorProto,
  walkGraphs,
} from "@modelpress/onnx";

/** A graph of the model and its index. */
export interface Scope {
  /** `main` or the subgraph's path. */
  readonly path: string;
  /** The graph. */
  readonly graph: GraphProto;
  /** Its index (its parent's index linked). */
  readonly index: GraphIndex;
}

/** A constant weight and the graph that defines it. */
export interface WeightSource {
  /** The defining graph. */
  readonly scope: Scope;
  /** The value name. */
  readonly name: string;
  /** Its tensor. */
  readonly tensor: TensorProto;
  /** The Constant node, when it is one. */
  readonly constantNode: NodeProto | undefined;
}

/**
 * The main graph and every subgraph, parents before children (function bodies and training
 * graphs are not included).
 *
 * @param model The model.
 * @returns The scopes.
 */
export function modelScopes(model: ModelProto): Scope[] {
  const scopes: Scope[] = [];
  const byGraph = new Map<GraphProto, Scope>();
  for (const entry of walkGraphs(model)) {
    const graph = entry.graph;
    if (graph === undefined || (entry.kind !== "main" && entry.kind !== "subgraph")) continue;
    const parentGraph = entry.parent?.entry.graph;
    const parent = parentGraph === undefined ? undefined : byGraph.get(parentGraph)?.index;
    if (entry.kind === "subgraph" && parent === undefined) continue;
    const scope = { path: entry.path, graph, index: new GraphIndex(graph, { parent }) };
    byGraph.set(graph, scope);
    scopes.push(scope);
  }
  return scopes;
}

/**
 * Finds the constant behind a weight input, or says why it is not one.
 *
 * @param scopes The scopes, to find the defining graph's scope.
 * @param scope The scope of the reading node.
 * @param name The value name.
 * @returns The source, or the reason (a phrase such as "weight 'w' is not a constant").
 */
export function findWeight(
  scopes: readonly Scope[],
  scope: Scope,
  name: string,
): WeightSource | string {
  let index: GraphIndex | undefined = scope.index;
  while (index !== undefined && !index.defines(name)) index = index.parent;
  if (index === undefined) return `weight '${name}' is not defined`;
  const source = index.constantOf(name);
  if (source === undefined) return `weight '${name}' is not a constant`;
  if (source.kind === "sparse_initializer") return `weight '${name}' is a sparse initializer`;
  if (source.kind === "initializer" && source.overridable) {
    return `weight '${name}' is not a constant (it is also a graph input that callers may override)`;
  }
  const tensor = source.tensor;
  if (tensor === undefined) return `weight '${name}' is a sparse Constant`;
  const owner = scopes.find((s) => s.index === index);
  if (owner === undefined) return `weight '${name}' is defined outside the quantized graphs`;
  return {
    scope: owner,
    name,
    tensor,
    constantNode: source.kind === "node" ? source.node : undefined,
  };
}
