/**
 * Quantizes a model by a recipe: linear (QDQ: integer initializers dequantized by
 * DequantizeLinear before their float consumers), dynamic (integer kernels with activation
 * ranges computed at run time per input, as ONNX Runtime's quantize_dynamic writes) or static
 * (linear weights, and activations quantized and dequantized over ranges calibrated on data),
 * or log and kmeans (codes into a codebook, rebuilt by Cast and Gather).
 * @module
 */
import {
  attrInt,
  densifyStorage,
  encodedModelSize,
  float16ToFloat32,
  float32ToFloat16,
  GraphIndex,
  makeNode,
  makeTensor,
  type ModelProto,
  type NodeProto,
  opsetVersion,
  raiseOpset,
  sparsifyStorage,
  tensorData,
  type TensorProto,
  TensorProto_DataType,
  UniqueNames,
} from "@modelpress/onnx";
import { type BackendChoice, createKernels, type Kernels } from "@modelpress/kernels";
import {
  type NodeSettings,
  type QuantizeMethod,
  type QuantizeRecipe,
  resolveSettings,
  validateRecipe,
} from "./recipe.ts";
import { matchingOverrides } from "./match_node.ts";
import { WEIGHT_OPS, type WeightSlot, weightSlots } from "./weight_slots.ts";
import { type QuantizedTensor, quantizeTensor } from "./quantize_tensor.ts";
import {
  type NodeReport,
  type QuantizationReport,
  summarizeParams,
  type TensorReport,
} from "./report.ts";
import { findWeight, modelScopes, type Scope, type WeightSource } from "./_scopes.ts";
import { addStoredWeight, dequantizeNode, type StoredWeight } from "./_emit.ts";
import { emitMatMulNBits, planMatMulNBits, weightKey } from "./_emit_matmul_nbits.ts";
import { codebookGroups, quantizeCodebookWeight } from "./_codebook_weights.ts";
import type { Dataset } from "@modelpress/evaluate";
import { calibrate, type CalibrationProgress, type CalibrationStatistics } from "./calibrate.ts";
import { calibrationRange } from "./calibration_range.ts";
import { quantizeActivation } from "./_static_qdq.ts";
import type { ActivationReport, CalibrationReport } from "./report.ts";

/** Options of {@linkcode quantizeModel}. */
export interface QuantizeModelOptions {
  /** Kernels to use (not disposed). Default: made with `backend` and disposed at the end. */
  readonly kernels?: Kernels;
  /** The backend when no kernels are given. Default `"auto"`. */
  readonly backend?: BackendChoice;
  /**
   * Called with 0 before the work starts, then after each weight tensor (linear) or node (dynamic)
   * is done, with the count done and the count planned, so that a caller can draw a progress bar
   * for large models.
   */
  readonly onProgress?: (done: number, total: number) => void;
  /** `static`: the data to calibrate on (the recipe's `calibration.samples` of it). */
  readonly dataset?: Dataset;
  /**
   * `static`: statistics from {@linkcode calibrate} on this model (before quantization), used
   * instead of calibrating; they must cover every activation of a statically quantized node.
   */
  readonly calibration?: CalibrationStatistics;
  /** `static`: cancels the calibration between batches. */
  readonly signal?: AbortSignal;
  /** `static`: calibration progress, in samples. */
  readonly onCalibrationProgress?: (progress: CalibrationProgress) => void;
}

/** The result of {@linkcode quantizeModel}. */
export interface QuantizeModelResult {
  /** The model, changed in place. */
  readonly model: ModelProto;
  /** What was done. */
  readonly report: QuantizationReport;
}

/** Weight element types that are quantized: float32, and float16 (quantized in float32). */
const FLOAT_TYPES: readonly number[] = [TensorProto_DataType.FLOAT, TensorProto_DataType.FLOAT16];

/** Operators that dynamic quantization rewrites into integer kernels. */
const DYNAMIC_OPS: readonly string[] = ["MatMul", "Gemm", "Conv"];

interface WeightUse {
  readonly slot: WeightSlot;
  readonly source: WeightSource;
}

