/**
 * `pruneModel`: one entry point for every pruning method, driven by a {@linkcode PruneRecipe},
 * with a {@linkcode PruneReport}.
 * @module
 */
import { encodedModelSize, type ModelProto, setTensorData, tensorData } from "@modelpress/onnx";
import { countMacs, type Dataset, type MacReport } from "@modelpress/evaluate";
import { type BackendChoice, createKernels, type Kernels } from "@modelpress/kernels";
import { matchingOverrides } from "@modelpress/quantize";
import { nmPattern, type PruneRecipe, validatePruneRecipe } from "./recipe.ts";
import { findPrunableWeights, type PrunableWeight } from "./prunable_weights.ts";
import { type FractionBounds, magnitudeStats } from "./_select.ts";
import { pruneMagnitude } from "./magnitude.ts";
import { pruneRandom } from "./random_pruning.ts";
import { pruneNm } from "./nm_pruning.ts";
import { pruneWanda } from "./wanda.ts";
import { randomScores } from "./_random.ts";
import { activationNorms } from "./activation_norms.ts";
import { type SparseTensorReport, sparsifyStorage } from "@modelpress/onnx";
import {
  countNonzero,
  countParameters,
  type LayerImportance,
  PRUNE_REPORT_SCHEMA,
  type PruneLayerReport,
  type PruneReport,
  type PruneStepReport,
} from "./report.ts";
import { pruneStructured } from "./_structured.ts";

/** Where an iterative schedule stands, passed to the `evaluate` callback. */
export interface PruneStep {
  /** 1-based step. */
  readonly step: number;
  /** Steps in all. */
  readonly steps: number;
  /** The fraction removed after this step. */
  readonly sparsity: number;
}

/** Options of {@linkcode pruneModel}. */
export interface PruneModelOptions {
  /** The recipe (validated here). */
  readonly recipe: PruneRecipe;
  /** Kernels to use (not disposed). Default: made with `backend` and disposed at the end. */
  readonly kernels?: Kernels;
  /** The backend when no kernels are given. Default `"auto"`. */
  readonly backend?: BackendChoice;
  /** Calibration data: required by `wanda` and `activation` importance. */
  readonly dataset?: Dataset;
  /**
   * Called after each step of the schedule (and once without one) with the model as it is then
   * (dense storage; do not keep it, it changes); what it returns goes into the report.
   */
  readonly evaluate?: (
    model: ModelProto,
    step: PruneStep,
  ) => Promise<Readonly<Record<string, number>>> | Readonly<Record<string, number>>;
  /** Progress from 0 to 1. */
  readonly onProgress?: (fraction: number) => void;
  /** Cancels between layers and steps. */
  readonly signal?: AbortSignal;
}

/** The result of {@linkcode pruneModel}. */
export interface PruneModelResult {
  /** The model, changed in place. */
  readonly model: ModelProto;
  /** What was done. */
  readonly report: PruneReport;
}

interface LayerState {
  readonly weight: PrunableWeight;
  readonly zerosBefore: number;
  readonly bounds: FractionBounds;
  importance?: LayerImportance;
  skipped?: string;
}

/**
 * Prunes a model by a recipe and reports what it cost. Unstructured methods (`magnitude`,
 * `random` — a baseline only —, `nm`, `wanda`) zero weights of Gemm, MatMul and Conv (see
 * `findPrunableWeights`) and then, unless `storage` is `dense`, store them sparsely when that is
 * smaller (`sparsifyStorage`); `neuron` and `channel` remove units and make tensors smaller.
 * With `schedule.steps` > 1 the sparsity rises linearly, step by step, and `evaluate` runs
 * after each step. To quantize a pruned model, prune with storage `dense`, quantize, then call
 * `sparsifyStorage`.
 *
 * @param model The model, changed in place.
 * @param options The recipe, kernels, calibration data, evaluation callback, progress.
 * @returns The model and the report.
 * @throws {TypeError} When the recipe is invalid, the model has no graph, or `wanda` lacks data.
 * @throws {RangeError} When a value is out of range (see `validatePruneRecipe`) or bounds cannot
 * meet a global budget.
 * @example
 * ```ts
 * import { decodeModel, encodeModel } from "@modelpress/onnx";
 * import { pruneModel } from "@modelpress/prune";
 * const model = decodeModel(await Deno.readFile("test/fixtures/mnist_mlp.onnx"));
 * const { report } = await pruneModel(model, {
 *   recipe: { method: "magnitude", sparsity: 0.5, global: true },
 * });
 * console.log(report.totals.bytes); // { before: 941252, after: ~504000 }
 * await Deno.writeFile("mlp_pruned.onnx", encodeModel(model));
 * ```
 */
