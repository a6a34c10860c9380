/**
 * Raising a model's default-domain opset, converting the nodes whose operator signature or
 * semantics changed on the way, in every graph of the model (subgraphs, function bodies and
 * training graphs included).
 *
 * Which changes need work comes from ONNX's schema history (`onnx/defs/operator_sets.h`) and its
 * version converter (`onnx/version_converter/convert.h` and the adapters it registers); the
 * conversions below follow those adapters, except where noted:
 *
 * | op (since) | change handled |
 * | --- | --- |
 * | BatchNormalization 9 | `spatial` removed: `spatial=1` is dropped, `spatial=0` is unsupported |
 * | BatchNormalization 14 | training outputs (mean, var, saved_*) unsupported when read, else dropped; `momentum`/`epsilon` keep their meaning |
 * | Dropout 10 | the `mask` output becomes bool: unsupported when read, else dropped |
 * | Dropout 12 | `ratio` attribute -> input |
 * | Clip 11 | `min`/`max` attributes -> inputs of the input's element type |
 * | Pad 11 | `pads` attribute -> int64 input, `value` -> input of the element type |
 * | Slice 10, TopK 10 | `starts`/`ends`/`axes`, `k` attributes -> int64 inputs |
 * | Upsample 9, 10 | `scales` attribute -> input; Upsample (deprecated at 10) -> Resize |
 * | Scatter 11 | deprecated -> ScatterElements (same semantics) |
 * | Resize 11 | inputs (X, scales) -> (X, roi, scales); `coordinate_transformation_mode="asymmetric"` and, for nearest, `nearest_mode` floor (upsampling) or ceil (downsampling) from constant scales: Resize-10's behaviour. ONNX's own adapter omits these attributes and so changes results. |
 * | Resize 13 | `tf_half_pixel_for_nn` unsupported; with `sizes`, `scales` becomes omitted |
 * | Squeeze, Unsqueeze 13; ReduceSum 13; other Reduce* 18 | `axes` attribute -> int64 input |
 * | Split 13, 18 | `split` attribute -> input; `num_outputs` set when there is no `split` |
 * | Softmax, LogSoftmax, Hardmax 13 | "coerce to 2-D at axis" becomes "along axis": the axis is kept when it is the last one, otherwise the node is wrapped in Flatten / Reshape(Shape(x)). ONNX's converter marks Hardmax compatible, which is wrong for the same reason. |
 * | RoiAlign 16 | `coordinate_transformation_mode="output_half_pixel"` (the old behaviour) |
 * | GridSample 20 | `mode` bilinear/bicubic -> linear/cubic |
 * | DFT 20 | `axis` attribute -> input |
 * | Scan 9, GroupNormalization 21 | unsupported (batch axis; per-group -> per-channel scale) |
 *
 * Every other schema change between opsets 7 and {@linkcode LATEST_KNOWN_OPSET} only adds types,
 * optional inputs or attributes whose defaults keep the old behaviour (ONNX registers them as
 * compatible), so those nodes are kept as they are.
 *
 * @example
 * ```ts
 * import { decodeModel, encodeModel, raiseOpset } from "@modelpress/onnx";
 * const model = decodeModel(await Deno.readFile("old.onnx"));
 * raiseOpset(model, 17);
 * await Deno.writeFile("new.onnx", encodeModel(model));
 * ```
 * @module
 */
import { clone } from "@bufbuild/protobuf";
import {
  type AttributeProto,
  type ModelProto,
  type NodeProto,
  NodeProtoSchema,
  type TensorProto,
  TensorProto_DataType,
} from "./_gen/onnx_pb.ts";
import { DEPRECATED_SINCE, SINCE_VERSIONS } from "./_op_schemas.ts";
import { attrInt, makeAttribute, makeNode, makeTensor } from "./build.ts";
import { type UnsupportedNode, UnsupportedOpError } from "./errors.ts";
import { float32ToBfloat16, float32ToFloat16 } from "./float16.ts";
import { constantNodeTensor, GraphIndex } from "./graph_index.ts";
import { inferShapes } from "./infer_shapes.ts";
import { isDefaultDomain, LATEST_KNOWN_OPSET, opsetVersion } from "./opset.ts";
import type { TensorType } from "./shapes.ts";
import { type GraphEntry, nodeSubgraphs, outerScopeNames, walkGraphs } from "./subgraphs.ts";
import { tensorData } from "./tensor.ts";
import { UniqueNames } from "./unique_names.ts";