interface NodeItem {
  readonly scope: Scope;
  readonly node: NodeProto;
  readonly settings: NodeSettings | undefined;
  readonly skip: string | undefined;
  readonly weights: WeightUse[];
  readonly problems: string[];
  /** The constant bias (input 2) of a Gemm or Conv, resolved while the indexes are fresh. */
  readonly bias?: WeightSource | undefined;
}

/**
 * Quantizes a model's weights by a recipe (see {@linkcode QuantizeRecipe}). Nodes of MatMul,
 * Gemm, Conv, ConvTranspose, LSTM, GRU and RNN in the main graph and in every subgraph are
 * considered; a weight read by several nodes is quantized once. Weights that are not constants,
 * and nodes a method cannot handle, are left as they are and reported with the reason. The
 * default-domain opset is raised when an emitted form needs it (per-axis DequantizeLinear: 13;
 * blocked or 16-bit: 21; float16 scales: 19); 4-bit codes are stored as INT4/UINT4 at opset 21
 * and in 8-bit containers before. Blocked linear MatMul/Gemm weights with
 * `format: "matmulnbits"` (the default) replace their readers by com.microsoft MatMulNBits (2, 4
 * or 8 bits), which needs no opset raise; those that have no such form keep DequantizeLinear,
 * with the reason reported. Float16 weights are quantized in float32 and rebuilt as fp16: fp16 scales for DequantizeLinear,
 * QuantizeLinear and MatMulNBits, fp16 codebooks, and for dynamic a Cast to float32 before
 * DynamicQuantizeLinear and back to fp16 after the scale multiply.
 *
 * @param model The model, changed in place.
 * @param recipe The recipe (validated with {@linkcode validateRecipe}).
 * @param options Kernels or backend.
 * @returns The model and the report.
 * @throws {TypeError} When the recipe is malformed or the model has no graph.
 * @throws {RangeError} When a recipe value is out of range or a weight is not finite.
 * @example
 * ```ts
 * import { decodeModel, encodeModel } from "@modelpress/onnx";
 * import { quantizeModel } from "@modelpress/quantize";
 * const model = decodeModel(await Deno.readFile("test/fixtures/mnist_mlp.onnx"));
 * const { report } = await quantizeModel(model, { method: "linear", bits: 8 });
 * const bytes = encodeModel(model); // about 25% of the fp32 file
 * console.log(report.size.ratio);
 * ```
 */