export async function pruneModel(
  model: ModelProto,
  options: PruneModelOptions,
): Promise<PruneModelResult> {
  const started = performance.now();
  const recipe = validatePruneRecipe(options.recipe);
  const graph = model.graph;
  if (graph === undefined) throw new TypeError("Cannot prune model: it has no graph");
  const { signal, onProgress } = options;
  signal?.throwIfAborted();
  const needsData = recipe.method === "wanda" || recipe.importance === "activation" ||
    recipe.recovery?.batchNorm === true || recipe.recovery?.biasCorrection === true;
  if (needsData && options.dataset === undefined) {
    throw new TypeError(
      `Cannot prune model: method '${recipe.method}'${
        recipe.method === "wanda" ? "" : " with activation importance or recovery"
      } needs options.dataset (calibration data)`,
    );
  }
  const kernels = options.kernels ?? await createKernels({ backend: options.backend ?? "auto" });
  try {
    onProgress?.(0);
    const bytesBefore = encodedModelSize(model);
    const paramsBefore = countParameters(graph);
    const macsBefore = tryCountMacs(model);
    const { weights, skipped } = findPrunableWeights(model, {
      ...(recipe.include === undefined ? {} : { include: recipe.include }),
      ...(recipe.exclude === undefined ? {} : { exclude: recipe.exclude }),
    });
    const states: LayerState[] = weights.map((weight) => ({
      weight,
      zerosBefore: weight.params -
        countNonzero(tensorData(weight.tensor) as Float32Array, weight.tensor.dataType),
      bounds: boundsOf(recipe, weight),
    }));
    const steps: PruneStepReport[] = [];
    let structured: unknown;
    let structuredLayers: PruneLayerReport[] | undefined;
    if (recipe.method === "neuron" || recipe.method === "channel") {
      // Step s leaves (1 - k*s/S) of the original units: it removes 1 - (1-k_s)/(1-k_{s-1}) of
      // those left (each step rounds per layer, so the total may differ from round(k*n) by the
      // rounding of the steps).
      const total = recipe.schedule?.steps ?? 1;
      const details: unknown[] = [];
      const byNode = new Map<string, PruneLayerReport>();
      let previous = 0;
      for (let step = 1; step <= total; step++) {
        signal?.throwIfAborted();
        const cumulative = Math.round(((recipe.sparsity! * step) / total) * 1e12) / 1e12;
        const sparsity = 1 - (1 - cumulative) / (1 - previous);
        previous = cumulative;
        const result = await pruneStructured(model, { ...recipe, sparsity }, {
          kernels,
          ...(options.dataset === undefined ? {} : { dataset: options.dataset }),
          ...(signal === undefined ? {} : { signal }),
          onProgress: (f) => onProgress?.((0.9 * (step - 1 + f)) / total),
        });
        details.push(result.details);
        for (const l of result.layers) byNode.set(l.node, mergeLayers(byNode.get(l.node), l));
        steps.push({
          step,
          sparsity: cumulative,
          zeros: [...byNode.values()].reduce((a, l) => a + l.zerosAfter, 0),
          ...(await metricsOf(options, model, { step, steps: total, sparsity: cumulative })),
        });
      }
      structured = total === 1 ? details[0] : { steps: details };
      structuredLayers = [...byNode.values()];
    } else {
      const total = recipe.schedule?.steps ?? 1;
      for (let step = 1; step <= total; step++) {
        signal?.throwIfAborted();
        const sparsity = recipe.method === "nm"
          ? recipe.sparsity!
          : Math.round(((recipe.sparsity! * step) / total) * 1e12) / 1e12;
        await pruneStep(model, states, recipe, sparsity, kernels, options);
        const zeros = states.reduce(
          (a, s) =>
            a + s.weight.params - countNonzero(tensorData(s.weight.tensor) as Float32Array, 1),
          0,
        );
        steps.push({
          step,
          sparsity,
          zeros,
          ...(await metricsOf(options, model, { step, steps: total, sparsity })),
        });
        onProgress?.((0.9 * step) / total);
      }
    }
    const paramsAfter = countParameters(model.graph!);
    const macsAfter = tryCountMacs(model);
    const layers = structuredLayers ?? states.map(layerReport);
    let storage: readonly SparseTensorReport[] = [];
    const mode = recipe.storage ?? "auto";
    if (mode !== "dense" && structuredLayers === undefined) {
      const pruned = states.filter((s) => s.skipped === undefined).map((s) => s.weight.name);
      storage = sparsifyStorage(model, { mode, tensors: pruned }).tensors;
    }
    const report: PruneReport = {
      schema: PRUNE_REPORT_SCHEMA,
      recipe,
      backend: kernels.backend,
      layers,
      skipped,
      totals: {
        params: { before: paramsBefore.params, after: paramsAfter.params },
        nonzero: { before: paramsBefore.nonzero, after: paramsAfter.nonzero },
        ...(macsBefore === undefined || macsAfter === undefined ? {} : {
          macs: {
            before: macsBefore.total,
            after: macsAfter.total,
            effective: effectiveMacs(macsAfter, layers),
          },
        }),
        bytes: { before: bytesBefore, after: encodedModelSize(model) },
      },
      storage,
      steps,
      ...(structured === undefined ? {} : { structured }),
      timeMs: performance.now() - started,
    };
    onProgress?.(1);
    return { model, report };
  } finally {
    if (options.kernels === undefined) kernels.dispose();
  }
}