/**
 * The lowest default-domain opset {@linkcode raiseOpset} converts from.
 *
 * @example
 * ```ts
 * import { decodeModel, MIN_RAISABLE_OPSET, opsetVersion } from "@modelpress/onnx";
 * const model = decodeModel(await Deno.readFile("old.onnx"));
 * if ((opsetVersion(model, "") ?? 0) < MIN_RAISABLE_OPSET) console.log("too old to convert");
 * ```
 */
export const MIN_RAISABLE_OPSET = 7;

/** Options for {@linkcode raiseOpset}. */
export interface RaiseOpsetOptions {
  /**
   * Raise `ir_version` to the lowest IR version that goes with the new opset when it is below
   * (default true).
   */
  readonly updateIrVersion?: boolean;
}

/** What {@linkcode raiseOpset} did. */
export interface RaiseOpsetReport {
  /** The default-domain opset before. */
  readonly from: number;
  /** The default-domain opset after. */
  readonly to: number;
  /** How many nodes were converted in place. */
  readonly converted: number;
  /** How many nodes were added (Flatten/Shape/Reshape around Softmax, Constants in functions). */
  readonly added: number;
}

/**
 * Raises the model's default-domain opset ("" / "ai.onnx") to `version` and converts every node
 * whose operator changed signature or semantics in between (see the module table), in the main
 * graph, all subgraphs, local functions (whose own default-domain import is raised too) and
 * training graphs. New constant inputs become initializers of the graph holding the node (Constant
 * nodes inside functions). Nothing is changed unless every node can be converted.
 *
 * @param model The model, changed in place.
 * @param version The new default-domain opset.
 * @param options `updateIrVersion`.
 * @returns What changed.
 * @throws {RangeError} When the model has no default-domain import, `version` is below the
 *   current one or above {@linkcode LATEST_KNOWN_OPSET}, or the model is older than
 *   {@linkcode MIN_RAISABLE_OPSET}.
 * @throws {UnsupportedOpError} Listing every node that cannot be converted (unknown operators,
 *   operators newer than the model's opset, and the unsupported cases of the module table).
 * @example
 * ```ts
 * import { decodeModel, raiseOpset } from "@modelpress/onnx";
 * const model = decodeModel(await Deno.readFile("old.onnx"));
 * const { converted } = raiseOpset(model, 13);
 * ```
 */
