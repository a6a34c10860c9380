/**
 * Neuron pruning: removes the least important output units of Gemm and MatMul layers with
 * constant weights, with their bias entries and the matching inputs of every consumer, so the
 * model becomes structurally smaller (smaller dense tensors).
 *
 * Units are followed through bias Adds, element-wise activations and Reshape/Flatten as the
 * dependency graph (`dependency_graph.ts`) describes; units that reach a graph output or a node
 * whose mapping is unclear are never removed (the nodes are listed in `unsupported`).
 *
 * Budgets: per layer (coupled group), exactly `round(sparsity * units)` units are removed
 * (`Math.round`, so .5 rounds up), fewer only where `minKeep` must stay; with `global`,
 * `round(sparsity * all candidate units)` over all layers together, ranked by importance divided
 * by the layer's mean importance so that layers of different scale compare. Ties go to the
 * earlier layer, then the lower unit index.
 *
 * @example
 * ```ts
 * import { decodeModel, encodeModel } from "@modelpress/onnx";
 * import { pruneNeurons } from "./neuron_pruning.ts";
 * const model = decodeModel(await Deno.readFile("test/fixtures/mnist_mlp.onnx"));
 * const { model: pruned, layers } = await pruneNeurons(model, { sparsity: 0.5 });
 * console.log(layers.map((l) => `${l.node}: ${l.unitsBefore} -> ${l.unitsAfter}`));
 * await Deno.writeFile("mlp_pruned.onnx", encodeModel(pruned));
 * ```
 * @module
 */
import type { ModelProto } from "@modelpress/onnx";
import type { StructuredPruneOptions, StructuredPruneResult } from "./structured_types.ts";
import { runStructuredPruning } from "./_structural_prune.ts";

/**
 * Removes `sparsity` of the output neurons of every prunable Gemm/MatMul layer (or of all of
 * them together, with `global`), scored by `importance`, then applies the recovery asked for.
 *
 * @param model The model (not changed).
 * @param options Sparsity (fraction removed), importance, budget, patterns, calibration and
 *   recovery.
 * @returns The pruned model and per-layer, per-group, recovery and unsupported reports.
 * @throws {RangeError} When sparsity, minKeep, maxSamples or batchSize is out of range.
 * @throws {TypeError} When activation importance or recovery has no calibration data, or the
 *   data do not fit the model.
 * @throws {SyntaxError} When an include/exclude pattern is not a regular expression.
 * @example
 * ```ts
 * import { decodeModel } from "@modelpress/onnx";
 * import { loadDataset } from "@modelpress/evaluate";
 * import { pruneNeurons } from "./neuron_pruning.ts";
 * const model = decodeModel(await Deno.readFile("test/fixtures/mnist_mlp.onnx"));
 * const result = await pruneNeurons(model, {
 *   sparsity: 0.5,
 *   importance: "l2",
 *   calibration: await loadDataset("mnist", { split: "train" }),
 *   recovery: { biasCorrection: true },
 * });
 * ```
 */
export function pruneNeurons(
  model: ModelProto,
  options: StructuredPruneOptions,
): Promise<StructuredPruneResult> {
  return runStructuredPruning(model, options, { name: "neuron", ops: ["Gemm", "MatMul"] });
}