async function metricsOf(
  options: PruneModelOptions,
  model: ModelProto,
  step: PruneStep,
): Promise<{ metrics?: Readonly<Record<string, number>> }> {
  if (options.evaluate === undefined) return {};
  return { metrics: { ...(await options.evaluate(model, step)) } };
}

function boundsOf(recipe: PruneRecipe, weight: PrunableWeight): FractionBounds {
  let min = 0;
  let max = 1;
  const id = { name: weight.nodeProto.name, opType: weight.opType };
  for (const b of recipe.bounds ?? []) {
    if (b.match !== undefined && matchingOverrides([{ match: b.match }], id).length === 0) {
      continue;
    }
    if (b.min !== undefined) min = b.min;
    if (b.max !== undefined) max = b.max;
  }
  return { min, max };
}

async function pruneStep(
  model: ModelProto,
  states: readonly LayerState[],
  recipe: PruneRecipe,
  sparsity: number,
  kernels: Kernels,
  options: PruneModelOptions,
): Promise<void> {
  const layers = states.map((s) => tensorData(s.weight.tensor, { copy: true }) as Float32Array);
  const bounds = states.map((s) => s.bounds);
  const global = recipe.global ?? false;
  switch (recipe.method) {
    case "magnitude":
      states.forEach((s, i) => s.importance ??= magnitudeStats(layers[i]!));
      await pruneMagnitude(layers, { kernels, sparsity, global, bounds });
      break;
    case "random": {
      const seed = recipe.seed ?? 0;
      states.forEach((s, i) => {
        s.importance ??= magnitudeStats(
          randomScores(layers[i]!.length, (seed + Math.imul(i, 0x9e3779b1)) | 0),
        );
      });
      await pruneRandom(layers, { kernels, sparsity, global, bounds, seed });
      break;
    }
    case "nm": {
      const { n, m } = nmPattern(recipe.pattern ?? "2:4");
      for (const [i, s] of states.entries()) {
        const { shape, axis } = nmView(s.weight);
        if (shape[axis]! % m !== 0) {
          s.skipped = `its input length ${shape[axis]} is not a multiple of ${m}`;
          continue;
        }
        s.importance ??= magnitudeStats(layers[i]!);
        await pruneNm(layers[i]!, { kernels, n, m, shape, axis });
      }
      break;
    }
    case "wanda": {
      const requests = states.map((s) => ({
        name: s.weight.activation,
        axis: activationAxis(s.weight),
      }));
      const norms = await activationNorms(model, options.dataset!, requests, {
        kernels,
        ...(recipe.calibration?.samples === undefined
          ? {}
          : { samples: recipe.calibration.samples }),
        ...(recipe.calibration?.batchSize === undefined
          ? {}
          : { batchSize: recipe.calibration.batchSize }),
        ...(options.signal === undefined ? {} : { signal: options.signal }),
      });
      for (const [i, s] of states.entries()) {
        const w = s.weight;
        const norm = norms.get(w.activation)!;
        if (norm.length !== w.shape[w.inputAxis]) {
          s.skipped = `its input has ${norm.length} features, the weight ${
            w.shape[w.inputAxis]
          } inputs`;
          continue;
        }
        const layerSparsity = Math.min(s.bounds.max, Math.max(s.bounds.min, sparsity));
        const result = await pruneWanda(layers[i]!, norm, {
          kernels,
          sparsity: layerSparsity,
          shape: w.shape,
          axis: w.inputAxis,
          conv: w.opType === "Conv",
        });
        s.importance ??= result.importance;
      }
      break;
    }
    default:
      throw new TypeError(`Cannot prune model: method '${recipe.method}' is not unstructured`);
  }
  for (const [i, s] of states.entries()) {
    if (s.skipped === undefined) setTensorData(s.weight.tensor, layers[i]!);
  }
}