export async function quantizeModel(
  model: ModelProto,
  recipe: QuantizeRecipe,
  options: QuantizeModelOptions = {},
): Promise<QuantizeModelResult> {
  const started = performance.now();
  const valid = validateRecipe(recipe);
  if (model.graph === undefined) throw new TypeError("Cannot quantize model: it has no graph");
  const from = opsetVersion(model, "");
  if (from === undefined) {
    throw new TypeError("Cannot quantize model: it imports no default-domain opset");
  }
  const before = encodedModelSize(model);
  // Weights kept in sparse storage (a pruned model) are rebuilt by nodes: quantization needs
  // them as constants, so they become dense here and are stored sparsely again at the end.
  const sparseWeights = densifyStorage(model).tensors;
  let items = planModel(model, valid);
  // Calibration runs the float model, before anything changes.
  const wanted = [...staticActivations(items).keys()];
  let stats: CalibrationStatistics | undefined;
  if (wanted.length > 0) {
    stats = options.calibration;
    if (stats === undefined) {
      if (options.dataset === undefined) {
        throw new TypeError(
          "Cannot quantize model statically: options.dataset or options.calibration is required",
        );
      }
      stats = await calibrate(model, options.dataset, {
        tensors: wanted,
        samples: valid.calibration?.samples ?? 500,
        bins: valid.calibration?.bins ?? 2048,
        ...(options.signal === undefined ? {} : { signal: options.signal }),
        ...(options.onCalibrationProgress === undefined
          ? {}
          : { onProgress: options.onCalibrationProgress }),
      });
    }
    for (const name of wanted) {
      if (stats.tensors[name] === undefined) {
        throw new TypeError(
          `Cannot quantize model statically: activation '${name}' has no calibration statistics`,
        );
      }
    }
  }
  const need = requiredOpset(items, planMatMulNBits(items).weights);
  if (need > from) {
    raiseOpset(model, need);
    items = planModel(model, valid);
  }
  const opset = opsetVersion(model, "") ?? from;
  const nbits = planMatMulNBits(items);
  for (const [item, reason] of nbits.reasons) (item as NodeItem).problems.push(reason);
  const staticInputs = staticActivations(items);
  const kernels = options.kernels ?? await createKernels({ backend: options.backend ?? "auto" });
  let numeric = 0;
  const time = async <T>(work: () => Promise<T>): Promise<T> => {
    const t = performance.now();
    try {
      return await work();
    } finally {
      numeric += performance.now() - t;
    }
  };
  try {
    const names = new UniqueNames(model);
    const tensors: TensorReport[] = [];
    const nodeWeights = new Map<NodeItem, string[]>();
    const removable: { scope: Scope; name: string; node: NodeProto | undefined }[] = [];

    // Linear: one DequantizeLinear per weight, shared by every node that reads it.
    const groups = new Map<string, { use: WeightUse; settings: NodeSettings; items: NodeItem[] }>();
    for (const item of items) {
      if (item.settings?.method !== "linear" && item.settings?.method !== "static") continue;
      for (const use of item.weights) {
        const key = `${use.source.scope.path}\u0000${use.source.name}`;
        const group = groups.get(key);
        if (group === undefined) groups.set(key, { use, settings: item.settings, items: [item] });
        else group.items.push(item);
      }
    }
    const dynamicItems = items.filter((i) =>
      i.settings?.method === "dynamic" && i.weights.length > 0
    );
    const codebooks = codebookGroups(items);
    const total = groups.size + dynamicItems.length + codebooks.length;
    let done = 0;
    const step = (): void => options.onProgress?.(++done, total);
    if (total > 0) options.onProgress?.(0, total);
    for (const { use, settings, items: readers } of groups.values()) {
      const { source, slot } = use;
      const shape = dimsOf(source.tensor);
      const axis = settings.granularity === "tensor"
        ? undefined
        : normalize(settings.granularity === "block" ? slot.blockAxis : slot.channelAxis, shape);
      const blockSize = settings.granularity === "block" ? settings.blockSize : undefined;
      const q = await time(() =>
        quantizeTensor(kernels, floats(source.tensor), {
          shape,
          bits: settings.bits,
          signed: settings.signed,
          symmetric: settings.symmetric,
          ...(axis === undefined ? {} : { axis }),
          ...(blockSize === undefined ? {} : { blockSize }),
          range: settings.range,
          name: source.name,
        })
      );
      if (nbits.weights.has(weightKey(source))) {
        // Weight-only MatMulNBits: the readers are replaced, the codes packed for them.
        const packed = emitMatMulNBits(q, readers, { source, shape, names, model });
        for (const item of readers) pushTo(nodeWeights, item, source.name);
        for (const w of [source, ...packed.biases]) {
          removable.push({ scope: w.scope, name: w.name, node: w.constantNode });
        }
        tensors.push({
          ...tensorReport(source, packed, q, {
            method: settings.method,
            settings,
            shape,
            consumers: readers.map((i) => i.node.name),
          }),
          format: "matmulnbits",
        });
        step();
        continue;
      }
      // An fp16 weight keeps fp16 scales, so that DequantizeLinear yields fp16 (opset 19+).
      const stored = addStoredWeight(source.scope, source.name, {
        q,
        shape,
        opset,
        names,
        scaleType: source.tensor.dataType,
      });
      const output = names.value(`${source.name}_dequantized`);
      source.scope.graph.node.unshift(
        dequantizeNode(stored, {
          output,
          name: names.node(`${source.name}_DequantizeLinear`),
          axis: q.axis,
          blockSize: q.blockSize,
        }),
      );
      for (const item of readers) {
        for (const w of item.weights) {
          if (w.source === source || sameSource(w.source, source)) {
            item.node.input[w.slot.slot] = output;
          }
        }
        pushTo(nodeWeights, item, source.name);
      }
      removable.push({ scope: source.scope, name: source.name, node: source.constantNode });
      tensors.push(tensorReport(source, stored, q, {
        method: settings.method,
        settings,
        shape,
        consumers: readers.map((i) => i.node.name),
      }));
      step();
    }

    // Log and k-means: codes and a codebook per weight, rebuilt by Cast, Gather (and Add or Mul).
    for (const group of codebooks) {
      tensors.push(await time(() => quantizeCodebookWeight(group, { kernels, names, opset })));
      for (const item of group.readers) pushTo(nodeWeights, item, group.source.name);
      const { scope, name, constantNode } = group.source;
      removable.push({ scope, name, node: constantNode });
      step();
    }

    // Dynamic: DynamicQuantizeLinear per activation, integer kernels per node.
    const activations = new Map<string, { q: string; s: string; zp: string }>();
    const dynamicWeights = new Map<string, StoredWeight>();
    for (const item of dynamicItems) {
      const replaced = await time(() =>
        rewriteDynamic(item, {
          kernels,
          names,
          opset,
          activations,
          dynamicWeights,
          tensors,
          removable,
        })
      );
      pushTo(nodeWeights, item, ...replaced);
      step();
    }

    removeOrphans(removable);

    // Static: Q -> DQ per calibrated activation, shared by the nodes that read it.
    const activationReports: ActivationReport[] = [];
    let calibration: CalibrationReport | undefined;
    if (stats !== undefined && valid.calibration !== undefined) {
      const c = valid.calibration;
      const type = c.activations ?? "uint8";
      const graph = model.graph!;
      for (const [name, readers] of staticInputs) {
        const t = stats.tensors[name]!;
        const range = calibrationRange(t, {
          method: c.method,
          symmetric: type === "int8",
          ...(c.percentile === undefined ? {} : { percentile: c.percentile }),
        });
        activationReports.push(quantizeActivation(graph, name, {
          range,
          observed: { min: t.count === 0 ? 0 : t.min, max: t.count === 0 ? 0 : t.max },
          type,
          names,
          consumers: readers.map((item) => ({ node: item.node, slot: 0 })),
          // MatMul, Gemm and Conv take the activation in their weight's element type.
          float16: readers.some((item) => isFloat16(item.weights[0]!.source)),
        }));
      }
      calibration = {
        method: c.method,
        ...(c.method === "percentile" ? { percentile: c.percentile ?? 99.999 } : {}),
        bins: stats.bins,
        samples: stats.samples,
        batches: stats.batches,
        timeMs: options.calibration === undefined ? stats.timeMs : 0,
      };
    }
    for (const item of items) {
      if (item.settings?.method !== "static" || item.weights.length === 0) continue;
      if (item.scope.path !== "main") {
        item.problems.push(
          `activation '${item.node.input[0]}' of a subgraph node stays float (calibration ` +
            "exposes main-graph tensors only)",
        );
      }
    }

    const nodes: NodeReport[] = items.map((item) => {
      const weights = nodeWeights.get(item) ?? [];
      const base = { name: item.node.name, opType: item.node.opType, graph: item.scope.path };
      if (weights.length === 0) {
        return {
          ...base,
          status: "skipped" as const,
          reason: item.skip ??
            (item.problems.length > 0 ? item.problems.join("; ") : "it has no weight to quantize"),
          weights,
        };
      }
      return {
        ...base,
        status: "quantized" as const,
        method: item.settings!.method,
        ...(item.problems.length > 0 ? { reason: item.problems.join("; ") } : {}),
        weights,
      };
    });
    const sparse = sparseWeights.length === 0
      ? undefined
      : sparsifyStorage(model).tensors.filter((t) => t.sparse).map((t) => t.name);
    const after = encodedModelSize(model);
    const report: QuantizationReport = {
      recipe: valid,
      backend: kernels.backend,
      opset: { from, to: opsetVersion(model, "") ?? null },
      tensors,
      nodes,
      ...(calibration === undefined ? {} : { activations: activationReports, calibration }),
      size: { before, after, ratio: after / before },
      ...(sparse === undefined
        ? {}
        : { sparseStorage: { densified: sparseWeights, stored: sparse } }),
      timeMs: { total: performance.now() - started, numeric },
    };
    return { model, report };
  } finally {
    if (options.kernels === undefined) kernels.dispose();
  }
}

