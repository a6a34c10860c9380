/**
 * Recovery without training after structured pruning.
 *
 * - BatchNorm re-estimation ({@linkcode reestimateBatchNorm}): removing channels changes what
 *   every later BatchNormalization sees, while its running mean and variance still describe the
 *   unpruned network. The pruned model is run on calibration data with each
 *   BatchNormalization's input exposed, one at a time in graph order (so each sees the already
 *   corrected layers before it), and its running mean and (population) variance are replaced by
 *   the measured ones per channel.
 * - Bias correction ({@linkcode biasDelta}, {@linkcode applyBiasCorrection}): a consumer
 *   `y = W x + b` that loses inputs `R` loses, on average, `W[:, R] E[x_R]`; adding it to `b`
 *   keeps the mean of `y`. `E[x]` is measured on the ORIGINAL model. For a Conv the sum also
 *   runs over the kernel (padding at the borders is ignored); a Gemm's correction is scaled by
 *   `alpha / beta`; a MatMul gets an Add after it.
 *
 * @example
 * ```ts
 * import { decodeModel } from "@modelpress/onnx";
 * import { loadDataset } from "@modelpress/evaluate";
 * import { reestimateBatchNorm } from "./recovery.ts";
 * const model = decodeModel(await Deno.readFile("pruned_cnn.onnx"));
 * const { model: recovered } = await reestimateBatchNorm(model, await loadDataset("mnist", { split: "train" }));
 * ```
 * @module
 */
import { clone } from "@bufbuild/protobuf";
import {
  AttributeProto_AttributeType,
  GraphEditor,
  GraphIndex,
  makeNode,
  makeTensor,
  type ModelProto,
  ModelProtoSchema,
  type NodeProto,
  setTensorData,
  tensorData,
  type TensorProto,
  topologicalOrder,
  UniqueNames,
} from "@modelpress/onnx";
import type { Dataset } from "@modelpress/evaluate";
import type { DependencyConsumer } from "./dependency_graph.ts";
import type { BatchNormRecovery, BiasCorrection } from "./structured_types.ts";
import { collectMoments } from "./_structural_stats.ts";

/** Options of {@linkcode reestimateBatchNorm}. */
export interface ReestimateBatchNormOptions {
  /** Calibration samples, spread evenly over the dataset (default 512). */
  readonly maxSamples?: number;
  /** Samples per run (default 64). */
  readonly batchSize?: number;
  /** Names of the BatchNormalization nodes to re-estimate (default: all of the main graph). */
  readonly nodes?: readonly string[];
  /** Cancels between batches. */
  readonly signal?: AbortSignal;
  /** Called after each batch with samples done over all passes. */
  readonly onProgress?: (done: number, total: number) => void;
}

/** What {@linkcode reestimateBatchNorm} made. */
export interface ReestimatedBatchNorm {
  /** The model with new running statistics (a copy). */
  readonly model: ModelProto;
  /** Per re-estimated node. */
  readonly batchNorm: readonly BatchNormRecovery[];
  /** Samples per pass. */
  readonly samples: number;
}

/**
 * Re-estimates the running mean and variance of BatchNormalization nodes from data (see the
 * module documentation).
 *
 * @param model The (pruned) model; not changed.
 * @param dataset Calibration data.
 * @param options Samples, batch size, which nodes, cancellation and progress.
 * @returns The new model and what changed.
 * @throws {TypeError} When a BatchNormalization's statistics are not constant initializers, or
 *   the dataset does not fit the model.
 * @example
 * ```ts
 * import { decodeModel } from "@modelpress/onnx";
 * import { loadDataset } from "@modelpress/evaluate";
 * import { reestimateBatchNorm } from "./recovery.ts";
 * const model = decodeModel(await Deno.readFile("test/fixtures/mnist_cnn.onnx"));
 * const { batchNorm } = await reestimateBatchNorm(model, await loadDataset("mnist"), { maxSamples: 256 });
 * ```
 */
