/**
 * Channel (filter) pruning of Conv layers: removes the least important filters with their bias,
 * the following BatchNormalization's channels, per-channel constants of element-wise ops, the
 * channels of depthwise convs that follow, and the next layers' inputs: the next Conv's input
 * channels, or the matching C*H*W block of features of a Gemm/MatMul after Flatten/Reshape.
 *
 * Channels coupled through Add/Sum/Mul (residual paths) form one group, scored by the sum of
 * their layers' importances (each divided by its layer's mean) and removed together; Concat maps
 * channels at their offsets. Grouped (non-depthwise) convs and any node whose channel mapping is
 * unclear are reported in `unsupported`, and the groups that reach them are not pruned. Budgets
 * and ties are as for neuron pruning (`neuron_pruning.ts`), with a coupled group as the layer.
 *
 * @example
 * ```ts
 * import { decodeModel } from "@modelpress/onnx";
 * import { pruneChannels } from "./channel_pruning.ts";
 * const model = decodeModel(await Deno.readFile("test/fixtures/mnist_cnn.onnx"));
 * const { groups } = await pruneChannels(model, { sparsity: 0.3 });
 * ```
 * @module
 */
import type { ModelProto } from "@modelpress/onnx";
import type { StructuredPruneOptions, StructuredPruneResult } from "./structured_types.ts";
import { runStructuredPruning } from "./_structural_prune.ts";

/**
 * Removes `sparsity` of the filters of every prunable group of Conv layers (or of all of them
 * together, with `global`), scored by `importance`, then applies the recovery asked for
 * (BatchNorm re-estimation, bias correction).
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
 * import { pruneChannels } from "./channel_pruning.ts";
 * const model = decodeModel(await Deno.readFile("test/fixtures/mnist_cnn.onnx"));
 * const { model: pruned, recovery } = await pruneChannels(model, {
 *   sparsity: 0.3,
 *   calibration: await loadDataset("mnist", { split: "train" }),
 *   recovery: { batchNorm: true },
 * });
 * ```
 */
export function pruneChannels(
  model: ModelProto,
  options: StructuredPruneOptions,
): Promise<StructuredPruneResult> {
  return runStructuredPruning(model, options, { name: "channel", ops: ["Conv"] });
}
