/**
 * Test helpers for this package: small graph builders that several tests share. Helpers shared
 * with other packages (running models, silero VAD, seeded data, temporary folders) are in
 * `test/support/` at the repository root.
 * @module
 */
import {
  type GraphProto,
  type NodeProto,
  TensorProto_DataType,
  type ValueInfoProto,
} from "./_gen/onnx_pb.ts";
import { makeGraph, makeNode, makeValueInfo } from "./build.ts";

/** Options of {@link branchGraph}. */
export interface BranchGraphOptions {
  /** The subgraph's nodes. */
  readonly nodes: readonly NodeProto[];
  /** The name of its one output, a float tensor. */
  readonly output: string;
}

/** Options of {@link ifNode}. */
export interface IfNodeOptions {
  /** The then branch. */
  readonly then: GraphProto;
  /** The else branch (default: the then branch). */
  readonly else?: GraphProto;
  /** The condition's value name (default `c`). */
  readonly cond?: string;
  /** The output's value name (default `y`). */
  readonly output?: string;
}

/** Options of {@link outputsOf}. */
export interface OutputsOfOptions {
  /** Output names to leave out. */
  readonly skip?: Iterable<string>;
  /** The element type declared for each (default FLOAT). */
  readonly elemType?: TensorProto_DataType;
}

/**
 * A subgraph, such as an If branch or a Loop body, with one float output.
 *
 * @param name The subgraph's name.
 * @param options Its nodes and output.
 * @returns The subgraph.
 * @example
 * ```ts
 * import { branchGraph } from "./_testing.ts";
 * import { makeNode } from "./build.ts";
 * const then = branchGraph("then", {
 *   nodes: [makeNode("Relu", { inputs: ["x"], outputs: ["r"] })],
 *   output: "r",
 * });
 * ```
 */
export function branchGraph(name: string, options: BranchGraphOptions): GraphProto {
  return makeGraph(name, {
    nodes: [...options.nodes],
    outputs: [makeValueInfo(options.output, TensorProto_DataType.FLOAT)],
  });
}

/**
 * An If node with one output.
 *
 * @param name The node's name.
 * @param options Its branches and value names.
 * @returns The node.
 * @example
 * ```ts
 * import { branchGraph, ifNode } from "./_testing.ts";
 * const node = ifNode("if", { then: branchGraph("then", { nodes: [], output: "x" }) });
 * ```
 */
export function ifNode(name: string, options: IfNodeOptions): NodeProto {
  return makeNode("If", {
    name,
    inputs: [options.cond ?? "c"],
    outputs: [options.output ?? "y"],
    attributes: { then_branch: options.then, else_branch: options.else ?? options.then },
  });
}

/**
 * Graph outputs for the outputs of some nodes, so that a runtime reports every value.
 *
 * @param nodes The nodes.
 * @param options Names to leave out and the element type.
 * @returns One value info per non-empty node output, in node order.
 * @example
 * ```ts
 * import { outputsOf } from "./_testing.ts";
 * import { makeGraph, makeNode } from "./build.ts";
 * const nodes = [makeNode("Relu", { inputs: ["x"], outputs: ["r"] })];
 * const graph = makeGraph("g", { nodes, outputs: outputsOf(nodes) });
 * ```
 */
export function outputsOf(
  nodes: readonly NodeProto[],
  options: OutputsOfOptions = {},
): ValueInfoProto[] {
  const skip = new Set(options.skip);
  const elemType = options.elemType ?? TensorProto_DataType.FLOAT;
  return nodes.flatMap((n) => n.output)
    .filter((o) => o !== "" && !skip.has(o))
    .map((o) => makeValueInfo(o, elemType));
}
