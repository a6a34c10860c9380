/**
 * How nodes and graphs are named in error messages of this folder.
 * @module
 */
import type { GraphProto, NodeProto } from "./_gen/onnx_pb.ts";

/** `node 'conv1'`, or `an unnamed Relu node` when the node has no name. */
export function describeNode(node: NodeProto): string {
  return node.name !== "" ? `node '${node.name}'` : `an unnamed ${node.opType} node`;
}

/** `graph 'main'`, or `the graph` when it has no name. */
export function describeGraph(graph: GraphProto): string {
  return graph.name !== "" ? `graph '${graph.name}'` : "the graph";
}