export function raiseOpset(
  model: ModelProto,
  version: number,
  options: RaiseOpsetOptions = {},
): RaiseOpsetReport {
  const from = opsetVersion(model, "");
  if (from === undefined) {
    throw new RangeError("Cannot raise the opset: the model imports no default-domain opset");
  }
  if (!Number.isInteger(version) || version < from) {
    throw new RangeError(
      `Cannot raise the opset from ${from} to ${version}: only raising to a higher version is supported`,
    );
  }
  if (version > LATEST_KNOWN_OPSET) {
    throw new RangeError(
      `Cannot raise the opset to ${version}: the operator catalog describes opsets up to ${LATEST_KNOWN_OPSET}`,
    );
  }
  if (from < MIN_RAISABLE_OPSET) {
    throw new RangeError(
      `Cannot raise the opset from ${from}: models below opset ${MIN_RAISABLE_OPSET} are not supported`,
    );
  }
  const names = new UniqueNames(model);
  const failures: UnsupportedNode[] = [];
  const plans: GraphPlan[] = [];
  const scopes = new Map<GraphEntry, Scope>();
  for (const entry of walkGraphs(model)) {
    const fn = rootFunction(entry);
    const start = fn === undefined ? from : opsetVersion(fn, "");
    const parentScope = entry.parent === undefined ? undefined : scopes.get(entry.parent.entry);
    const scope = new Scope(entry, parentScope, version);
    scopes.set(entry, scope);
    if (start === undefined) continue;
    if (start > version) {
      throw new RangeError(
        `Cannot raise the opset to ${version}: ${entry.path} imports the default domain at ${start}`,
      );
    }
    const plan: GraphPlan = { entry, nodes: new Map(), initializers: [] };
    for (const node of entry.nodes) {
      if (!isDefaultDomain(node.domain)) continue;
      const result = planNode(node, { start, to: version, scope, names, plan });
      if (typeof result === "string") {
        failures.push({
          nodeName: node.name,
          opType: node.opType,
          domain: node.domain,
          graph: entry.path,
          reason: result,
        });
      } else if (result !== undefined) {
        plan.nodes.set(node, result);
      }
    }
    plans.push(plan);
  }
  if (failures.length > 0) {
    throw new UnsupportedOpError(`raise the opset to ${version}`, failures);
  }
  let converted = 0;
  let added = 0;
  for (const { entry, nodes, initializers } of plans) {
    if (nodes.size === 0 && initializers.length === 0) continue;
    const list = entry.nodes;
    const result: NodeProto[] = [];
    for (const node of list) {
      const change = nodes.get(node);
      if (change === undefined) {
        result.push(node);
        continue;
      }
      node.opType = change.node.opType;
      node.input = change.node.input;
      node.output = change.node.output;
      node.attribute = change.node.attribute;
      result.push(...change.before, node, ...change.after);
      converted += 1;
      added += change.before.length + change.after.length;
    }
    list.length = 0;
    for (const node of result) list.push(node);
    for (const tensor of initializers) entry.graph?.initializer.push(tensor);
  }
  for (const entry of model.opsetImport) {
    if (isDefaultDomain(entry.domain)) entry.version = BigInt(version);
  }
  for (const fn of model.functions) {
    for (const entry of fn.opsetImport) {
      if (isDefaultDomain(entry.domain)) entry.version = BigInt(version);
    }
  }
  if (options.updateIrVersion ?? true) {
    const ir = BigInt(minIrVersion(version));
    if (model.irVersion < ir) model.irVersion = ir;
  }
  return { from, to: version, converted, added };
}

/**
 * The lowest IR version that goes with a default-domain opset (from ONNX's release table in
 * `docs/Versioning.md`).
 *
 * @param opset A default-domain opset.
 * @returns The IR version of the ONNX release that introduced the opset.
 * @example
 * ```ts
 * import { minIrVersion } from "@modelpress/onnx";
 * minIrVersion(13); // 7
 * ```
 */
export function minIrVersion(opset: number): number {
  let ir = 3;
  for (const [since, version] of IR_VERSIONS) if (opset >= since) ir = version;
  return ir;
}

/** [first opset, IR version] of the ONNX releases that raised the IR version. */
const IR_VERSIONS: readonly (readonly [number, number])[] = [
  [9, 4], // ONNX 1.4
  [10, 5], // 1.5
  [11, 6], // 1.6
  [12, 7], // 1.7
  [15, 8], // 1.10
  [19, 9], // 1.14
  [21, 10], // 1.16
  [23, 11], // 1.18
];

// ---------------------------------------------------------------------------------------------
// Planning

interface GraphPlan {
  readonly entry: GraphEntry;
  readonly nodes: Map<NodeProto, NodeChange>;
  readonly initializers: TensorProto[];
}

interface NodeChange {
  readonly node: NodeProto;
  readonly before: NodeProto[];
  readonly after: NodeProto[];
}

interface PlanContext {
  readonly start: number;
  readonly to: number;
  readonly scope: Scope;
  readonly names: UniqueNames;
  readonly plan: GraphPlan;
}

/** Thrown by a converter to say why a node cannot be converted. */
class Unconvertible extends Error {}

/**
 * Converts one node step by step on a copy. Returns the change, `undefined` when nothing changes,
 * or the reason it cannot be converted.
 */
