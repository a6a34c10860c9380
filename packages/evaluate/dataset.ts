/**
 * Evaluation datasets: named arrays whose first dimension is the sample, some of them fed to the
 * model's inputs and one of them holding the labels.
 *
 * {@link loadDataset} reads one from NumPy `.npz` bytes (an upload), `.npy` bytes (inputs only),
 * a JSON document ({@link JsonDataset}) or a built-in name (`"mnist"`, its test split by
 * default). Which arrays are inputs and which is the label array is settled at load time:
 * `options.labels` names the label array (default: the first of `labels`, `label`, `y` that the
 * dataset holds), `options.inputs` names the input arrays (default: every other array). When a
 * model is evaluated, input arrays are matched to model inputs by name; a dataset with one input
 * array and a model with one input are matched whatever their names.
 * @module
 */
import { decodeNpy } from "./npy.ts";
import { decodeNpz } from "./npz.ts";
import { loadMnist, MNIST_PIXELS, type MnistSplit } from "./mnist.ts";

/** Element types of dataset arrays (NumPy's names). */
export type DatasetDtype =
  | "bool"
  | "int8"
  | "uint8"
  | "int16"
  | "uint16"
  | "int32"
  | "uint32"
  | "int64"
  | "uint64"
  | "float16"
  | "float32"
  | "float64";

/** A typed array holding a dataset array's elements. */
export type NumericArray =
  | Float32Array
  | Float64Array
  | Int8Array
  | Uint8Array
  | Int16Array
  | Uint16Array
  | Int32Array
  | Uint32Array
  | BigInt64Array
  | BigUint64Array;

/**
 * An n-dimensional array in C (row-major) order.
 *
 * The array type follows `dtype`: `bool` is a Uint8Array of 0/1, `float16` is widened to a
 * Float32Array, `int64`/`uint64` are BigInt64Array/BigUint64Array, the others their namesake.
 */
export interface DatasetArray {
  /** The element type the data had in the file. */
  readonly dtype: DatasetDtype;
  /** The dims; `[]` for a scalar. */
  readonly shape: readonly number[];
  /** The elements, row-major, in host order (little-endian). */
  readonly data: NumericArray;
}

/** Preprocessing applied to floating-point input arrays batch by batch, at evaluation time. */
export interface DatasetPreprocess {
  /** Each value becomes `value * multiply + offset` (default 1). */
  readonly multiply?: number;
  /** See `multiply` (default 0). */
  readonly offset?: number;
  /**
   * The shape of one sample as the model wants it, such as `[1, 28, 28]` (default: the model
   * input's declared shape without its first dim, where every such dim is fixed, else the
   * array's own). The element count must match the array's per-sample count.
   */
  readonly sampleShape?: readonly number[];
}

/** A dataset ready for evaluation. Every array has `count` as its first dim. */
export interface Dataset {
  /** A name for reports: the built-in name, or what the caller gave in `options.name`. */
  readonly name: string;
  /** Number of samples. */
  readonly count: number;
  /** Arrays fed to the model, by name (see the module doc for the matching rule). */
  readonly inputs: Readonly<Record<string, DatasetArray>>;
  /**
   * Class labels: integer class indices of shape `[count]` (or `[count, 1]`), or one-hot /
   * probability rows of shape `[count, classes]` (the largest entry is the class).
   */
  readonly labels?: DatasetArray;
  /** Preprocessing of the input arrays (default none). */
  readonly preprocess?: DatasetPreprocess;
}

/** A JSON dataset array: nested arrays of numbers (shape from the nesting), or explicit. */
export type JsonDatasetArray =
  | readonly unknown[]
  | {
    readonly dtype?: DatasetDtype;
    readonly shape: readonly number[];
    readonly data: readonly (number | boolean)[];
  };

/**
 * A dataset as JSON: named arrays, each nested arrays (float32, or int32 for a label array) or
 * `{ dtype, shape, data }` with flat data; e.g. `{ "x": [[0, 1], [1, 0]], "labels": [1, 0] }`.
 */
export type JsonDataset = Readonly<Record<string, JsonDatasetArray>>;

/** Names of the built-in datasets. */
export type BuiltinDatasetName = "mnist";

/** What {@link loadDataset} reads. */
export type DatasetSource = Uint8Array | BuiltinDatasetName | JsonDataset;

