/**
 * `@modelpress/evaluate`: sessions, datasets and metrics (accuracy, fidelity, latency, size).
 *
 * @example
 * ```ts
 * import { evaluateModel, loadDataset } from "@modelpress/evaluate";
 * const report = await evaluateModel(await Deno.readFile("test/fixtures/mnist_mlp.onnx"), {
 *   dataset: await loadDataset("mnist"),
 * });
 * console.log(report.accuracy?.top1); // 0.978
 * ```
 * @module
 */
export * from "./accuracy.ts";
export * from "./activations.ts";
export * from "./dataset.ts";
export * from "./dataset_feeds.ts";
export * from "./evaluate_model.ts";
export * from "./fidelity.ts";
export * from "./latency.ts";
export * from "./macs.ts";
export * from "./mnist.ts";
export * from "./model_size.ts";
export * from "./npy.ts";
export * from "./npz.ts";
export * from "./report_json.ts";
export * from "./session.ts";