function planNode(node: NodeProto, ctx: PlanContext): NodeChange | string | undefined {
  const versions = SINCE_VERSIONS.get(node.opType);
  if (versions === undefined) {
    return `'${node.opType}' is not an operator of the default ONNX domain (known up to opset ${LATEST_KNOWN_OPSET})`;
  }
  const introduced = versions[0] ?? 1;
  if (introduced > ctx.start) {
    return `'${node.opType}' does not exist in opset ${ctx.start} (it was introduced in opset ${introduced})`;
  }
  let conversion: Conversion | undefined;
  const step = (v: number): string | undefined => {
    const key = `${conversion?.node.opType ?? node.opType}@${v}`;
    const refusal = REFUSALS.get(key);
    if (refusal !== undefined) return refusal;
    const converter = CONVERTERS.get(key);
    if (converter === undefined) return undefined;
    conversion ??= new Conversion(clone(NodeProtoSchema, node), ctx);
    try {
      converter(conversion, v);
    } catch (e) {
      if (e instanceof Unconvertible) return e.message;
      throw e;
    }
    return undefined;
  };
  // A deprecated operator is replaced even when the model's opset already deprecates it.
  const deprecated = DEPRECATED_SINCE.get(node.opType);
  if (deprecated !== undefined && deprecated <= ctx.start && ctx.to > ctx.start) {
    const failure = step(deprecated);
    if (failure !== undefined) return failure;
  }
  for (let v = ctx.start + 1; v <= ctx.to; v++) {
    const op = conversion?.node.opType ?? node.opType;
    if (!(SINCE_VERSIONS.get(op) ?? []).includes(v)) continue;
    const failure = step(v);
    if (failure !== undefined) return failure;
  }
  if (conversion === undefined) return undefined;
  return { node: conversion.node, before: conversion.before, after: conversion.after };
}

/** What lazily-computed facts about a graph (or function body) the converters need. */
class Scope {
  readonly entry: GraphEntry;
  readonly parent: Scope | undefined;
  readonly target: number;
  #index: GraphIndex | undefined;
  #types: Map<string, TensorType> | undefined;
  #used: Set<string> | undefined;
  #constants: Map<string, TensorProto> | undefined;

  constructor(entry: GraphEntry, parent: Scope | undefined, target: number) {
    this.entry = entry;
    this.parent = parent;
    this.target = target;
  }

  get inFunction(): boolean {
    return this.entry.graph === undefined || (this.parent?.inFunction ?? false);
  }

  /** Whether anything reads the value (a node, a subgraph, or the graph's outputs). */
  isUsed(value: string): boolean {
    const index = this.#graphIndex();
    if (index !== undefined) return index.isUsed(value);
    if (this.#used === undefined) {
      const used = new Set<string>(this.entry.function?.output ?? []);
      for (const node of this.entry.nodes) {
        for (const name of node.input) used.add(name);
        for (const { graph } of nodeSubgraphs(node)) {
          for (const name of outerScopeNames(graph)) used.add(name);
        }
      }
      this.#used = used;
    }
    return this.#used.has(value);
  }

  /** The type of a value, from shape inference over the graph (empty in function bodies). */
  typeOf(value: string): TensorType | undefined {
    return this.#allTypes().get(value);
  }

  /** A constant tensor (initializer or Constant node, here or in an enclosing graph). */
  constant(value: string): TensorProto | undefined {
    const index = this.#graphIndex();
    if (index !== undefined) return index.constantTensor(value);
    if (this.#constants === undefined) {
      this.#constants = new Map();
      for (const node of this.entry.nodes) {
        if (node.opType !== "Constant" || !isDefaultDomain(node.domain)) continue;
        const tensor = constantNodeTensor(node);
        if (tensor !== undefined && node.output[0]) this.#constants.set(node.output[0], tensor);
      }
    }
    return this.#constants.get(value) ?? this.parent?.constant(value);
  }