/** Decides, node by node, what to quantize and what to leave (with the reason). */
function planModel(model: ModelProto, recipe: QuantizeRecipe): NodeItem[] {
  const scopes = modelScopes(model);
  const items: NodeItem[] = [];
  for (const scope of scopes) {
    for (const node of scope.graph.node) {
      if (!WEIGHT_OPS.includes(node.opType) || (node.domain !== "" && node.domain !== "ai.onnx")) {
        continue;
      }
      const label = node.name !== "" ? `node '${node.name}'` : `an unnamed ${node.opType} node`;
      const overrides = matchingOverrides(recipe.overrides ?? [], node);
      const skipped = overrides.findLast((o) => o.skip !== undefined)?.skip === true;
      const problems: string[] = [];
      if (skipped) {
        items.push({
          scope,
          node,
          settings: undefined,
          skip: `${label} is skipped by the recipe`,
          weights: [],
          problems,
        });
        continue;
      }
      const settings = resolveSettings(recipe, overrides);
      const reason = settings.method === "dynamic" ? dynamicProblem(node) : undefined;
      if (reason !== undefined) {
        items.push({
          scope,
          node,
          settings,
          skip: `Cannot quantize ${label} dynamically: ${reason}`,
          weights: [],
          problems,
        });
        continue;
      }
      const weights: WeightUse[] = [];
      for (const slot of weightSlots(node)) {
        const name = node.input[slot.slot] ?? "";
        if (name === "") continue;
        const source = findWeight(scopes, scope, name);
        if (typeof source === "string") {
          problems.push(`Cannot quantize ${label}: ${source}`);
          continue;
        }
        if (!FLOAT_TYPES.includes(source.tensor.dataType)) {
          problems.push(
            `Cannot quantize ${label}: weight '${name}' is not float32 or float16 (only those ` +
              "weights are quantized)",
          );
          continue;
        }
        const shape = dimsOf(source.tensor);
        const axis = settings.granularity === "block" ? slot.blockAxis : slot.channelAxis;
        if (settings.granularity !== "tensor" && normalize(axis, shape) === undefined) {
          problems.push(
            `Cannot quantize ${label}: weight '${name}' of rank ${shape.length} has no axis ${axis}`,
          );
          continue;
        }
        if (settings.method === "dynamic" && shape.length !== 2 && node.opType !== "Conv") {
          problems.push(
            `Cannot quantize ${label} dynamically: weight '${name}' has rank ${shape.length}, not 2`,
          );
          continue;
        }
        if (settings.method === "dynamic" && node.opType === "Conv") {
          const bias = node.input[2] ?? "";
          if (bias !== "" && scope.index.constantTensor(bias) === undefined) {
            problems.push(`Cannot quantize ${label} dynamically: bias '${bias}' is not a constant`);
            continue;
          }
        }
        weights.push({ slot, source });
      }
      const biasName = node.input[2] ?? "";
      const found = biasName === "" ? undefined : findWeight(scopes, scope, biasName);
      const bias = typeof found === "string" ? undefined : found;
      items.push({ scope, node, settings, skip: undefined, weights, problems, bias });
    }
  }
  return items;
}

