/**
 * Automatic mixed precision: each layer's sensitivity is measured by quantizing it alone at each
 * candidate bit width and comparing the model's output with the float model's on calibration
 * data; then one bit width per layer is chosen to meet a size in bytes or a fidelity floor, and
 * the chosen recipe is applied and measured.
 * @module
 */
import { decodeModel, encodeModel, type ModelProto } from "@modelpress/onnx";
import type { Dataset } from "@modelpress/evaluate";
import { type BackendChoice, createKernels, type Kernels } from "@modelpress/kernels";
import type { NodeOverride, QuantizeRecipe } from "./recipe.ts";
import { validateRecipe } from "./recipe.ts";
import { quantizeModel } from "./quantize_model.ts";
import type { QuantizationReport } from "./report.ts";
import { type OutputFidelity, OutputFidelityProbe } from "./_output_fidelity.ts";
import {
  type FidelityMetric,
  predictFidelity,
  searchAssignment,
  type SearchGoal,
  type SearchOption,
} from "./_precision_search.ts";

export type { FidelityMetric, OutputFidelity };

/** Bits that stand for "left in float": the layer is skipped. */
export const FLOAT_BITS = 32;

/** What {@linkcode assignPrecision} meets: a size, or a floor on one fidelity metric. */
export type PrecisionTarget =
  | { readonly bytes: number }
  | { readonly fidelity: { readonly metric: FidelityMetric; readonly min: number } };

/** Progress of {@linkcode assignPrecision}, in quantize-and-run steps. */
export interface PrecisionProgress {
  /** `sensitivity`: one layer at one bit width; `measure`: the chosen recipe. */
  readonly phase: "sensitivity" | "measure";
  /** Steps done in this phase. */
  readonly done: number;
  /** Steps in this phase. */
  readonly total: number;
}

/** Options of {@linkcode assignPrecision}. */
export interface AssignPrecisionOptions {
  /**
   * Bit widths each layer may get: 2..8 or 16, and {@linkcode FLOAT_BITS} (32) to allow leaving
   * a layer in float.
   */
  readonly candidates: readonly number[];
  /** The size or fidelity floor to meet. */
  readonly target: PrecisionTarget;
  /**
   * The recipe that the per-layer bits are layered on (method, granularity, block size, format,
   * overrides that skip nodes). Its method must be `linear`, `log` or `kmeans`. Default
   * `{ method: "linear" }`.
   */
  readonly recipe?: QuantizeRecipe;
  /** Calibration samples, spread over the dataset. Default 256. */
  readonly samples?: number;
  /** Samples per run. Default 128. */
  readonly batchSize?: number;
  /** The output compared. Default the model's first. */
  readonly output?: string;
  /** Kernels for the quantization (not disposed). Default: made with `backend`. */
  readonly kernels?: Kernels;
  /** Backend when no kernels are given. Default `"auto"`. */
  readonly backend?: BackendChoice;
  /** Cancels between runs. */
  readonly signal?: AbortSignal;
  /** Called before the first step and after each. */
  readonly onProgress?: (progress: PrecisionProgress) => void;
}

/** One candidate bit width of one layer, measured with that layer alone quantized. */
export interface LayerSensitivity {
  /** Bits ({@linkcode FLOAT_BITS}: left in float). */
  readonly bits: number;
  /** The layer's bytes in the model: its float bytes plus the model's measured change. */
  readonly bytes: number;
  /** The model's output fidelity. */
  readonly fidelity: OutputFidelity;
}

/** The bits chosen for one layer (one weight tensor and the nodes that read it). */
export interface LayerAssignment {
  /** The first node that reads the weight. */
  readonly node: string;
  /** Every node that reads it. */
  readonly nodes: readonly string[];
  /** The weight tensor. */
  readonly weight: string;
  /** The chosen bits ({@linkcode FLOAT_BITS}: left in float). */
  readonly bits: number;
  /** The layer's bytes at those bits (see {@linkcode LayerSensitivity.bytes}). */
  readonly bytes: number;
  /** Every candidate, measured. */
  readonly sensitivity: readonly LayerSensitivity[];
}

/** Size and fidelity of an assignment. */
export interface PrecisionOutcome {
  /** Serialized model bytes. */
  readonly bytes: number;
  /** Output fidelity against the float model on the calibration samples. */
  readonly fidelity: OutputFidelity;
}