export async function reestimateBatchNorm(
  model: ModelProto,
  dataset: Dataset,
  options: ReestimateBatchNormOptions = {},
): Promise<ReestimatedBatchNorm> {
  if (model.graph === undefined) {
    throw new TypeError("Cannot re-estimate BatchNorm: the model has no graph");
  }
  const copy = clone(ModelProtoSchema, model);
  const graph = copy.graph!;
  const index = new GraphIndex(graph);
  const wanted = options.nodes === undefined ? undefined : new Set(options.nodes);
  const nodes = topologicalOrder(graph).filter((n) =>
    n.opType === "BatchNormalization" && (n.domain === "" || n.domain === "ai.onnx") &&
    (wanted === undefined || wanted.has(n.name))
  );
  const report: BatchNormRecovery[] = [];
  let samples = 0;
  for (const [i, node] of nodes.entries()) {
    const name = node.name || (node.output[0] ?? "");
    const mean = statistic(index, node, 3);
    const variance = statistic(index, node, 4);
    const { samples: n, moments } = await collectMoments(copy, dataset, [{
      tensor: node.input[0]!,
      axis: 1,
    }], {
      ...(options.maxSamples === undefined ? {} : { maxSamples: options.maxSamples }),
      ...(options.batchSize === undefined ? {} : { batchSize: options.batchSize }),
      signal: options.signal,
      onProgress: (done, total) => options.onProgress?.(i * total + done, nodes.length * total),
    });
    samples = n;
    const m = moments.get(node.input[0]!)!;
    const oldMean = tensorData(mean) as Float32Array;
    const oldVar = tensorData(variance) as Float32Array;
    if (m.mean.length !== oldMean.length) {
      throw new TypeError(
        `Cannot re-estimate node '${name}': ${m.mean.length} channels measured, ${oldMean.length} in its statistics`,
      );
    }
    const newMean = Float32Array.from(m.mean);
    const newVar = Float32Array.from(
      m.meanSquare,
      (q, c) => Math.max(0, q - m.mean[c]! * m.mean[c]!),
    );
    let shift = 0;
    let ratio = 0;
    for (let c = 0; c < newMean.length; c++) {
      shift += Math.abs(newMean[c]! - oldMean[c]!);
      ratio += oldVar[c]! > 0 ? newVar[c]! / oldVar[c]! : 1;
    }
    setTensorData(mean, newMean);
    setTensorData(variance, newVar);
    report.push({
      node: name,
      channels: newMean.length,
      meanShift: shift / newMean.length,
      varianceRatio: ratio / newMean.length,
    });
  }
  return { model: copy, batchNorm: report, samples };
}

function statistic(index: GraphIndex, node: NodeProto, slot: number): TensorProto {
  const name = node.input[slot] ?? "";
  const source = index.constantOf(name);
  const tensor = source?.kind === "initializer" && !source.overridable
    ? source.tensor
    : source?.kind === "node" && source.node.attribute.some((a) => a.name === "value")
    ? source.tensor
    : undefined;
  if (tensor === undefined || tensor.dataType !== 1) {
    throw new TypeError(
      `Cannot re-estimate node '${node.name}': its statistic '${name}' is not a float constant initializer`,
    );
  }
  if (index.consumersOf(name).length > 1) {
    throw new TypeError(
      `Cannot re-estimate node '${node.name}': its statistic '${name}' is shared`,
    );
  }
  return tensor;
}

/**
 * The mean contribution a consumer loses with its removed inputs, per output unit of the
 * ORIGINAL consumer: `sum_j W[o, j] E[x_j]` over the removed inputs `j` (and the kernel, for a
 * Conv), times `alpha` for a Gemm.
 *
 * @param consumer The consumer, from the dependency graph of the original model.
 * @param removedMeans Per removed input position (along its input's unit axis), `E[x]` there.
 * @returns One value per original output unit.
 * @example
 * ```ts
 * import { decodeModel } from "@modelpress/onnx";
 * import { buildDependencyGraph } from "./dependency_graph.ts";
 * import { biasDelta } from "./recovery.ts";
 * const graph = buildDependencyGraph(decodeModel(await Deno.readFile("test/fixtures/mnist_mlp.onnx")));
 * const fc2 = graph.consumers.find((c) => c.node.name === "fc2")!;
 * biasDelta(fc2, new Map([[3, 0.5]])); // 0.5 * fc2.weight[:, 3]
 * ```
 */
export function biasDelta(
  consumer: DependencyConsumer,
  removedMeans: ReadonlyMap<number, number>,
): Float64Array {
  const w = tensorData(consumer.weight) as Float32Array;
  const dims = consumer.weight.dims.map(Number);
  if (consumer.op === "Conv") {
    const [m, c] = dims as [number, number];
    const k = dims.slice(2).reduce((p, d) => p * d, 1);
    const delta = new Float64Array(m);
    for (let o = 0; o < m; o++) {
      let sum = 0;
      for (const [j, e] of removedMeans) {
        const base = (o * c + j) * k;
        let s = 0;
        for (let i = 0; i < k; i++) s += w[base + i]!;
        sum += s * e;
      }
      delta[o] = sum;
    }
    return delta;
  }
  const [d0, d1] = dims as [number, number];
  const kAxis = consumer.weightInputAxis;
  const n = kAxis === 0 ? d1 : d0;
  const alpha = consumer.op === "Gemm" ? floatAttr(consumer.node, "alpha", 1) : 1;
  const delta = new Float64Array(n);
  for (let o = 0; o < n; o++) {
    let sum = 0;
    for (const [j, e] of removedMeans) sum += (kAxis === 0 ? w[j * d1 + o]! : w[o * d1 + j]!) * e;
    delta[o] = alpha * sum;
  }
  return delta;
}