/** Options of {@link loadDataset}. */
export interface LoadDatasetOptions {
  /**
   * Format of byte sources (default: sniffed: `PK\x03\x04` is NPZ, `\x93NUMPY` is NPY, text
   * starting with `{` is JSON).
   */
  readonly format?: "npz" | "npy" | "json";
  /** The dataset's name in reports (default: the built-in name, else the format). */
  readonly name?: string;
  /**
   * Input arrays: one array name, a list of them, or a mapping from model input name to array
   * name (default: every array but the labels; an NPY file is the single input `x`).
   */
  readonly inputs?: string | readonly string[] | Readonly<Record<string, string>>;
  /**
   * The label array's name, or `false` for none (default: the first of `labels`, `label`, `y`
   * present, else none).
   */
  readonly labels?: string | false;
  /** The split of a built-in dataset (default `"test"`). */
  readonly split?: MnistSplit;
  /** Preprocessing to record in the dataset (default none). */
  readonly preprocess?: DatasetPreprocess;
}

/**
 * Loads a dataset from NPZ/NPY/JSON bytes, a parsed JSON dataset, or a built-in name.
 *
 * @param source The bytes, the JSON value, or `"mnist"`.
 * @param options Format, name, which arrays are inputs and labels, split, preprocessing.
 * @returns The dataset.
 * @throws {SyntaxError} When the bytes are not a valid NPZ, NPY or JSON file.
 * @throws {TypeError} When a named array is missing, the built-in name is unknown, or an array
 * is not numeric.
 * @throws {RangeError} When arrays disagree on the sample count or a shape is invalid.
 * @example
 * ```ts
 * import { loadDataset } from "@modelpress/evaluate";
 * const mnist = await loadDataset("mnist"); // test split: 2,000 samples
 * const upload = await loadDataset(await Deno.readFile("data.npz"), { inputs: { input: "x" } });
 * ```
 */
export async function loadDataset(
  source: DatasetSource,
  options: LoadDatasetOptions = {},
): Promise<Dataset> {
  let arrays: Record<string, DatasetArray>;
  let defaultName: string;
  let defaultInputs: readonly string[] | undefined;
  if (source instanceof Uint8Array) {
    const format = options.format ?? sniffFormat(source);
    defaultName = format;
    if (format === "npz") {
      arrays = await decodeNpz(source);
    } else if (format === "npy") {
      arrays = { x: decodeNpy(source) };
      defaultInputs = ["x"];
    } else if (format === "json") {
      let parsed: unknown;
      try {
        parsed = JSON.parse(new TextDecoder().decode(source));
      } catch (e) {
        const reason = e instanceof Error ? e.message : String(e);
        throw new SyntaxError(`Cannot load dataset: not valid JSON: ${reason}`, { cause: e });
      }
      arrays = fromJson(parsed, options.labels);
    } else {
      throw new TypeError(
        `Cannot load dataset: format must be "npz", "npy" or "json", got ${JSON.stringify(format)}`,
      );
    }
  } else if (typeof source === "string") {
    if (source !== "mnist") {
      throw new TypeError(
        `Cannot load dataset: ${
          JSON.stringify(source)
        } is not a built-in dataset (built-in: mnist)`,
      );
    }
    const mnist = await loadMnist({ split: options.split ?? "test" });
    arrays = {
      images: { dtype: "float32", shape: [mnist.count, MNIST_PIXELS], data: mnist.images },
      labels: { dtype: "uint8", shape: [mnist.count], data: mnist.labels },
    };
    defaultName = "mnist";
  } else {
    arrays = fromJson(source, options.labels);
    defaultName = "json";
  }
  return assemble(arrays, {
    name: options.name ?? defaultName,
    defaultInputs,
    inputs: options.inputs,
    labels: options.labels,
    preprocess: options.preprocess,
  });
}

/**
 * Tells the format of dataset bytes from their first bytes.
 *
 * @param bytes The bytes.
 * @returns The format.
 */
function sniffFormat(bytes: Uint8Array): "npz" | "npy" | "json" {
  if (bytes[0] === 0x50 && bytes[1] === 0x4b && bytes[2] === 0x03 && bytes[3] === 0x04) {
    return "npz";
  }
  if (bytes[0] === 0x93 && bytes[1] === 0x4e && bytes[2] === 0x55) return "npy";
  const text = new TextDecoder().decode(bytes.subarray(0, 64)).trimStart().replace(/^\uFEFF/, "");
  if (text.startsWith("{")) return "json";
  throw new SyntaxError(
    "Cannot load dataset: the bytes are neither NPZ (PK\\x03\\x04), NPY (\\x93NUMPY) nor JSON",
  );
}

const LABEL_NAMES = ["labels", "label", "y"];

/** What {@link assemble} needs besides the arrays. */
interface AssembleOptions {
  readonly name: string;
  readonly defaultInputs: readonly string[] | undefined;
  readonly inputs: LoadDatasetOptions["inputs"];
  readonly labels: LoadDatasetOptions["labels"];
  readonly preprocess: DatasetPreprocess | undefined;
}

/**
 * Picks the input and label arrays and checks that they agree on the sample count.
 *
 * @param arrays Every array, by name.
 * @param options The name, role options and preprocessing.
 * @returns The dataset.
 */
