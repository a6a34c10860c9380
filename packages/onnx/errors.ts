/**
 * Errors that callers of `@modelpress/onnx` catch by class.
 * @module
 */

/**
 * Thrown when bytes are not a valid ONNX model. `offset` is the byte position in the input where
 * decoding failed, so a user can look at the file with a hex viewer.
 *
 * @example
 * ```ts
 * import { decodeModel, OnnxParseError } from "@modelpress/onnx";
 * try {
 *   decodeModel(new Uint8Array([0x0a, 0xff]));
 * } catch (e) {
 *   if (e instanceof OnnxParseError) console.log(e.offset);
 * }
 * ```
 */
export class OnnxParseError extends Error {
  /** Byte offset in the input where decoding failed. */
  readonly offset: number;

  /**
   * Creates the error; the message becomes "Cannot parse ONNX model at byte N: message".
   *
   * @param message What is wrong, in plain words.
   * @param offset Byte offset in the input.
   * @param options Standard error options (`cause`).
   */
  constructor(message: string, offset: number, options?: ErrorOptions) {
    super(`Cannot parse ONNX model at byte ${offset}: ${message}`, options);
    this.name = "OnnxParseError";
    this.offset = offset;
  }
}

/** One node that an operation could not handle, as listed by {@linkcode UnsupportedOpError}. */
export interface UnsupportedNode {
  /** The node's name ("" when it has none). */
  readonly nodeName: string;
  /** The operator. */
  readonly opType: string;
  /** The operator's domain ("" for the default ONNX domain). */
  readonly domain: string;
  /** The path of the graph holding the node, as `walkGraphs` writes it (e.g. "main/If_0.then_branch"). */
  readonly graph: string;
  /** Why it could not be handled, in plain words. */
  readonly reason: string;
}

/**
 * Thrown when an operation meets nodes it cannot handle (an operator it cannot convert, quantize
 * or prune). It lists every such node, not just the first, so a user sees all the work at once.
 *
 * @example
 * ```ts
 * import { decodeModel, raiseOpset, UnsupportedOpError } from "@modelpress/onnx";
 * const model = decodeModel(await Deno.readFile("model.onnx"));
 * try {
 *   raiseOpset(model, 18);
 * } catch (e) {
 *   if (e instanceof UnsupportedOpError) for (const n of e.nodes) console.log(n.nodeName, n.opType, n.reason);
 * }
 * ```
 */
export class UnsupportedOpError extends Error {
  /** Every node that could not be handled (at least one). */
  readonly nodes: readonly UnsupportedNode[];
  /** The first node's name. */
  readonly nodeName: string;
  /** The first node's operator. */
  readonly opType: string;

  /**
   * Makes the error; its message names every node and why it is not supported.
   *
   * @param action What could not be done, as a verb phrase: "raise the opset to 13".
   * @param nodes The nodes, at least one.
   * @param options Standard error options (`cause`).
   */
  constructor(action: string, nodes: readonly UnsupportedNode[], options?: ErrorOptions) {
    const describe = (n: UnsupportedNode): string =>
      `${n.nodeName !== "" ? `node '${n.nodeName}'` : "an unnamed node"} (${
        n.domain !== "" ? `${n.domain}.` : ""
      }${n.opType}) in ${n.graph}: ${n.reason}`;
    const message = nodes.length === 1
      ? `Cannot ${action} for ${describe(nodes[0] as UnsupportedNode)}`
      : `Cannot ${action}: ${nodes.length} nodes are not supported: ${
        nodes.map(describe).join("; ")
      }`;
    super(message, options);
    this.name = "UnsupportedOpError";
    this.nodes = Object.freeze([...nodes]);
    this.nodeName = nodes[0]?.nodeName ?? "";
    this.opType = nodes[0]?.opType ?? "";
  }
}
