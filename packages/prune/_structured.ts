/**
 * The bridge from `pruneModel` to the structured pruning engine (`neuron_pruning.ts`,
 * `channel_pruning.ts`): recipe in, per-layer report out.
 * @module
 */
import {
  elementCount,
  GraphIndex,
  type ModelProto,
  tensorData,
  type TensorProto,
} from "@modelpress/onnx";
import type { Dataset } from "@modelpress/evaluate";
import type { Kernels } from "@modelpress/kernels";
import { matchingOverrides, type NodeMatch } from "@modelpress/quantize";
import type { PruneRecipe } from "./recipe.ts";
import { countNonzero, type PruneLayerReport } from "./report.ts";
import { pruneNeurons } from "./neuron_pruning.ts";
import { pruneChannels } from "./channel_pruning.ts";
import type { StructuredPruneOptions } from "./structured_types.ts";

/** What the engine did, in the report's terms. */
export interface StructuredOutcome {
  /** Per pruned layer. */
  readonly layers: PruneLayerReport[];
  /** The engine's own details (groups, recovery, unsupported nodes). */
  readonly details: unknown;
}

/** Options of {@linkcode pruneStructured}. */
export interface StructuredBridgeOptions {
  /** Kernels. */
  readonly kernels: Kernels;
  /** Calibration data. */
  readonly dataset?: Dataset;
  /** Cancellation. */
  readonly signal?: AbortSignal;
  /** Progress 0..1. */
  readonly onProgress?: (fraction: number) => void;
}

/**
 * Runs neuron or channel pruning and replaces the model's content with the result.
 *
 * @param model The model, changed in place.
 * @param recipe A validated `neuron` or `channel` recipe.
 * @param options Kernels, data, cancellation, progress.
 * @returns The per-layer report and the engine's details.
 */
export async function pruneStructured(
  model: ModelProto,
  recipe: PruneRecipe,
  options: StructuredBridgeOptions,
): Promise<StructuredOutcome> {
  const graph = model.graph!;
  const names = (matches: readonly NodeMatch[] | undefined): string[] | undefined => {
    if (matches === undefined) return undefined;
    const wanted = matches.map((match) => ({ match }));
    return graph.node
      .filter((n) =>
        n.name !== "" && matchingOverrides(wanted, { name: n.name, opType: n.opType }).length > 0
      )
      .map((n) => `^${n.name.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}$`);
  };
  const include = names(recipe.include);
  const exclude = names(recipe.exclude);
  let phase = 0;
  const engineOptions: StructuredPruneOptions = {
    sparsity: recipe.sparsity!,
    kernels: options.kernels,
    ...(recipe.importance === undefined ? {} : { importance: recipe.importance }),
    ...(recipe.global === undefined ? {} : { global: recipe.global }),
    // A match that names no node must prune nothing, not everything.
    ...(include === undefined ? {} : { include: include.length > 0 ? include : ["(?!)"] }),
    ...(exclude === undefined ? {} : { exclude }),
    ...(recipe.seed === undefined ? {} : { seed: recipe.seed }),
    ...(options.dataset === undefined ? {} : { calibration: options.dataset }),
    ...(recipe.calibration?.samples === undefined
      ? {}
      : { maxSamples: recipe.calibration.samples }),
    ...(recipe.calibration?.batchSize === undefined
      ? {}
      : { batchSize: recipe.calibration.batchSize }),
    ...(recipe.recovery === undefined ? {} : { recovery: recipe.recovery }),
    ...(options.signal === undefined ? {} : { signal: options.signal }),
    onProgress: (p) => {
      const order = ["importance", "prune", "recovery"].indexOf(p.phase);
      phase = Math.max(phase, order);
      const within = p.total > 0 ? p.done / p.total : 1;
      options.onProgress?.((order + within) / 3);
    },
  };
  const engine = recipe.method === "neuron" ? pruneNeurons : pruneChannels;
  const before = new GraphIndex(graph);
  const weightsBefore = new Map<string, TensorProto>();
  for (const node of graph.node) {
    const w = before.constantTensor(node.input[1] ?? "");
    if (w !== undefined && node.name !== "") weightsBefore.set(node.name, w);
  }
  const result = await engine(model, engineOptions);
  const after = new GraphIndex(result.model.graph!);
  const layers: PruneLayerReport[] = result.layers.map((l) => {
    const node = after.node(l.node);
    const old = weightsBefore.get(l.node);
    const now = node === undefined ? undefined : after.constantTensor(node.input[1] ?? "");
    const params = old === undefined ? 0 : elementCount(old);
    const paramsAfter = now === undefined ? 0 : elementCount(now);
    const zeros = (t: TensorProto | undefined): number =>
      t === undefined ? 0 : elementCount(t) -
        countNonzero(tensorData(t) as ArrayLike<number>, t.dataType);
    const zerosAfter = zeros(now) + (params - paramsAfter);
    return {
      node: l.node,
      opType: l.op,
      tensor: now?.name ?? old?.name ?? "",
      shape: (now ?? old)?.dims.map(Number) ?? [],
      params,
      paramsAfter,
      zerosBefore: zeros(old),
      zerosAfter,
      sparsity: params === 0 ? 0 : zerosAfter / params,
      unitsRemoved: l.unitsBefore - l.unitsAfter,
      importance: l.importance,
      status: "pruned",
    };
  });
  Object.assign(model, result.model);
  return {
    layers,
    details: { groups: result.groups, recovery: result.recovery, unsupported: result.unsupported },
  };
}