function assemble(arrays: Record<string, DatasetArray>, options: AssembleOptions): Dataset {
  const names = Object.keys(arrays);
  const need = (name: string, what: string): DatasetArray => {
    if (!Object.hasOwn(arrays, name)) {
      throw new TypeError(
        `Cannot load dataset: ${what} '${name}' is not in the dataset (arrays: ${
          names.join(", ") || "none"
        })`,
      );
    }
    return arrays[name]!;
  };
  const labelName = options.labels === false
    ? undefined
    : options.labels ?? LABEL_NAMES.find((n) => Object.hasOwn(arrays, n));
  const labels = labelName === undefined ? undefined : need(labelName, "label array");
  const inputs: Record<string, DatasetArray> = Object.create(null);
  const spec = options.inputs;
  if (spec === undefined) {
    for (const n of options.defaultInputs ?? names.filter((n) => n !== labelName)) {
      inputs[n] = need(n, "input array");
    }
  } else if (typeof spec === "string") {
    inputs[spec] = need(spec, "input array");
  } else if (Array.isArray(spec)) {
    for (const n of spec as readonly string[]) inputs[n] = need(n, "input array");
  } else {
    for (const [modelInput, n] of Object.entries(spec as Readonly<Record<string, string>>)) {
      if (typeof n !== "string") {
        throw new TypeError(`Cannot load dataset: inputs.${modelInput} must be an array name`);
      }
      inputs[modelInput] = need(n, "input array");
    }
  }
  const inputNames = Object.keys(inputs);
  if (inputNames.length === 0) {
    throw new TypeError(
      `Cannot load dataset: it has no input arrays (arrays: ${names.join(", ") || "none"})`,
    );
  }
  const first = inputs[inputNames[0]!]!;
  if (first.shape.length === 0) {
    throw new RangeError(
      `Cannot load dataset: input array '${inputNames[0]}' is a scalar, not a batch of samples`,
    );
  }
  const count = first.shape[0]!;
  for (const [name, array] of [...Object.entries(inputs), ["labels", labels] as const]) {
    if (array === undefined) continue;
    if (array.shape.length === 0 || array.shape[0] !== count) {
      throw new RangeError(
        `Cannot load dataset: array '${name}' has shape [${array.shape.join(", ")}], ` +
          `its first dim should be the sample count ${count}`,
      );
    }
  }
  if (labels !== undefined && labels.shape.length > 2) {
    throw new RangeError(
      `Cannot load dataset: labels must be [count], [count, 1] or [count, classes], got [${
        labels.shape.join(", ")
      }]`,
    );
  }
  const preprocess = options.preprocess === undefined
    ? undefined
    : checkPreprocess(options.preprocess);
  return {
    name: options.name,
    count,
    inputs,
    ...(labels === undefined ? {} : { labels }),
    ...(preprocess === undefined ? {} : { preprocess }),
  };
}

/**
 * Checks and freezes preprocessing options.
 *
 * @param p The options.
 * @returns A frozen copy.
 */
function checkPreprocess(p: DatasetPreprocess): DatasetPreprocess {
  for (const key of ["multiply", "offset"] as const) {
    const v = p[key];
    if (v !== undefined && !(typeof v === "number" && Number.isFinite(v))) {
      throw new RangeError(
        `Cannot load dataset: preprocess.${key} must be a finite number, got ${v}`,
      );
    }
  }
  if (
    p.sampleShape !== undefined &&
    !(Array.isArray(p.sampleShape) && p.sampleShape.every((d) => Number.isInteger(d) && d > 0))
  ) {
    throw new RangeError(
      `Cannot load dataset: preprocess.sampleShape must be positive integers, got ${
        JSON.stringify(p.sampleShape)
      }`,
    );
  }
  return Object.freeze({
    ...p,
    ...(p.sampleShape === undefined ? {} : { sampleShape: Object.freeze([...p.sampleShape]) }),
  });
}

/**
 * Converts a JSON dataset to arrays.
 *
 * @param json The parsed JSON.
 * @param labels The label option (a label array of integers becomes int32).
 * @returns The arrays by name.
 */
function fromJson(json: unknown, labels: string | false | undefined): Record<string, DatasetArray> {
  if (typeof json !== "object" || json === null || Array.isArray(json)) {
    throw new TypeError("Cannot load dataset: a JSON dataset must be an object of named arrays");
  }
  const labelName = labels === false
    ? undefined
    : labels ?? LABEL_NAMES.find((n) => Object.hasOwn(json, n));
  const arrays: Record<string, DatasetArray> = Object.create(null);
  for (const [name, value] of Object.entries(json)) {
    arrays[name] = jsonArray(name, value, name === labelName);
  }
  return arrays;
}

/**
 * Converts one JSON array (nested, or `{ dtype, shape, data }`).
 *
 * @param name The array's name, for messages.
 * @param value The JSON value.
 * @param isLabel Whether it is the label array (nested integers become int32).
 * @returns The array.
 */