/**
 * The main-graph activations of statically quantized nodes (input 0 where it is not a
 * constant), each with the nodes that read it.
 */
function staticActivations(items: readonly NodeItem[]): Map<string, NodeItem[]> {
  const out = new Map<string, NodeItem[]>();
  for (const item of items) {
    if (item.settings?.method !== "static" || item.weights.length === 0) continue;
    if (item.scope.path !== "main") continue;
    const x = item.node.input[0] ?? "";
    if (x === "" || item.scope.index.constantOf(x) !== undefined) continue;
    pushTo(out, x, item);
  }
  return out;
}

/** Why a node has no dynamic (integer) form, or undefined when it has one. */
function dynamicProblem(node: NodeProto): string | undefined {
  if (!DYNAMIC_OPS.includes(node.opType)) {
    return `${node.opType} has no integer kernel in the default domain (override it with ` +
      "method 'linear' to store its weights as integers)";
  }
  if (node.opType === "Gemm" && attr(node, "transA") === 1) {
    return "Gemm with transA=1 is not supported";
  }
  return undefined;
}

/** The lowest opset the planned forms need. */
function requiredOpset(items: readonly NodeItem[], nbits: ReadonlySet<string>): number {
  let need = 0;
  for (const { settings, weights } of items) {
    if (settings === undefined || weights.length === 0) continue;
    // MatMulNBits is a com.microsoft operator: it needs no default-domain opset.
    if (weights.every((w) => nbits.has(weightKey(w.source)))) continue;
    if (settings.method === "dynamic") need = Math.max(need, 11);
    else if (settings.granularity === "block" || settings.bits === 16) need = Math.max(need, 21);
    else if (
      (settings.method === "linear" || settings.method === "static") &&
      isFloat16(weights[0]!.source)
    ) {
      // DequantizeLinear (and QuantizeLinear) take float16 scales from opset 19.
      need = Math.max(need, 19);
    } else if (settings.granularity === "channel") need = Math.max(need, 13);
    else need = Math.max(need, 10);
  }
  return need;
}