/** A correction for {@linkcode applyBiasCorrection}. */
export interface BiasDelta {
  /** Added to the node's output, one value per output unit of the (pruned) node. */
  readonly delta: Float64Array;
  /** Inputs the node lost, for the report. */
  readonly removedInputs: number;
}

/**
 * Adds per-unit corrections to the outputs of Gemm, Conv and MatMul nodes through their bias:
 * the existing one (a private copy when it is shared), a new one, or (MatMul) a new Add after
 * the node. Edits the model in place.
 *
 * @param model The (pruned) model.
 * @param deltas Per node of `model.graph`, the correction.
 * @returns What was done per node (nodes that cannot take a bias, such as a Gemm with
 *   `beta = 0` or a full [M, N] bias, are left out).
 * @example
 * ```ts
 * import { decodeModel } from "@modelpress/onnx";
 * import { applyBiasCorrection } from "./recovery.ts";
 * const model = decodeModel(await Deno.readFile("test/fixtures/mnist_mlp.onnx"));
 * const fc3 = model.graph!.node.find((n) => n.name === "fc3")!;
 * applyBiasCorrection(model, new Map([[fc3, { delta: new Float64Array(10).fill(0.1), removedInputs: 1 }]]));
 * ```
 */
export function applyBiasCorrection(
  model: ModelProto,
  deltas: ReadonlyMap<NodeProto, BiasDelta>,
): BiasCorrection[] {
  const graph = model.graph!;
  const editor = new GraphEditor(graph);
  const names = new UniqueNames(model);
  const out: BiasCorrection[] = [];
  for (const [node, { delta, removedInputs }] of deltas) {
    const name = node.name || (node.output[0] ?? "");
    const maxCorrection = delta.reduce((m, v) => Math.max(m, Math.abs(v)), 0);
    if (node.opType === "MatMul") {
      const biasName = names.value(`${name}.bias_correction`);
      editor.addInitializer(makeTensor(biasName, Float32Array.from(delta)));
      const original = node.output[0]!;
      const inner = names.value(`${original}_uncorrected`);
      const add = makeNode("Add", {
        name: names.node(`${name}_bias_correction`),
        inputs: [inner, biasName],
        outputs: [original],
      });
      node.output[0] = inner;
      editor.refreshNode(node);
      editor.insertAfter(node, add);
      out.push({ node: name, op: node.opType, removedInputs, maxCorrection, addedBias: true });
      continue;
    }
    let scale = 1;
    const slot = 2;
    if (node.opType === "Gemm") {
      const beta = floatAttr(node, "beta", 1);
      if (beta === 0) continue;
      scale = 1 / beta;
    } else if (node.opType !== "Conv") continue;
    const existing = node.input[slot] ?? "";
    let base: Float32Array | undefined;
    if (existing !== "") {
      const t = editor.constantTensor(existing);
      if (t === undefined || t.dataType !== 1) continue;
      const values = tensorData(t) as Float32Array;
      if (values.length === 1) base = new Float32Array(delta.length).fill(values[0]!);
      else if (values.length === delta.length) base = Float32Array.from(values);
      else continue;
      const onlyUse = editor.consumersOf(existing).length === 1 &&
        !editor.isGraphOutput(existing) &&
        editor.constantOf(existing)?.kind === "initializer" && values.length === delta.length;
      if (onlyUse) {
        for (let o = 0; o < delta.length; o++) base[o] = base[o]! + delta[o]! * scale;
        setTensorData(t, base);
        out.push({ node: name, op: node.opType, removedInputs, maxCorrection, addedBias: false });
        continue;
      }
    }
    const values = base ?? new Float32Array(delta.length);
    for (let o = 0; o < delta.length; o++) values[o] = values[o]! + delta[o]! * scale;
    const biasName = names.value(`${name}.bias_corrected`);
    editor.addInitializer(makeTensor(biasName, values));
    while (node.input.length < slot) node.input.push("");
    node.input[slot] = biasName;
    editor.refreshNode(node);
    out.push({
      node: name,
      op: node.opType,
      removedInputs,
      maxCorrection,
      addedBias: existing === "",
    });
  }
  return out;
}

function floatAttr(node: NodeProto, name: string, fallback: number): number {
  const attr = node.attribute.find((a) => a.name === name);
  if (attr === undefined || attr.type !== AttributeProto_AttributeType.FLOAT) return fallback;
  return attr.f;
}