function jsonArray(name: string, value: unknown, isLabel: boolean): DatasetArray {
  let shape: number[];
  let flat: unknown[];
  let dtype: DatasetDtype | undefined;
  if (Array.isArray(value)) {
    shape = [];
    for (let level: unknown = value; Array.isArray(level); level = level[0]) {
      shape.push(level.length);
    }
    flat = value.flat(Infinity);
    if (flat.length !== shape.reduce((p, d) => p * d, 1) || !rectangular(value, shape, 0)) {
      throw new RangeError(`Cannot load dataset: JSON array '${name}' is not rectangular`);
    }
  } else if (typeof value === "object" && value !== null) {
    const v = value as { dtype?: unknown; shape?: unknown; data?: unknown };
    if (!Array.isArray(v.shape) || !v.shape.every((d) => Number.isInteger(d) && d >= 0)) {
      throw new TypeError(`Cannot load dataset: JSON array '${name}' needs a shape of integers`);
    }
    if (!Array.isArray(v.data)) {
      throw new TypeError(`Cannot load dataset: JSON array '${name}' needs a flat data array`);
    }
    if (
      v.dtype !== undefined &&
      !(typeof v.dtype === "string" && Object.hasOwn(CONSTRUCTORS, v.dtype))
    ) {
      throw new TypeError(
        `Cannot load dataset: JSON array '${name}' has unknown dtype ${JSON.stringify(v.dtype)}`,
      );
    }
    shape = v.shape as number[];
    flat = v.data;
    dtype = v.dtype as DatasetDtype | undefined;
    if (flat.length !== shape.reduce((p, d) => p * d, 1)) {
      throw new RangeError(
        `Cannot load dataset: JSON array '${name}' has ${flat.length} values, shape [${
          shape.join(", ")
        }] needs ${shape.reduce((p, d) => p * d, 1)}`,
      );
    }
  } else {
    throw new TypeError(`Cannot load dataset: JSON value '${name}' is not an array`);
  }
  const numbers = flat.map((x, i) => {
    if (typeof x === "boolean") return x ? 1 : 0;
    if (typeof x !== "number" || !Number.isFinite(x)) {
      throw new TypeError(
        `Cannot load dataset: value ${i} of JSON array '${name}' is ${
          JSON.stringify(x)
        }, not a number`,
      );
    }
    return x;
  });
  dtype ??= flat.length > 0 && flat.every((x) => typeof x === "boolean")
    ? "bool"
    : isLabel && numbers.every(Number.isInteger)
    ? "int32"
    : "float32";
  return { dtype, shape, data: toTyped(name, dtype, numbers) };
}

/**
 * Tells whether nested arrays have the given shape everywhere.
 *
 * @param value The nested arrays.
 * @param shape The shape.
 * @param depth The current depth.
 * @returns Whether every level has the right length.
 */
function rectangular(value: unknown, shape: readonly number[], depth: number): boolean {
  if (depth === shape.length) return !Array.isArray(value);
  return Array.isArray(value) && value.length === shape[depth] &&
    value.every((v) => rectangular(v, shape, depth + 1));
}

const CONSTRUCTORS: Readonly<Record<DatasetDtype, true>> = {
  bool: true,
  int8: true,
  uint8: true,
  int16: true,
  uint16: true,
  int32: true,
  uint32: true,
  int64: true,
  uint64: true,
  float16: true,
  float32: true,
  float64: true,
};

/**
 * Stores numbers in the dtype's typed array (float16 as float32, see {@link DatasetArray}).
 *
 * @param name The array's name, for messages.
 * @param dtype The element type.
 * @param values The numbers.
 * @returns The typed array.
 */
function toTyped(name: string, dtype: DatasetDtype, values: readonly number[]): NumericArray {
  if (dtype === "int64" || dtype === "uint64") {
    const big = values.map((v, i) => {
      if (!Number.isInteger(v)) {
        throw new RangeError(
          `Cannot load dataset: value ${i} of '${name}' (${v}) is not an integer`,
        );
      }
      return BigInt(v);
    });
    return dtype === "int64" ? BigInt64Array.from(big) : BigUint64Array.from(big);
  }
  switch (dtype) {
    case "bool":
      return Uint8Array.from(values, (v) => (v !== 0 ? 1 : 0));
    case "int8":
      return Int8Array.from(values);
    case "uint8":
      return Uint8Array.from(values);
    case "int16":
      return Int16Array.from(values);
    case "uint16":
      return Uint16Array.from(values);
    case "int32":
      return Int32Array.from(values);
    case "uint32":
      return Uint32Array.from(values);
    case "float64":
      return Float64Array.from(values);
    default:
      return Float32Array.from(values);
  }
}