/** The result of {@linkcode assignPrecision}. */
export interface PrecisionAssignment {
  /** The base recipe with one override per layer's node giving the chosen bits. */
  readonly recipe: QuantizeRecipe;
  /** Per layer, in model order. */
  readonly assignment: readonly LayerAssignment[];
  /**
   * Predicted from the layers measured alone: bytes as the float size plus each layer's change,
   * fidelity with damages added (noise powers for SQNR, `1 - cosine`, disagreements).
   */
  readonly predicted: PrecisionOutcome;
  /** Measured on the model quantized with {@linkcode PrecisionAssignment.recipe}. */
  readonly measured: PrecisionOutcome;
  /** The float model's serialized bytes. */
  readonly floatBytes: number;
  /** Calibration samples compared. */
  readonly samples: number;
  /** The quantized model (a fresh copy; the input model is not changed). */
  readonly model: ModelProto;
  /** The report of its quantization. */
  readonly report: QuantizationReport;
}

interface Layer {
  readonly weight: string;
  readonly nodes: readonly string[];
  readonly floatBytes: number;
}

const DEFAULT_SAMPLES = 256;
const DEFAULT_BATCH_SIZE = 128;
/** Searches (each measured) before a missed target is an error. */
const MAX_ATTEMPTS = 3;

/**
 * Chooses bits per layer by measured sensitivity: each layer (a weight tensor and the nodes that
 * read it) is quantized alone at each candidate, on a fresh copy of the model, and the model's
 * output is compared with the float model's on `samples` samples of the dataset. Assuming the
 * layers' noise powers add, the assignment with the best predicted SQNR within `target.bytes`
 * is chosen, or the smallest whose predicted metric reaches `target.fidelity.min`; the chosen
 * recipe is then applied and measured. Layers are addressed by node name, so every node quantized
 * by the base recipe must have one.
 *
 * @param model The float model (not changed).
 * @param dataset Calibration data (for example the MNIST train split).
 * @param options Candidates, target, base recipe, samples, progress and cancellation.
 * @returns The recipe, the assignment, predicted and measured outcome, and the quantized model.
 * @throws {TypeError} When the model has no graph, a quantized node has no name, or the dataset
 * does not fit the model.
 * @throws {RangeError} When the candidates are empty or invalid, the base method is not
 * `linear`, `log` or `kmeans`, no layer is quantized, or no assignment meets the target.
 * @throws {DOMException} The signal's reason when cancelled.
 * @example
 * ```ts
 * import { decodeModel } from "@modelpress/onnx";
 * import { loadDataset } from "@modelpress/evaluate";
 * import { assignPrecision } from "@modelpress/quantize";
 * const model = decodeModel(await Deno.readFile("test/fixtures/mnist_mlp.onnx"));
 * const result = await assignPrecision(model, await loadDataset("mnist", { split: "train" }), {
 *   candidates: [2, 4, 8],
 *   target: { fidelity: { metric: "sqnr", min: 30 } },
 *   recipe: { method: "linear", granularity: "block", blockSize: 32 },
 * });
 * console.log(result.assignment.map((l) => `${l.node}: ${l.bits}`), result.measured);
 * ```
 */
