/**
 * Automatic mixed precision: each layer's sensitivity is measured by quantizing it alone at each
 * candidate (a bit width, and for blocked recipes optionally a block size) and comparing the
 * model's output with the float model's on calibration data; then one candidate per layer is
 * chosen to meet a size in bytes or a fidelity floor, and the chosen recipe is applied and
 * measured.
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

/**
 * One choice a layer may get: bits alone (the base recipe's block size), or bits and a block size.
 * Varying the block size varies the scales' share of the bytes: at 4 bits, block 128 stores a
 * quarter of block 32's scales, which can pay for 8 bits on a more sensitive layer.
 */
export type PrecisionCandidate = number | {
  /** Bits: 2..8 or 16, or {@linkcode FLOAT_BITS} (32) to leave the layer in float. */
  readonly bits: number;
  /**
   * Block length, an integer >= 2; only with the recipe's `block` granularity, and not with
   * float. MatMulNBits takes power-of-two block sizes from 16 at 2, 4 or 8 bits; other layers and
   * settings fall back to DequantizeLinear (see `WeightFormat`). Default the recipe's.
   */
  readonly blockSize?: number;
};

/** What {@linkcode assignPrecision} meets: a size, or a floor on one fidelity metric. */
export type PrecisionTarget =
  | { readonly bytes: number }
  | { readonly fidelity: { readonly metric: FidelityMetric; readonly min: number } };

/** Progress of {@linkcode assignPrecision}, in quantize-and-run steps. */
export interface PrecisionProgress {
  /** `sensitivity`: one layer at one candidate; `measure`: the chosen recipe. */
  readonly phase: "sensitivity" | "measure";
  /** Steps done in this phase. */
  readonly done: number;
  /** Steps in this phase. */
  readonly total: number;
}