  #graphIndex(): GraphIndex | undefined {
    const graph = this.entry.graph;
    if (graph === undefined) return undefined;
    const parent = this.parent === undefined ? undefined : this.parent.#graphIndex();
    this.#index ??= new GraphIndex(graph, { parent });
    return this.#index;
  }

  #allTypes(): Map<string, TensorType> {
    if (this.#types !== undefined) return this.#types;
    const outer = this.parent === undefined ? undefined : this.parent.#allTypes();
    const graph = this.entry.graph;
    let own = new Map<string, TensorType>();
    if (graph !== undefined) {
      try {
        own = inferShapes(graph, outer === undefined ? {} : { outer });
      } catch {
        // An inconsistent graph gives no type facts; converters that need them say so.
      }
    }
    this.#types = outer === undefined ? own : new Map([...outer, ...own]);
    return this.#types;
  }
}

/** A node being converted: a working copy, plus the nodes and constants it needs around it. */
class Conversion {
  readonly node: NodeProto;
  readonly before: NodeProto[] = [];
  readonly after: NodeProto[] = [];
  readonly #ctx: PlanContext;
  /** Constants this conversion made (later steps may read them, e.g. Upsample's scales). */
  readonly #made = new Map<string, TensorProto>();

  constructor(node: NodeProto, ctx: PlanContext) {
    this.node = node;
    this.#ctx = ctx;
  }

  get scope(): Scope {
    return this.#ctx.scope;
  }

  get target(): number {
    return this.#ctx.to;
  }

  get label(): string {
    return this.node.name !== "" ? this.node.name : this.node.output[0] ?? this.node.opType;
  }

  /** An attribute, refusing references to function attributes (they cannot become inputs). */
  attr(name: string): AttributeProto | undefined {
    const a = this.node.attribute.find((x) => x.name === name);
    if (a !== undefined && a.refAttrName !== "") {
      throw new Unconvertible(
        `attribute '${name}' refers to function attribute '${a.refAttrName}' and cannot be converted`,
      );
    }
    return a;
  }

  removeAttr(name: string): void {
    this.node.attribute = this.node.attribute.filter((a) => a.name !== name);
  }

  setAttr(attribute: AttributeProto): void {
    this.removeAttr(attribute.name);
    this.node.attribute.push(attribute);
  }

  /** Adds a constant (an initializer, or a Constant node in a function) and returns its name. */
  constant(base: string, data: Float32Array | BigInt64Array, dims: readonly number[]): string {
    return this.constantTensor(base, (name) => makeTensor(name, data, { dims }));
  }

  constantTensor(base: string, make: (name: string) => TensorProto): string {
    const name = this.#ctx.names.value(`${this.label}_${base}`);
    const tensor = make(name);
    this.#made.set(name, tensor);
    if (this.scope.inFunction) {
      this.before.push(
        makeNode("Constant", {
          name: this.#ctx.names.node(`${this.label}_${base}`),
          outputs: [name],
          attributes: { value: tensor },
        }),
      );
    } else {
      this.#ctx.plan.initializers.push(tensor);
    }
    return name;
  }

  /** A constant's value: one this conversion made, or one of the graph. */
  constantValue(name: string): TensorProto | undefined {
    return this.#made.get(name) ?? this.scope.constant(name);
  }

  newValue(base: string): string {
    return this.#ctx.names.value(`${this.label}_${base}`);
  }

  newNodeName(base: string): string {
    return this.#ctx.names.node(`${this.label}_${base}`);
  }

  /** Sets input `slot`, padding skipped optional inputs with "". */
  setInput(slot: number, value: string): void {
    while (this.node.input.length < slot) this.node.input.push("");
    this.node.input[slot] = value;
  }