function isFloat16(source: WeightSource): boolean {
  return source.tensor.dataType === TensorProto_DataType.FLOAT16;
}

interface DynamicContext {
  readonly kernels: Kernels;
  readonly names: UniqueNames;
  readonly opset: number;
  readonly activations: Map<string, { q: string; s: string; zp: string }>;
  readonly dynamicWeights: Map<string, StoredWeight>;
  readonly tensors: TensorReport[];
  readonly removable: { scope: Scope; name: string; node: NodeProto | undefined }[];
}

/**
 * Replaces a MatMul, Gemm or Conv by DynamicQuantizeLinear (shared per activation), an integer
 * kernel on uint8 activations and stored weights, a Cast to float and a multiply by
 * `activation scale * weight scale` (plus the bias for Gemm and Conv).
 */
async function rewriteDynamic(item: NodeItem, ctx: DynamicContext): Promise<string[]> {
  const { scope, node } = item;
  const settings = item.settings!;
  const { names } = ctx;
  const graph = scope.graph;
  const use = item.weights[0]!;
  const source = use.source;
  const isConv = node.opType === "Conv";
  const added: NodeProto[] = [];
  const x = node.input[0]!;
  // DynamicQuantizeLinear takes float32 only: an fp16 activation is Cast to float32 first, and
  // the float32 product back to fp16 before the (fp16) bias.
  const half = isFloat16(source);
  const actKey = `${scope.path}\u0000${x}`;
  let act = ctx.activations.get(actKey);
  if (act === undefined) {
    act = {
      q: names.value(`${x}_quantized`),
      s: names.value(`${x}_scale`),
      zp: names.value(`${x}_zero_point`),
    };
    ctx.activations.set(actKey, act);
    let input = x;
    if (half) {
      input = names.value(`${x}_float32`);
      added.push(makeNode("Cast", {
        inputs: [x],
        outputs: [input],
        name: names.node(`${x}_CastToFloat32`),
        attributes: { to: attrInt(TensorProto_DataType.FLOAT) },
      }));
    }
    added.push(makeNode("DynamicQuantizeLinear", {
      inputs: [input],
      outputs: [act.q, act.s, act.zp],
      name: names.node(`${x}_DynamicQuantizeLinear`),
    }));
  }
  const alpha = node.opType === "Gemm" ? attrFloat(node, "alpha") ?? 1 : 1;
  const transposed = node.opType === "Gemm" && attr(node, "transB") === 1;
  const weightKey = `${source.scope.path}\u0000${source.name}\u0000${node.opType}\u0000${
    transposed ? "T" : ""
  }\u0000${alpha}`;
  let stored = ctx.dynamicWeights.get(weightKey);
  if (stored === undefined) {
    let shape = dimsOf(source.tensor);
    let data = floats(source.tensor);
    if (transposed) {
      data = transpose2d(data, shape[0]!, shape[1]!);
      shape = [shape[1]!, shape[0]!];
    }
    const axis = settings.granularity === "channel" ? (isConv ? 0 : 1) : undefined;
    // onnxruntime-web's ConvInteger takes uint8 weights with one zero point; MatMulInteger takes
    // int8 or uint8 weights. Symmetric weights have one zero point for every channel.
    const q = await quantizeTensor(ctx.kernels, data, {
      shape,
      bits: 8,
      signed: isConv ? false : settings.signed,
      symmetric: settings.symmetric,
      ...(axis === undefined ? {} : { axis }),
      range: settings.range,
      name: source.name,
    });
    const scaleShape = isConv && axis !== undefined
      ? [shape[0]!, ...shape.slice(2).map(() => 1)]
      : q.paramShape;
    stored = addStoredWeight(source.scope, source.name, {
      q,
      shape,
      opset: ctx.opset,
      names,
      scaleShape,
      scalarZeroPoint: true,
      scaleFactor: alpha,
    });
    ctx.dynamicWeights.set(weightKey, stored);
    ctx.removable.push({ scope: source.scope, name: source.name, node: source.constantNode });
    ctx.tensors.push(tensorReport(source, stored, q, {
      method: "dynamic",
      settings: { ...settings, signed: isConv ? false : settings.signed },
      shape,
      consumers: [node.name],
    }));
  } else {
    const report = ctx.tensors.find((t) => t.quantizedName === stored!.codes);
    (report?.consumers as string[] | undefined)?.push(node.name);
  }
  const base = node.name !== "" ? node.name : node.output[0]!;
  const integer = names.value(`${base}_integer`);
  const asFloat = names.value(`${base}_float`);
  const scale = names.value(`${base}_output_scale`);
  const output = node.output[0]!;
  const bias = node.input[2] ?? "";
  const scaled = bias === "" ? output : names.value(`${base}_scaled`);
  const product = half ? names.value(`${base}_product`) : scaled;
  if (isConv) {
    added.push(makeNode("ConvInteger", {
      inputs: [act.q, stored.codes, act.zp, stored.zeroPoint],
      outputs: [integer],
      name: names.node(`${base}_ConvInteger`),
    }));
    added[added.length - 1]!.attribute = node.attribute.map((a) => a);
  } else {
    added.push(makeNode("MatMulInteger", {
      inputs: [act.q, stored.codes, act.zp, stored.zeroPoint],
      outputs: [integer],
      name: names.node(`${base}_MatMulInteger`),
    }));
  }
  added.push(
    makeNode("Cast", {
      inputs: [integer],
      outputs: [asFloat],
      name: names.node(`${base}_Cast`),
      attributes: { to: attrInt(TensorProto_DataType.FLOAT) },
    }),
    makeNode("Mul", {
      inputs: [act.s, stored.scale],
      outputs: [scale],
      name: names.node(`${base}_ScaleMul`),
    }),
    makeNode("Mul", {
      inputs: [asFloat, scale],
      outputs: [product],
      name: names.node(`${base}_OutputMul`),
    }),
  );
  if (half) {
    added.push(makeNode("Cast", {
      inputs: [product],
      outputs: [scaled],
      name: names.node(`${base}_CastToFloat16`),
      attributes: { to: attrInt(TensorProto_DataType.FLOAT16) },
    }));
  }
  if (bias !== "") {
    let addend = bias;
    const beta = node.opType === "Gemm" ? attrFloat(node, "beta") ?? 1 : 1;
    const biasTensor = item.bias?.tensor;
    if (isConv) {
      const rank = dimsOf(source.tensor).length;
      const values = floats(biasTensor!);
      addend = names.value(`${bias}_reshaped`);
      graph.initializer.push(
        floatTensor(
          addend,
          values.slice(),
          [values.length, ...Array(rank - 2).fill(1)],
          biasTensor!,
        ),
      );
      ctx.removable.push({ scope: item.bias!.scope, name: bias, node: item.bias!.constantNode });
    } else if (beta !== 1 && biasTensor !== undefined) {
      addend = names.value(`${bias}_beta`);
      graph.initializer.push(
        floatTensor(
          addend,
          floats(biasTensor).map((v) => Math.fround(v * beta)),
          dimsOf(biasTensor),
          biasTensor,
        ),
      );
      ctx.removable.push({ scope: item.bias!.scope, name: bias, node: item.bias!.constantNode });
    } else if (beta !== 1) {
      const betaName = names.value(`${base}_beta`);
      addend = names.value(`${bias}_times_beta`);
      graph.initializer.push(
        half
          ? makeTensor(betaName, float32ToFloat16([beta]), {
            dims: [],
            dataType: TensorProto_DataType.FLOAT16,
          })
          : makeTensor(betaName, new Float32Array([beta]), { dims: [] }),
      );
      added.push(makeNode("Mul", {
        inputs: [bias, betaName],
        outputs: [addend],
        name: names.node(`${base}_BetaMul`),
      }));
    }
    added.push(makeNode("Add", {
      inputs: [scaled, addend],
      outputs: [output],
      name: names.node(`${base}_BiasAdd`),
    }));
  }
  graph.node.splice(graph.node.indexOf(node), 1, ...added);
  return [source.name];
}

