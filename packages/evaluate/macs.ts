/**
 * Multiply-accumulate counts (MACs) of a graph's Gemm, MatMul and Conv nodes at given input
 * shapes, from `inferShapes` of `@modelpress/onnx`.
 *
 * - MatMul: `batch · M · K · N` for `[..., M, K] × [..., K, N]` (1-D operands as NumPy does);
 * - Gemm: `M · K · N` (the bias add and alpha/beta scaling are not counted);
 * - Conv: `N · C_out · Π(output spatial) · (C_in / group) · Π(kernel)` (grouped and depthwise
 *   convolutions included; the bias is not counted).
 * Nodes of other operators count 0; a node whose shapes are not known is listed in `unknown`.
 * @module
 */
import {
  type GraphProto,
  inferShapes,
  isDefaultDomain,
  TensorProto_DataType,
  tensorTypeOfType,
  toValueInfo,
} from "@modelpress/onnx";

/** MACs of one node. */
export interface NodeMacs {
  /** The node's name (or its first output's name when unnamed). */
  readonly node: string;
  /** Its operator. */
  readonly opType: string;
  /** Its MACs. */
  readonly macs: number;
}

/** MACs of a graph. */
export interface MacReport {
  /** Total MACs of the counted nodes. */
  readonly total: number;
  /** The shapes the graph inputs were given (symbolic dims resolved). */
  readonly inputShapes: Readonly<Record<string, readonly number[]>>;
  /** Every Gemm, MatMul and Conv node with a known count, in graph order. */
  readonly nodes: readonly NodeMacs[];
  /** Gemm, MatMul and Conv nodes whose shapes could not be inferred (their MACs are missing). */
  readonly unknown: readonly string[];
}

/** Options of {@link countMacs}. */
export interface CountMacsOptions {
  /** Concrete shapes of graph inputs, by name (default: the declared shapes). */
  readonly inputShapes?: Readonly<Record<string, readonly number[]>>;
  /** Size given to every symbolic or unknown input dim not fixed by `inputShapes` (default 1). */
  readonly batchSize?: number;
}

/**
 * Resolves a declared shape to concrete dims.
 *
 * @param shape The declared dims (undefined when the rank is unknown).
 * @param fill The size for symbolic or unknown dims.
 * @returns The concrete dims, or undefined when the rank is unknown.
 */
function resolveShape(
  shape: readonly (number | string | null)[] | undefined,
  fill: number,
): number[] | undefined {
  return shape?.map((d) => (typeof d === "number" && d >= 0 ? d : fill));
}

/**
 * The dims of a shape when every one is known.
 *
 * @param shape The inferred shape.
 * @returns The dims, or undefined.
 */
function known(shape: readonly (number | string | null)[] | undefined): number[] | undefined {
  if (shape === undefined) return undefined;
  const dims: number[] = [];
  for (const d of shape) {
    if (typeof d !== "number") return undefined;
    dims.push(d);
  }
  return dims;
}

/**
 * The product of dims.
 *
 * @param dims The dims.
 * @returns Their product.
 */
function product(dims: readonly number[]): number {
  return dims.reduce((p, d) => p * d, 1);
}

/**
 * Counts the MACs of a graph's Gemm, MatMul and Conv nodes (see the module doc for the rules).
 *
 * @param graph The graph.
 * @param options Input shapes by name, and the size of dims left symbolic.
 * @returns The total, the per-node counts and the nodes that could not be counted.
 * @throws {RangeError} When a given shape's rank contradicts the declared one, `batchSize` is
 * not a positive integer, or inference finds contradicting shapes.
 * @throws {TypeError} When `inputShapes` names something that is not a graph input.
 * @example
 * ```ts
 * import { decodeModel } from "@modelpress/onnx";
 * import { countMacs } from "@modelpress/evaluate";
 * const model = decodeModel(await Deno.readFile("test/fixtures/mnist_mlp.onnx"));
 * countMacs(model.graph!).total; // 784*256 + 256*128 + 128*10 = 234752
 * ```
 */
export function countMacs(graph: GraphProto, options: CountMacsOptions = {}): MacReport {
  const fill = options.batchSize ?? 1;
  if (!Number.isInteger(fill) || fill < 1) {
    throw new RangeError(`Cannot count MACs: batchSize must be a positive integer, got ${fill}`);
  }
  const given = options.inputShapes ?? {};
  const initializers = new Set(graph.initializer.map((t) => t.name));
  const graphInputs = graph.input.filter((v) => !initializers.has(v.name));
  for (const name of Object.keys(given)) {
    if (!graphInputs.some((v) => v.name === name)) {
      throw new TypeError(`Cannot count MACs: '${name}' is not an input of the graph`);
    }
  }
  const inputShapes: Record<string, readonly number[]> = {};
  const input = graph.input.map((v) => {
    if (initializers.has(v.name)) return v;
    const declared = v.type === undefined ? undefined : tensorTypeOfType(v.type);
    const shape = given[v.name] ?? resolveShape(declared?.shape, fill);
    if (shape === undefined) return v;
    if (declared?.shape !== undefined && declared.shape.length !== shape.length) {
      throw new RangeError(
        `Cannot count MACs: input '${v.name}' has rank ${declared.shape.length}, ` +
          `inputShapes gives [${shape.join(", ")}]`,
      );
    }
    inputShapes[v.name] = [...shape];
    return toValueInfo(v.name, {
      elemType: declared?.elemType ?? TensorProto_DataType.FLOAT,
      shape: [...shape],
    });
  });
  const types = inferShapes({ ...graph, input });
  const shapeOf = (name: string | undefined): number[] | undefined =>
    name === undefined ? undefined : known(types.get(name)?.shape);
  const nodes: NodeMacs[] = [];
  const unknown: string[] = [];
  for (const node of graph.node) {
    if (!COUNTED.has(node.opType) || !isDefaultDomain(node.domain)) continue;
    const name = node.name !== "" ? node.name : node.output[0] ?? "";
    const a = shapeOf(node.input[0]);
    const b = shapeOf(node.input[1]);
    const y = shapeOf(node.output[0]);
    let macs: number | undefined;
    if (a !== undefined && b !== undefined && y !== undefined) {
      if (node.opType === "Conv") {
        // Y [N, C_out, spatial...] x W [C_out, C_in / group, kernel...].
        macs = product(y) * product(b.slice(1));
      } else if (node.opType === "Gemm") {
        const transA = node.attribute.find((t) => t.name === "transA")?.i ?? 0n;
        const k = transA !== 0n ? a[0] : a[1];
        macs = k === undefined ? undefined : product(y) * k;
      } else {
        const k = a[a.length - 1];
        macs = k === undefined ? undefined : product(y) * k;
      }
    }
    if (macs === undefined) unknown.push(name);
    else nodes.push({ node: name, opType: node.opType, macs });
  }
  return {
    total: nodes.reduce((s, n) => s + n.macs, 0),
    inputShapes,
    nodes,
    unknown,
  };
}

const COUNTED: ReadonlySet<string> = new Set(["Gemm", "MatMul", "Conv"]);