  /**
   * A scalar constant of the element type of `like` (Clip bounds, Pad value). When that type is
   * unknown, a float constant cast with CastLike where the target opset has it (15+).
   */
  scalarLike(like: string, base: string, value: number): string {
    const elemType = this.scope.typeOf(like)?.elemType ?? TensorProto_DataType.UNDEFINED;
    const made = typedScalar(elemType, value);
    if (made !== undefined) {
      return this.constantTensor(
        base,
        (name) => makeTensor(name, made.data, { dims: [], dataType: made.type }),
      );
    }
    if (this.target < 15) {
      throw new Unconvertible(
        `the element type of '${like}' is unknown, so its ${base} cannot be made an input (CastLike needs opset 15)`,
      );
    }
    const raw = this.constant(`${base}_f32`, new Float32Array([value]), []);
    const cast = this.newValue(base);
    this.before.push(
      makeNode("CastLike", {
        name: this.newNodeName(`${base}_cast`),
        inputs: [raw, like],
        outputs: [cast],
      }),
    );
    return cast;
  }
}

function typedScalar(
  elemType: number,
  value: number,
): {
  data:
    | Float32Array
    | Float64Array
    | Uint16Array
    | Int32Array
    | BigInt64Array
    | Int8Array
    | Uint8Array
    | Int16Array
    | Uint32Array;
  type: TensorProto_DataType;
} | undefined {
  const T = TensorProto_DataType;
  const clampInt = (lo: number, hi: number): number =>
    Math.min(Math.max(Number.isFinite(value) ? Math.trunc(value) : value > 0 ? hi : lo, lo), hi);
  switch (elemType) {
    case T.FLOAT:
      return { data: new Float32Array([value]), type: T.FLOAT };
    case T.DOUBLE:
      return { data: new Float64Array([value]), type: T.DOUBLE };
    case T.FLOAT16:
      return { data: float32ToFloat16([value]), type: T.FLOAT16 };
    case T.BFLOAT16:
      return { data: float32ToBfloat16([value]), type: T.BFLOAT16 };
    case T.INT8:
      return { data: new Int8Array([clampInt(-128, 127)]), type: T.INT8 };
    case T.UINT8:
      return { data: new Uint8Array([clampInt(0, 255)]), type: T.UINT8 };
    case T.INT16:
      return { data: new Int16Array([clampInt(-32768, 32767)]), type: T.INT16 };
    case T.INT32:
      return { data: new Int32Array([clampInt(-2147483648, 2147483647)]), type: T.INT32 };
    case T.UINT32:
      return { data: new Uint32Array([clampInt(0, 4294967295)]), type: T.UINT32 };
    case T.INT64:
      return {
        data: new BigInt64Array([
          BigInt(clampInt(Number.MIN_SAFE_INTEGER, Number.MAX_SAFE_INTEGER)),
        ]),
        type: T.INT64,
      };
    default:
      return undefined;
  }
}

function rootFunction(entry: GraphEntry) {
  let e: GraphEntry = entry;
  while (e.parent !== undefined) e = e.parent.entry;
  return e.function;
}

// ---------------------------------------------------------------------------------------------
// Converters, keyed "<op>@<since version>": each turns a node valid before that version into one
// valid from it on.

type Converter = (c: Conversion, version: number) => void;

const REFUSALS = new Map<string, string>([
  ["Scan@9", "Scan-8's batch axis has no equivalent in Scan-9; convert the body by hand"],
  [
    "GroupNormalization@21",
    "scale and bias change from per-group to per-channel at opset 21; not converted",
  ],
]);

const CONVERTERS = new Map<string, Converter>();

/** Moves an INTS attribute to an int64 input at `slot`; absent attribute -> no input. */
function intsAttributeToInput(name: string, slot: number): Converter {
  return (c) => {
    const a = c.attr(name);
    if (a === undefined) return;
    c.removeAttr(name);
    c.setInput(slot, c.constant(name, BigInt64Array.from(a.ints), [a.ints.length]));
  };
}

for (const op of ["Squeeze", "Unsqueeze", "ReduceSum"]) {
  CONVERTERS.set(`${op}@13`, intsAttributeToInput("axes", 1));
}
for (
  const op of [
    "ReduceL1",
    "ReduceL2",
    "ReduceLogSum",
    "ReduceLogSumExp",
    "ReduceMax",
    "ReduceMean",
    "ReduceMin",
    "ReduceProd",
    "ReduceSumSquare",
  ]
) CONVERTERS.set(`${op}@18`, intsAttributeToInput("axes", 1));
CONVERTERS.set("Split@13", intsAttributeToInput("split", 1));
CONVERTERS.set("Split@18", (c) => {
  if ((c.node.input[1] ?? "") !== "" || c.attr("num_outputs") !== undefined) return;
  c.setAttr(makeAttribute("num_outputs", attrInt(c.node.output.length)));
});