/** Options of {@linkcode assignPrecision}. */
export interface AssignPrecisionOptions {
  /**
   * What each layer may get: bit widths 2..8 or 16, {@linkcode FLOAT_BITS} (32) to allow leaving
   * a layer in float, or `{ bits, blockSize }` to vary the block size too (see
   * {@linkcode PrecisionCandidate}).
   */
  readonly candidates: readonly PrecisionCandidate[];
  /** The size or fidelity floor to meet. */
  readonly target: PrecisionTarget;
  /**
   * The recipe that the per-layer choices are layered on (method, granularity, block size, format,
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

/** One candidate of one layer, measured with that layer alone quantized. */
export interface LayerSensitivity {
  /** Bits ({@linkcode FLOAT_BITS}: left in float). */
  readonly bits: number;
  /** The candidate's block size; absent when it kept the recipe's. */
  readonly blockSize?: number;
  /** The layer's bytes in the model: its float bytes plus the model's measured change. */
  readonly bytes: number;
  /** The model's output fidelity. */
  readonly fidelity: OutputFidelity;
}

/** The bits (and block size) chosen for one layer (one weight tensor and the nodes that read it). */
export interface LayerAssignment {
  /** The first node that reads the weight. */
  readonly node: string;
  /** Every node that reads it. */
  readonly nodes: readonly string[];
  /** The weight tensor. */
  readonly weight: string;
  /** The chosen bits ({@linkcode FLOAT_BITS}: left in float). */
  readonly bits: number;
  /** The chosen block size; absent when the layer keeps the recipe's. */
  readonly blockSize?: number;
  /** The layer's bytes at that candidate (see {@linkcode LayerSensitivity.bytes}). */
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
  /** The base recipe with one override per layer's node giving the chosen bits and block size. */
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

/** A candidate in one shape. */
interface Candidate {
  readonly bits: number;
  readonly blockSize?: number;
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
 * Chooses bits (and, with block candidates, block sizes) per layer by measured sensitivity: each
 * layer (a weight tensor and the nodes that read it) is quantized alone at each candidate, on a
 * fresh copy of the model, and the model's
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
 * @throws {TypeError} When the model has no graph, a quantized node has no name, the dataset
 * does not fit the model, or a candidate is neither bits nor `{ bits, blockSize }`.
 * @throws {RangeError} When the candidates are empty or invalid (a block size with a recipe that
 * is not blocked, or with float bits), the base method is not
 * `linear`, `log` or `kmeans`, no layer is quantized, or no assignment meets the target.
 * @throws {DOMException} The signal's reason when cancelled.
 * @example
 * ```ts
 * import { decodeModel } from "@modelpress/onnx";
 * import { loadDataset } from "@modelpress/evaluate";
 * import { assignPrecision } from "@modelpress/quantize";
 * const model = decodeModel(await Deno.readFile("test/fixtures/mnist_mlp.onnx"));
 * const result = await assignPrecision(model, await loadDataset("mnist", { split: "train" }), {
 *   // Bits 4 or 8 at the recipe's block 32, or 4 bits with coarser scales.
 *   candidates: [4, 8, { bits: 4, blockSize: 128 }],
 *   target: { fidelity: { metric: "sqnr", min: 30 } },
 *   recipe: { method: "linear", granularity: "block", blockSize: 32 },
 * });
 * console.log(result.assignment.map((l) => `${l.node}: ${l.bits}/${l.blockSize}`), result.measured);
 * ```
 */
export async function assignPrecision(
  model: ModelProto,
  dataset: Dataset,
  options: AssignPrecisionOptions,
): Promise<PrecisionAssignment> {
  const { signal, onProgress } = options;
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
  const candidates = checkCandidates(options.candidates, base);
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
    const quantized = candidates.filter((c) => c.bits !== FLOAT_BITS);
    const total = layers.length * quantized.length;
    let done = 0;
    onProgress?.({ phase: "sensitivity", done, total });
    const layerOptions: SearchOption[][] = [];
    const sensitivity: LayerSensitivity[][] = [];
    for (const layer of layers) {
      const own: SearchOption[] = [];
      const rows: LayerSensitivity[] = [];
      for (const candidate of candidates) {
        signal?.throwIfAborted();
        let delta = 0;
        let fidelity: OutputFidelity = { sqnrDb: Infinity, cosine: 1, agreement: 1 };
        if (candidate.bits !== FLOAT_BITS) {
          const recipe = withOverrides(base, [
            { match: { pattern: "^" }, skip: true },
            ...layer.nodes.map((name) => ({ match: { name }, skip: false, ...candidate })),
          ]);
          const { model: q, report } = await quantize(recipe);
          delta = report.size.after - report.size.before;
          fidelity = await probe.measure(encodeModel(q), signal);
          onProgress?.({ phase: "sensitivity", done: ++done, total });
        }
        own.push({ delta, fidelity });
        rows.push({ ...candidate, bytes: layer.floatBytes + delta, fidelity });
      }
      layerOptions.push(own);
      sensitivity.push(rows);
    }

    // The layers measured alone miss what a model pays once (an opset import, for one): measure
    // one assignment of every layer to learn that offset.
    const top = candidates.findLastIndex((c) => c.bits !== FLOAT_BITS);
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
          ...candidates[pick[i]!]!,
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
  candidates: readonly Candidate[],
): QuantizeRecipe {
  const overrides: NodeOverride[] = [];
  for (const [i, layer] of layers.entries()) {
    const candidate = candidates[pick[i]!]!;
    for (const name of layer.nodes) {
      overrides.push(
        candidate.bits === FLOAT_BITS
          ? { match: { name }, skip: true }
          : { match: { name }, ...candidate },
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

/** Validates the candidates and returns them as objects, unique, by bits then block size. */
function checkCandidates(
  candidates: readonly PrecisionCandidate[] | undefined,
  base: QuantizeRecipe,
): Candidate[] {
  if (!Array.isArray(candidates) || candidates.length === 0) {
    throw new RangeError(
      "Cannot assign precision: candidates is empty (give bit widths such as [2, 4, 8])",
    );
  }
  const unique = new Map<string, Candidate>();
  for (const c of candidates as readonly unknown[]) {
    const shown = typeof c === "object" && c !== null ? JSON.stringify(c) : String(c);
    if (typeof c !== "number" && (typeof c !== "object" || c === null || Array.isArray(c))) {
      throw new TypeError(
        `Cannot assign precision: a candidate must be bits or { bits, blockSize }, got ${shown}`,
      );
    }
    const fields = (typeof c === "number" ? { bits: c } : c) as Record<string, unknown>;
    const unknownKey = Object.keys(fields).find((k) => k !== "bits" && k !== "blockSize");
    if (unknownKey !== undefined) {
      throw new TypeError(
        `Cannot assign precision: candidate ${shown} has an unknown field '${unknownKey}'`,
      );
    }
    const { bits, blockSize } = fields;
    if (
      !(typeof bits === "number" && Number.isInteger(bits) &&
        ((bits >= 2 && bits <= 8) || bits === 16 || bits === FLOAT_BITS))
    ) {
      throw new RangeError(
        `Cannot assign precision: candidate bits must be integers 2..8, 16 or 32 (float), got ` +
          `${typeof c === "number" ? c : String(bits)}`,
      );
    }
    if (blockSize !== undefined) {
      if (!(typeof blockSize === "number" && Number.isInteger(blockSize) && blockSize >= 2)) {
        throw new RangeError(
          `Cannot assign precision: candidate ${shown} needs a blockSize that is an integer >= 2`,
        );
      }
      if (bits === FLOAT_BITS) {
        throw new RangeError(
          `Cannot assign precision: candidate ${shown} leaves the layer in float, which has no ` +
            `block size`,
        );
      }
      if (base.granularity !== "block") {
        throw new RangeError(
          `Cannot assign precision: candidate ${shown} gives a block size, but the recipe's ` +
            `granularity is '${base.granularity ?? "channel"}', not 'block'`,
        );
      }
    }
    const candidate: Candidate = blockSize === undefined ? { bits } : { bits, blockSize };
    unique.set(`${bits}/${blockSize ?? ""}`, Object.freeze(candidate));
  }
  const list = [...unique.values()];
  if (list.every((c) => c.bits === FLOAT_BITS)) {
    throw new RangeError(
      "Cannot assign precision: candidates need a bit width other than 32 (float)",
    );
  }
  // The recipe's own block size (no blockSize) before the explicit ones.
  return list.sort((a, b) => a.bits - b.bits || (a.blockSize ?? 0) - (b.blockSize ?? 0));
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