/** The view N:M groups run in: Conv [O, I*kh*kw] along axis 1; others the weight's input axis. */
function nmView(w: PrunableWeight): { shape: number[]; axis: number } {
  if (w.opType === "Conv") {
    return { shape: [w.shape[0]!, w.params / w.shape[0]!], axis: 1 };
  }
  return { shape: [...w.shape], axis: w.inputAxis };
}

/** The feature axis of a node's activation input: Conv channels (1), Gemm by transA, else last. */
function activationAxis(w: PrunableWeight): number {
  if (w.opType === "Conv") return 1;
  if (w.opType === "Gemm") {
    const transA = w.nodeProto.attribute.find((a) => a.name === "transA")?.i ?? 0n;
    return transA === 0n ? -1 : 0;
  }
  return -1;
}

/** One layer over two structured steps: the first's before, the second's after. */
function mergeLayers(
  first: PruneLayerReport | undefined,
  next: PruneLayerReport,
): PruneLayerReport {
  if (first === undefined) return next;
  const zerosAfter = next.zerosAfter + (first.params - next.params);
  return {
    ...next,
    params: first.params,
    zerosBefore: first.zerosBefore,
    zerosAfter,
    sparsity: first.params === 0 ? 0 : zerosAfter / first.params,
    unitsRemoved: (first.unitsRemoved ?? 0) + (next.unitsRemoved ?? 0),
    ...(first.importance === undefined ? {} : { importance: first.importance }),
  };
}

function layerReport(s: LayerState): PruneLayerReport {
  const w = s.weight;
  const zerosAfter = w.params -
    countNonzero(tensorData(w.tensor) as Float32Array, w.tensor.dataType);
  return {
    node: w.node,
    opType: w.opType,
    tensor: w.name,
    shape: w.shape,
    params: w.params,
    paramsAfter: w.params,
    zerosBefore: s.zerosBefore,
    zerosAfter,
    sparsity: w.params === 0 ? 0 : zerosAfter / w.params,
    ...(s.importance === undefined ? {} : { importance: s.importance }),
    status: s.skipped === undefined ? "pruned" : "skipped",
    ...(s.skipped === undefined ? {} : { reason: s.skipped }),
  };
}

function tryCountMacs(model: ModelProto): MacReport | undefined {
  try {
    return countMacs(model.graph!);
  } catch {
    return undefined;
  }
}

function effectiveMacs(macs: MacReport, layers: readonly PruneLayerReport[]): number {
  let total = 0;
  for (const node of macs.nodes) {
    const layer = layers.find((l) => l.node === node.node);
    if (layer === undefined || layer.paramsAfter === 0) {
      total += layer === undefined ? node.macs : 0;
      continue;
    }
    const nonzero = layer.params - layer.zerosAfter;
    total += node.macs * Math.max(0, Math.min(1, nonzero / layer.paramsAfter));
  }
  return Math.round(total);
}