CONVERTERS.set("Slice@10", (c) => {
  const starts = c.attr("starts");
  const ends = c.attr("ends");
  const axes = c.attr("axes");
  if (starts === undefined || ends === undefined) {
    throw new Unconvertible("it has no 'starts' or 'ends' attribute");
  }
  for (const name of ["starts", "ends", "axes"]) c.removeAttr(name);
  c.setInput(1, c.constant("starts", BigInt64Array.from(starts.ints), [starts.ints.length]));
  c.setInput(2, c.constant("ends", BigInt64Array.from(ends.ints), [ends.ints.length]));
  if (axes !== undefined) {
    c.setInput(3, c.constant("axes", BigInt64Array.from(axes.ints), [axes.ints.length]));
  }
});

CONVERTERS.set("TopK@10", (c) => {
  const k = c.attr("k");
  if (k === undefined) throw new Unconvertible("it has no 'k' attribute");
  c.removeAttr("k");
  c.setInput(1, c.constant("k", new BigInt64Array([k.i]), [1]));
});

CONVERTERS.set("Upsample@9", (c) => {
  const scales = c.attr("scales");
  if (scales === undefined) return; // already an input
  c.removeAttr("scales");
  c.setInput(1, c.constant("scales", Float32Array.from(scales.floats), [scales.floats.length]));
});
CONVERTERS.set("Upsample@10", (c) => {
  // Resize-10 has Upsample's inputs (X, scales) and `mode`, with the same meaning.
  c.node.opType = "Resize";
});
CONVERTERS.set("Scatter@11", (c) => {
  c.node.opType = "ScatterElements";
});

CONVERTERS.set("Resize@11", (c) => {
  const mode = stringValue(c.attr("mode")) ?? "nearest";
  const scalesName = c.node.input[1] ?? "";
  if (mode === "nearest") {
    const scales = scalesName === "" ? undefined : c.constantValue(scalesName);
    if (scales === undefined) {
      throw new Unconvertible(
        "nearest Resize-10 rounds down when upsampling and up when downsampling, which needs constant scales",
      );
    }
    const values = Array.from(tensorData(scales) as Float32Array);
    const up = values.every((s) => s >= 1);
    const down = values.every((s) => s <= 1);
    if (!up && !down) {
      throw new Unconvertible(
        "its scales both upsample and downsample, which Resize-11 cannot round alike",
      );
    }
    c.setAttr(makeAttribute("nearest_mode", up ? "floor" : "ceil"));
  }
  c.setAttr(makeAttribute("coordinate_transformation_mode", "asymmetric"));
  const roi = c.constant("roi", new Float32Array(0), [0]);
  c.node.input = [c.node.input[0] ?? "", roi, scalesName];
});
CONVERTERS.set("Resize@13", (c) => {
  if (stringValue(c.attr("coordinate_transformation_mode")) === "tf_half_pixel_for_nn") {
    throw new Unconvertible(
      "coordinate_transformation_mode 'tf_half_pixel_for_nn' was removed in opset 13",
    );
  }
  if ((c.node.input[3] ?? "") !== "") c.node.input[2] = "";
});

CONVERTERS.set("Clip@11", (c) => {
  const min = c.attr("min");
  const max = c.attr("max");
  c.removeAttr("min");
  c.removeAttr("max");
  const x = c.node.input[0] ?? "";
  if (min !== undefined) c.setInput(1, c.scalarLike(x, "min", min.f));
  if (max !== undefined) c.setInput(2, c.scalarLike(x, "max", max.f));
});

