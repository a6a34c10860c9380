/**
 * Which overrides of a recipe apply to a node.
 * @module
 */
import type { NodeOverride } from "./recipe.ts";

/** The parts of a node that overrides match on. */
export interface NodeIdentity {
  /** The node's name ("" when unnamed). */
  readonly name: string;
  /** Its operator type. */
  readonly opType: string;
}

/**
 * The overrides whose every given field matches the node, in recipe order.
 *
 * @param overrides A validated recipe's overrides.
 * @param node The node.
 * @returns The matching overrides.
 * @example
 * ```ts
 * import { matchingOverrides } from "@modelpress/quantize";
 * matchingOverrides([{ match: { pattern: "^fc" }, skip: true }], { name: "fc1", opType: "Gemm" });
 * // [{ match: { pattern: "^fc" }, skip: true }]
 * ```
 */
export function matchingOverrides(
  overrides: readonly NodeOverride[],
  node: NodeIdentity,
): NodeOverride[] {
  return overrides.filter(({ match }) =>
    (match.name === undefined || match.name === node.name) &&
    (match.opType === undefined || match.opType === node.opType) &&
    (match.pattern === undefined || new RegExp(match.pattern).test(node.name))
  );
}