/** Removes the float weights (initializers or Constant nodes) that nothing reads any more. */
function removeOrphans(
  removable: readonly { scope: Scope; name: string; node: NodeProto | undefined }[],
): void {
  const byGraph = new Map<Scope, { name: string; node: NodeProto | undefined }[]>();
  for (const r of removable) pushTo(byGraph, r.scope, r);
  for (const [scope, list] of byGraph) {
    const index = new GraphIndex(scope.graph);
    const graph = scope.graph;
    const gone = new Set<string>();
    const nodes = new Set<NodeProto>();
    for (const { name, node } of list) {
      if (index.isUsed(name)) continue;
      gone.add(name);
      if (node !== undefined) nodes.add(node);
    }
    if (gone.size === 0) continue;
    graph.initializer = graph.initializer.filter((t) => !gone.has(t.name));
    graph.valueInfo = graph.valueInfo.filter((v) => !gone.has(v.name));
    if (nodes.size > 0) graph.node = graph.node.filter((n) => !nodes.has(n));
  }
}

function tensorReport(
  source: WeightSource,
  stored: StoredWeight,
  q: QuantizedTensor,
  options: {
    method: QuantizeMethod;
    settings: NodeSettings;
    shape: readonly number[];
    consumers: string[];
  },
): TensorReport {
  const { settings } = options;
  return {
    name: source.name,
    graph: source.scope.path,
    quantizedName: stored.codes,
    method: options.method,
    bits: q.grid.bits,
    storedAs: stored.storedAs,
    signed: q.grid.signed,
    symmetric: settings.symmetric,
    granularity: q.blockSize !== undefined ? "block" : q.axis !== undefined ? "channel" : "tensor",
    axis: q.axis ?? null,
    blockSize: q.blockSize ?? null,
    range: settings.range,
    shape: options.shape,
    scale: summarizeParams(q.scale),
    zeroPoint: summarizeParams(q.zeroPoint),
    mse: q.mse,
    sqnrDb: q.sqnrDb,
    consumers: options.consumers,
  };
}

