/**
 * `@modelpress/prune`: pruning of ONNX models — unstructured magnitude (per layer or global,
 * with bounds), random (a baseline only), N:M semi-structured and Wanda (activation-aware), and
 * structured neuron and channel pruning — with sparse storage that really shrinks the file and a
 * JSON report (schema `modelpress.prune/1`). The sparsity k is always the fraction REMOVED.
 *
 * @example
 * ```ts
 * import { decodeModel, encodeModel } from "@modelpress/onnx";
 * import { pruneModel } from "@modelpress/prune";
 * const model = decodeModel(await Deno.readFile("test/fixtures/mnist_mlp.onnx"));
 * const { report } = await pruneModel(model, {
 *   recipe: { method: "magnitude", sparsity: 0.5, global: true },
 * });
 * await Deno.writeFile("mlp_pruned.onnx", encodeModel(model));
 * console.log(report.totals.bytes, report.totals.nonzero);
 * ```
 * @module
 */
export * from "./recipe.ts";
export * from "./prunable_weights.ts";
export * from "./magnitude.ts";
export * from "./random_pruning.ts";
export * from "./nm_pruning.ts";
export * from "./wanda.ts";
export * from "./activation_norms.ts";
// The sparse storage lives in @modelpress/onnx (quantization reads it too); re-exported here.
export {
  densifyStorage,
  type DensifyStorageResult,
  SPARSE_STORAGE_MARK,
  type SparseTensorReport,
  sparsifyStorage,
  type SparsifyStorageOptions,
  type SparsifyStorageResult,
} from "@modelpress/onnx";
export * from "./report.ts";
export * from "./prune_model.ts";
export * from "./not_pruned.ts";
export * from "./structured_types.ts";
export * from "./neuron_pruning.ts";
export * from "./channel_pruning.ts";
export * from "./dependency_graph.ts";
export * from "./recovery.ts";