CONVERTERS.set("Pad@11", (c) => {
  const pads = c.attr("pads");
  if (pads === undefined) throw new Unconvertible("it has no 'pads' attribute");
  const value = c.attr("value");
  c.removeAttr("pads");
  c.removeAttr("value");
  c.setInput(1, c.constant("pads", BigInt64Array.from(pads.ints), [pads.ints.length]));
  if (value !== undefined && value.f !== 0) {
    c.setInput(2, c.scalarLike(c.node.input[0] ?? "", "value", value.f));
  }
});

CONVERTERS.set("Dropout@10", (c) => {
  const mask = c.node.output[1] ?? "";
  if (mask === "") return;
  if (c.scope.isUsed(mask)) {
    throw new Unconvertible(`its mask '${mask}' is read, and the mask becomes bool at opset 10`);
  }
  c.node.output = c.node.output.slice(0, 1);
});
CONVERTERS.set("Dropout@12", (c) => {
  const ratio = c.attr("ratio");
  if (ratio === undefined) return;
  c.removeAttr("ratio");
  c.setInput(1, c.constant("ratio", new Float32Array([ratio.f]), []));
});

CONVERTERS.set("BatchNormalization@9", (c) => {
  const spatial = c.attr("spatial");
  if (spatial !== undefined && spatial.i !== 1n) {
    throw new Unconvertible(
      "spatial=0 (per-activation statistics) has no equivalent from opset 9 on",
    );
  }
  c.removeAttr("spatial");
});
CONVERTERS.set("BatchNormalization@14", (c) => {
  const extra = c.node.output.slice(1).filter((v) => v !== "");
  const read = extra.find((v) => c.scope.isUsed(v));
  if (read !== undefined) {
    throw new Unconvertible(
      `its training output '${read}' is read; opset 14 changed the training outputs`,
    );
  }
  c.node.output = c.node.output.slice(0, 1);
});

for (const op of ["Softmax", "LogSoftmax", "Hardmax"]) {
  CONVERTERS.set(`${op}@13`, (c) => {
    const axis = Number(c.attr("axis")?.i ?? 1n);
    const x = c.node.input[0] ?? "";
    const y = c.node.output[0] ?? "";
    const rank = c.scope.typeOf(x)?.shape?.length;
    if (axis === -1 || (rank !== undefined && axis === rank - 1)) {
      c.setAttr(makeAttribute("axis", attrInt(-1)));
      return;
    }
    // Old semantics: coerce to 2-D at `axis` and normalize each row; do exactly that.
    const shape = c.newValue("shape");
    const flat = c.newValue("flat");
    const rows = c.newValue("2d");
    c.before.push(
      makeNode("Shape", { name: c.newNodeName("shape"), inputs: [x], outputs: [shape] }),
      makeNode("Flatten", {
        name: c.newNodeName("flatten"),
        inputs: [x],
        outputs: [flat],
        attributes: { axis: attrInt(axis) },
      }),
    );
    c.node.input[0] = flat;
    c.node.output[0] = rows;
    c.setAttr(makeAttribute("axis", attrInt(-1)));
    c.after.push(
      makeNode("Reshape", { name: c.newNodeName("reshape"), inputs: [rows, shape], outputs: [y] }),
    );
  });
}

CONVERTERS.set("RoiAlign@16", (c) => {
  if (c.attr("coordinate_transformation_mode") !== undefined) return;
  c.setAttr(makeAttribute("coordinate_transformation_mode", "output_half_pixel"));
});

CONVERTERS.set("GridSample@20", (c) => {
  const mode = stringValue(c.attr("mode"));
  if (mode === "bilinear") c.setAttr(makeAttribute("mode", "linear"));
  if (mode === "bicubic") c.setAttr(makeAttribute("mode", "cubic"));
});

CONVERTERS.set("DFT@20", (c) => {
  const axis = c.attr("axis");
  c.removeAttr("axis");
  c.setInput(2, c.constant("axis", new BigInt64Array([axis?.i ?? 1n]), []));
});

function stringValue(a: AttributeProto | undefined): string | undefined {
  return a === undefined ? undefined : new TextDecoder().decode(a.s);
}