function sameSource(a: WeightSource, b: WeightSource): boolean {
  return a.scope === b.scope && a.name === b.name;
}

function pushTo<K, V>(map: Map<K, V[]>, key: K, ...values: V[]): void {
  const list = map.get(key);
  if (list === undefined) map.set(key, [...values]);
  else list.push(...values);
}

function dimsOf(tensor: TensorProto): number[] {
  return tensor.dims.map(Number);
}

/** A float32 or float16 tensor's values as float32 (fp16 weights are quantized in float32). */
function floats(tensor: TensorProto): Float32Array {
  const data = tensorData(tensor);
  return tensor.dataType === TensorProto_DataType.FLOAT16
    ? float16ToFloat32(data as Uint16Array)
    : data as Float32Array;
}

/** A float tensor of `values` in the element type of `like` (FLOAT or FLOAT16). */
function floatTensor(
  name: string,
  values: Float32Array,
  dims: readonly number[],
  like: TensorProto,
): TensorProto {
  return like.dataType === TensorProto_DataType.FLOAT16
    ? makeTensor(name, float32ToFloat16(values), { dims, dataType: TensorProto_DataType.FLOAT16 })
    : makeTensor(name, values, { dims });
}

function normalize(axis: number, shape: readonly number[]): number | undefined {
  const a = axis < 0 ? axis + shape.length : axis;
  return a >= 0 && a < shape.length ? a : undefined;
}

function attr(node: NodeProto, name: string): number | undefined {
  const a = node.attribute.find((x) => x.name === name);
  return a === undefined ? undefined : Number(a.i);
}

function attrFloat(node: NodeProto, name: string): number | undefined {
  return node.attribute.find((x) => x.name === name)?.f;
}

function transpose2d(data: Float32Array, rows: number, cols: number): Float32Array {
  const out = new Float32Array(data.length);
  for (let r = 0; r < rows; r++) {
    for (let c = 0; c < cols; c++) out[c * rows + r] = data[r * cols + c]!;
  }
  return out;
}