export async function assignPrecision(
  model: ModelProto,
  dataset: Dataset,
  options: AssignPrecisionOptions,
): Promise<PrecisionAssignment> {
  const { signal, onProgress } = options;
  const candidates = checkCandidates(options.candidates);
  const target = checkTarget(options.target);
  const samples = positiveInteger("samples", options.samples ?? DEFAULT_SAMPLES);
  const batchSize = positiveInteger("batchSize", options.batchSize ?? DEFAULT_BATCH_SIZE);
  const base = validateRecipe(options.recipe ?? { method: "linear" });
  if (!["linear", "log", "kmeans"].includes(base.method)) {
    throw new RangeError(
      `Cannot assign precision: the recipe's method must be 'linear', 'log' or 'kmeans', got ` +
        `'${base.method}'`,
    );
  }
  if (model.graph === undefined) {
    throw new TypeError("Cannot assign precision: the model has no graph");
  }
  signal?.throwIfAborted();
  const floatModel = encodeModel(model);
  const fresh = (): ModelProto => decodeModel(floatModel);
  const kernels = options.kernels ?? await createKernels({ backend: options.backend ?? "auto" });
  try {
    const quantize = (recipe: QuantizeRecipe) => quantizeModel(fresh(), recipe, { kernels });
    const layers = findLayers((await quantize(base)).report);
    if (layers.length === 0) {
      throw new RangeError("Cannot assign precision: the recipe quantizes no layer of the model");
    }
    const probe = await OutputFidelityProbe.create(floatModel, dataset, {
      samples,
      batchSize,
      output: options.output,
    });

    // Sensitivity: each layer alone at each candidate.
    const quantized = candidates.filter((b) => b !== FLOAT_BITS);
    const total = layers.length * quantized.length;
    let done = 0;
    onProgress?.({ phase: "sensitivity", done, total });
    const layerOptions: SearchOption[][] = [];
    const sensitivity: LayerSensitivity[][] = [];
    for (const layer of layers) {
      const own: SearchOption[] = [];
      const rows: LayerSensitivity[] = [];
      for (const bits of candidates) {
        signal?.throwIfAborted();
        let delta = 0;
        let fidelity: OutputFidelity = { sqnrDb: Infinity, cosine: 1, agreement: 1 };
        if (bits !== FLOAT_BITS) {
          const recipe = withOverrides(base, [
            { match: { pattern: "^" }, skip: true },
            ...layer.nodes.map((name) => ({ match: { name }, skip: false, bits })),
          ]);
          const { model: q, report } = await quantize(recipe);
          delta = report.size.after - report.size.before;
          fidelity = await probe.measure(encodeModel(q), signal);
          onProgress?.({ phase: "sensitivity", done: ++done, total });
        }
        own.push({ delta, fidelity });
        rows.push({ bits, bytes: layer.floatBytes + delta, fidelity });
      }
      layerOptions.push(own);
      sensitivity.push(rows);
    }

    // The layers measured alone miss what a model pays once (an opset import, for one): measure
    // one assignment of every layer to learn that offset.
    const top = candidates.findLastIndex((b) => b !== FLOAT_BITS);
    const all = await quantize(recipeFor(base, layers, layers.map(() => top), candidates));
    const additive = (pick: readonly number[]): number =>
      floatModel.length + pick.reduce((s, k, i) => s + layerOptions[i]![k]!.delta, 0);
    const offset = all.report.size.after - additive(layers.map(() => top));

    // Search, then measure; where the measurement misses the target, tighten it by the miss.
    let goal: SearchGoal = "bytes" in target
      ? { bytes: target.bytes - offset }
      : { metric: target.fidelity.metric, min: target.fidelity.min };
    for (let attempt = 0;; attempt++) {
      const pick = searchAssignment(layerOptions, floatModel.length, goal);
      if (pick === undefined) throw unreachable(target, layerOptions, floatModel.length + offset);
      const chosen = pick.map((k, i) => layerOptions[i]![k]!);
      const predicted: PrecisionOutcome = {
        bytes: additive(pick) + offset,
        fidelity: predictFidelity(chosen),
      };
      const recipe = recipeFor(base, layers, pick, candidates);
      signal?.throwIfAborted();
      onProgress?.({ phase: "measure", done: attempt, total: attempt + 1 });
      const { model: q, report } = await quantize(recipe);
      const bytes = encodeModel(q);
      const measured: PrecisionOutcome = {
        bytes: bytes.length,
        fidelity: await probe.measure(bytes, signal),
      };
      onProgress?.({ phase: "measure", done: attempt + 1, total: attempt + 1 });
      const miss = "bytes" in target
        ? measured.bytes - target.bytes
        : target.fidelity.min - metricOf(measured.fidelity, target.fidelity.metric);
      if (miss > 0) {
        if (attempt + 1 >= MAX_ATTEMPTS) {
          throw new RangeError(
            `Cannot assign precision: after ${MAX_ATTEMPTS} attempts the assignment still misses ` +
              `the target (${describeTarget(target)}): measured ${measured.bytes} bytes, ` +
              `SQNR ${measured.fidelity.sqnrDb.toFixed(2)} dB, cosine ` +
              `${measured.fidelity.cosine.toFixed(5)}, agreement ${measured.fidelity.agreement}`,
          );
        }
        goal = "bytes" in goal
          ? { bytes: goal.bytes - miss }
          : { metric: goal.metric, min: goal.min + miss };
        continue;
      }
      return {
        recipe,
        assignment: layers.map((layer, i) => ({
          node: layer.nodes[0]!,
          nodes: layer.nodes,
          weight: layer.weight,
          bits: candidates[pick[i]!]!,
          bytes: sensitivity[i]![pick[i]!]!.bytes,
          sensitivity: sensitivity[i]!,
        })),
        predicted,
        measured,
        floatBytes: floatModel.length,
        samples: probe.samples,
        model: q,
        report,
      };
    }
  } finally {
    if (options.kernels === undefined) kernels.dispose();
  }
}

/** The weight tensors a report quantized, with the nodes that read them. */
function findLayers(report: QuantizationReport): Layer[] {
  return report.tensors.map((t) => {
    for (const name of t.consumers) {
      if (name === "") {
        const reader = report.nodes.find((n) => n.weights.includes(t.name));
        throw new TypeError(
          `Cannot assign precision to weight '${t.name}': it is read by an unnamed ${
            reader?.opType ?? ""
          } node, and overrides match nodes by name`,
        );
      }
    }
    const elements = t.shape.reduce((p, d) => p * d, 1);
    return { weight: t.name, nodes: [...new Set(t.consumers)], floatBytes: elements * 4 };
  });
}

