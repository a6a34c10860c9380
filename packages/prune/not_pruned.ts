/**
 * Which nodes a pruning left alone, and why: one list for the CLI, the service and callers.
 * @module
 */
import type { PruneReport } from "./report.ts";
import type { ChannelGroup, UnsupportedNode } from "./structured_types.ts";

/** A node that was not pruned, and why. */
export interface NotPrunedNode {
  /** The node's name. */
  readonly node: string;
  /** Its operator. */
  readonly opType: string;
  /** Why it was not pruned. */
  readonly reason: string;
}

/** What structured pruning puts in `report.structured`. */
interface StructuredDetails {
  readonly groups: readonly ChannelGroup[];
  readonly unsupported: readonly UnsupportedNode[];
}

/**
 * Every node the report says was not pruned, once, with the first reason given: nodes not
 * considered, layers skipped, and for structured pruning the source layers of groups that lost
 * no unit and the nodes the dependency analysis could not see through.
 *
 * @param report A pruning report.
 * @returns The nodes, in the order the report names them.
 * @example
 * ```ts
 * import { decodeModel } from "@modelpress/onnx";
 * import { notPrunedNodes, pruneModel } from "@modelpress/prune";
 * const model = decodeModel(await Deno.readFile("test/fixtures/mnist_cnn.onnx"));
 * const { report } = await pruneModel(model, { recipe: { method: "nm", pattern: "2:4" } });
 * for (const n of notPrunedNodes(report)) console.log(`${n.node} (${n.opType}): ${n.reason}`);
 * ```
 */
export function notPrunedNodes(report: PruneReport): NotPrunedNode[] {
  const out: NotPrunedNode[] = [];
  const seen = new Set<string>();
  const add = (node: string, opType: string, reason: string): void => {
    if (seen.has(node)) return;
    seen.add(node);
    out.push({ node, opType, reason });
  };
  for (const s of report.skipped) add(s.node, s.opType, s.reason);
  for (const l of report.layers) if (l.status === "skipped") add(l.node, l.opType, l.reason ?? "");
  const details = report.structured as Partial<StructuredDetails> | undefined;
  const pruned = new Set(report.layers.filter((l) => l.status === "pruned").map((l) => l.node));
  for (const g of details?.groups ?? []) {
    if (g.removed > 0 || g.reason === undefined) continue;
    for (const source of g.sources) {
      if (pruned.has(source)) continue;
      add(source, g.members.find((m) => m.node === source)?.op ?? "", g.reason);
    }
  }
  for (const u of details?.unsupported ?? []) add(u.node, u.op, u.reason);
  return out;
}