/** The base recipe with each layer's nodes given their chosen candidate. */
function recipeFor(
  base: QuantizeRecipe,
  layers: readonly Layer[],
  pick: readonly number[],
  candidates: readonly number[],
): QuantizeRecipe {
  const overrides: NodeOverride[] = [];
  for (const [i, layer] of layers.entries()) {
    const bits = candidates[pick[i]!]!;
    for (const name of layer.nodes) {
      overrides.push(
        bits === FLOAT_BITS ? { match: { name }, skip: true } : { match: { name }, bits },
      );
    }
  }
  return withOverrides(base, overrides);
}

function metricOf(f: OutputFidelity, metric: FidelityMetric): number {
  return metric === "sqnr" ? f.sqnrDb : metric === "cosine" ? f.cosine : f.agreement;
}

function describeTarget(target: PrecisionTarget): string {
  return "bytes" in target
    ? `at most ${target.bytes} bytes`
    : `${target.fidelity.metric} at least ${target.fidelity.min}`;
}

function withOverrides(base: QuantizeRecipe, extra: readonly NodeOverride[]): QuantizeRecipe {
  return validateRecipe({ ...base, overrides: [...(base.overrides ?? []), ...extra] });
}

function checkCandidates(candidates: readonly number[] | undefined): number[] {
  if (!Array.isArray(candidates) || candidates.length === 0) {
    throw new RangeError(
      "Cannot assign precision: candidates is empty (give bit widths such as [2, 4, 8])",
    );
  }
  for (const b of candidates) {
    if (!(Number.isInteger(b) && ((b >= 2 && b <= 8) || b === 16 || b === FLOAT_BITS))) {
      throw new RangeError(
        `Cannot assign precision: candidate bits must be integers 2..8, 16 or 32 (float), got ${b}`,
      );
    }
  }
  if (candidates.every((b) => b === FLOAT_BITS)) {
    throw new RangeError(
      "Cannot assign precision: candidates need a bit width other than 32 (float)",
    );
  }
  return [...new Set(candidates)].sort((a, b) => a - b);
}

function checkTarget(target: PrecisionTarget | undefined): PrecisionTarget {
  if (typeof target !== "object" || target === null) {
    throw new TypeError("Cannot assign precision: target must be { bytes } or { fidelity }");
  }
  if ("bytes" in target) {
    if (!(typeof target.bytes === "number" && target.bytes > 0 && Number.isFinite(target.bytes))) {
      throw new RangeError(
        `Cannot assign precision: target.bytes must be a positive number, got ${target.bytes}`,
      );
    }
    return target;
  }
  if ("fidelity" in target && typeof target.fidelity === "object" && target.fidelity !== null) {
    const { metric, min } = target.fidelity;
    if (!["sqnr", "cosine", "agreement"].includes(metric)) {
      throw new RangeError(
        `Cannot assign precision: target.fidelity.metric must be 'sqnr', 'cosine' or ` +
          `'agreement', got ${JSON.stringify(metric)}`,
      );
    }
    if (typeof min !== "number" || Number.isNaN(min)) {
      throw new TypeError("Cannot assign precision: target.fidelity.min must be a number");
    }
    return target;
  }
  throw new TypeError("Cannot assign precision: target must be { bytes } or { fidelity }");
}

function positiveInteger(name: string, value: number): number {
  if (!(Number.isInteger(value) && value >= 1)) {
    throw new RangeError(
      `Cannot assign precision: ${name} must be a positive integer, got ${value}`,
    );
  }
  return value;
}

/** Says how close the candidates come to an unreachable target. */
function unreachable(
  target: PrecisionTarget,
  layers: readonly (readonly SearchOption[])[],
  floatBytes: number,
): RangeError {
  if ("bytes" in target) {
    const smallest = floatBytes +
      layers.reduce((s, options) => s + Math.min(...options.map((o) => o.delta)), 0);
    return new RangeError(
      `Cannot assign precision: target of ${target.bytes} bytes is unreachable; the smallest ` +
        `assignment of these candidates is predicted at ${smallest} bytes`,
    );
  }
  const best = predictFidelity(
    layers.map((options) =>
      options.reduce((
        a,
        b,
      ) => (damageOf(b, target.fidelity.metric) < damageOf(a, target.fidelity.metric) ? b : a))
    ),
  );
  const value = target.fidelity.metric === "sqnr"
    ? `${best.sqnrDb.toFixed(2)} dB`
    : String(target.fidelity.metric === "cosine" ? best.cosine : best.agreement);
  return new RangeError(
    `Cannot assign precision: ${target.fidelity.metric} floor of ${target.fidelity.min} is ` +
      `unreachable; the best assignment of these candidates is predicted at ${value}`,
  );
}

function damageOf(o: SearchOption, metric: FidelityMetric): number {
  return -metricOf(o.fidelity, metric);
}
