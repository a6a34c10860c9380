/**
 * The quantization recipe: plain data (JSON-friendly), validated with clear errors.
 * @module
 */
import type { RangeMethod } from "./weight_range.ts";
import type { CalibrationMethod } from "./calibration_range.ts";

/**
 * `linear`: weights stored as integers and dequantized (QDQ); `dynamic`: integer kernels;
 * `static`: weights as `linear`, and activations quantized and dequantized (QDQ) over ranges
 * calibrated on data; `log`: weights as signed powers of two (see `logCodebook`); `kmeans`:
 * weights as indices into fitted centroids (see `kmeansCodebook`). `log` and `kmeans` store codes
 * and a codebook, rebuilt by Cast and Gather.
 */
export type QuantizeMethod = "linear" | "dynamic" | "static" | "log" | "kmeans";

/** How `static` quantization calibrates activation ranges. */
export interface CalibrationRecipe {
  /** How a range is chosen from the statistics (see `calibrationRange`). */
  readonly method: CalibrationMethod;
  /** For `percentile`: the share of values kept, in 50..100. Default 99.999. */
  readonly percentile?: number;
  /** Histogram bins per tensor, an integer 128..65536. Default 2048. */
  readonly bins?: number;
  /** Calibration samples, spread over the dataset. Default 500. */
  readonly samples?: number;
  /** Activation codes: `uint8` asymmetric or `int8` symmetric. Default `uint8`. */
  readonly activations?: "uint8" | "int8";
}

/** One range per tensor, per output channel, or per block along the input channels. */
export type Granularity = "tensor" | "channel" | "block";

/**
 * How blocked `linear` weights of MatMul and Gemm are written: `dequantizelinear` (INT4/UINT4
 * or 8-bit codes and an opset-21 blocked DequantizeLinear before the float MatMul) or
 * `matmulnbits` (ONNX Runtime's com.microsoft MatMulNBits: 2, 4 or 8 bits, power-of-two block
 * sizes from 16). Other operators' weights always use DequantizeLinear.
 */
export type WeightFormat = "matmulnbits" | "dequantizelinear";

/**
 * The default {@linkcode WeightFormat}: `matmulnbits`, the faster of the two in onnxruntime-web
 * 1.30 (wasm, one thread, 4-bit block 32; bench/int4_format_bench.ts, bench/README.md): 1.6x on
 * the MNIST MLP at batch 1, 1.2-1.3x at batch 32, and never slower; same accuracy. Where a node
 * or a setting has no MatMulNBits form, the default falls back to DequantizeLinear.
 */
export const DEFAULT_WEIGHT_FORMAT: WeightFormat = "matmulnbits";

/** Settings that a recipe gives for every node and an override for some. */
export interface QuantizeSettings {
  /** The method. */
  readonly method?: QuantizeMethod;
  /** Bits per weight code: 2..8 or 16 (`dynamic`: 8; `log`: 3..8; `kmeans`: 2..8). Default 8. */
  readonly bits?: number;
  /** Signed weight codes. Default true. */
  readonly signed?: boolean;
  /** Symmetric weight ranges (zero point 0, or 2^(b-1) unsigned). Default true. */
  readonly symmetric?: boolean;
  /** Default `channel`. */
  readonly granularity?: Granularity;
  /** Block length for `block` granularity, an integer >= 2. Default 32. */
  readonly blockSize?: number;
  /** How weight ranges are chosen. Default `{ method: "minmax" }`. */
  readonly range?: RangeMethod;
  /** How blocked linear MatMul/Gemm weights are written. Default {@linkcode DEFAULT_WEIGHT_FORMAT}. */
  readonly format?: WeightFormat;
}

/** Which nodes an override applies to: every field given must match. */
export interface NodeMatch {
  /** The node's exact name. */
  readonly name?: string;
  /** A regular expression (source text) searched in the node's name. */
  readonly pattern?: string;
  /** The node's operator type, such as `Conv`. */
  readonly opType?: string;
}

/** Settings for the nodes that match, or `skip` to leave them as they are. */
export interface NodeOverride extends QuantizeSettings {
  /** Which nodes. */
  readonly match: NodeMatch;
  /** Leave these nodes unquantized. */
  readonly skip?: boolean;
}

/** A recipe: settings for all nodes, then overrides in order (later ones win). */
export interface QuantizeRecipe extends QuantizeSettings {
  /** The method for nodes no override changes. */
  readonly method: QuantizeMethod;
  /** Per-node overrides. */
  readonly overrides?: readonly NodeOverride[];
  /** Calibration of activations; required when a node's method is `static`, refused otherwise. */
  readonly calibration?: CalibrationRecipe;
}

const MINMAX: RangeMethod = Object.freeze({ method: "minmax" });
const SETTING_KEYS = [
  "method",
  "bits",
  "signed",
  "symmetric",
  "granularity",
  "blockSize",
  "range",
  "format",
];
const RANGE_KEYS: Readonly<Record<string, readonly string[]>> = {
  minmax: ["method"],
  percentile: ["method", "percentile"],
  mse: ["method", "steps", "minRatio"],
  std: ["method", "k"],
};

/**
 * Checks a recipe (for example parsed from JSON) and returns a frozen copy.
 *
 * @param recipe The candidate.
 * @returns The recipe, deeply frozen.
 * @throws {TypeError} When a field has the wrong type or is unknown.
 * @throws {RangeError} When a value is out of range, or a combination is not supported.
 * @example
 * ```ts
 * import { validateRecipe } from "@modelpress/quantize";
 * const recipe = validateRecipe(JSON.parse('{"method":"linear","bits":4,"granularity":"block"}'));
 * ```
 */
export function validateRecipe(recipe: unknown): QuantizeRecipe {
  const r = object(recipe, "recipe");
  known(r, [...SETTING_KEYS, "overrides", "calibration"], "recipe");
  if (r.method === undefined) throw new TypeError("Cannot use recipe: method is required");
  const settings = checkSettings(r, "recipe");
  const overrides: NodeOverride[] = [];
  if (r.overrides !== undefined) {
    if (!Array.isArray(r.overrides)) {
      throw new TypeError("Cannot use recipe: overrides must be an array");
    }
    for (const [i, item] of (r.overrides as unknown[]).entries()) {
      const where = `overrides[${i}]`;
      const o = object(item, where);
      known(o, [...SETTING_KEYS, "match", "skip"], where);
      const m = object(o.match, `${where}.match`);
      known(m, ["name", "pattern", "opType"], `${where}.match`);
      const match: Record<string, string> = {};
      for (const key of ["name", "pattern", "opType"]) {
        if (m[key] === undefined) continue;
        if (typeof m[key] !== "string") {
          throw new TypeError(`Cannot use recipe: ${where}.match.${key} must be a string`);
        }
        match[key] = m[key];
      }
      if (Object.keys(match).length === 0) {
        throw new TypeError(`Cannot use recipe: ${where}.match needs name, pattern or opType`);
      }
      if (match.pattern !== undefined) {
        try {
          new RegExp(match.pattern);
        } catch (e) {
          throw new SyntaxError(
            `Cannot use recipe: ${where}.match.pattern is not a regular expression: ${
              (e as Error).message
            }`,
          );
        }
      }
      if (o.skip !== undefined && typeof o.skip !== "boolean") {
        throw new TypeError(`Cannot use recipe: ${where}.skip must be a boolean`);
      }
      const own = checkSettings(o, where);
      overrides.push(
        Object.freeze({
          ...own,
          match: Object.freeze(match),
          ...(o.skip === undefined ? {} : { skip: o.skip }),
        }),
      );
    }
  }
  const calibration = r.calibration === undefined
    ? undefined
    : checkCalibration(r.calibration, "recipe.calibration");
  const out: QuantizeRecipe = {
    ...settings,
    method: settings.method!,
    ...(r.overrides === undefined ? {} : { overrides: Object.freeze(overrides) }),
    ...(calibration === undefined ? {} : { calibration }),
  };
  const usesStatic = out.method === "static" ||
    overrides.some((o) => o.skip !== true && o.method === "static");
  if (usesStatic && calibration === undefined) {
    throw new TypeError("Cannot use recipe: method 'static' needs recipe.calibration");
  }
  if (!usesStatic && calibration !== undefined) {
    throw new RangeError("Cannot use recipe: calibration is only used by method 'static'");
  }
  // Every combination a node can end up with must be valid: check the base, then each override
  // layered on it.
  checkCombination(resolveSettings(out, []), "recipe", out.format !== undefined);
  for (const [i, o] of overrides.entries()) {
    if (o.skip !== true) {
      checkCombination(resolveSettings(out, [o]), `overrides[${i}]`, o.format !== undefined);
    }
  }
  return Object.freeze(out);
}

/** Every setting, resolved for one node. */
export interface NodeSettings {
  /** The method. */
  readonly method: QuantizeMethod;
  /** Bits per weight code. */
  readonly bits: number;
  /** Signed codes. */
  readonly signed: boolean;
  /** Symmetric ranges. */
  readonly symmetric: boolean;
  /** Granularity. */
  readonly granularity: Granularity;
  /** Block length (used by `block`). */
  readonly blockSize: number;
  /** Range method. */
  readonly range: RangeMethod;
  /** How blocked linear MatMul/Gemm weights are written. */
  readonly format: WeightFormat;
}

/**
 * Layers overrides on a recipe's settings and fills in the defaults.
 *
 * @param recipe A validated recipe.
 * @param overrides The overrides that apply, in order.
 * @returns The settings.
 * @example
 * ```ts
 * import { resolveSettings } from "@modelpress/quantize";
 * resolveSettings({ method: "linear" }, [{ match: { opType: "Conv" }, bits: 4 }]).bits; // 4
 * ```
 */
export function resolveSettings(
  recipe: QuantizeRecipe,
  overrides: readonly NodeOverride[],
): NodeSettings {
  const merged: Record<string, unknown> = {};
  for (const layer of [recipe, ...overrides]) {
    for (const key of SETTING_KEYS) {
      const value = (layer as unknown as Record<string, unknown>)[key];
      if (value !== undefined) merged[key] = value;
    }
  }
  return Object.freeze({
    method: merged.method as QuantizeMethod,
    bits: (merged.bits as number | undefined) ?? 8,
    signed: (merged.signed as boolean | undefined) ?? true,
    symmetric: (merged.symmetric as boolean | undefined) ?? true,
    granularity: (merged.granularity as Granularity | undefined) ?? "channel",
    blockSize: (merged.blockSize as number | undefined) ?? 32,
    range: (merged.range as RangeMethod | undefined) ?? MINMAX,
    format: (merged.format as WeightFormat | undefined) ?? DEFAULT_WEIGHT_FORMAT,
  });
}

function checkCombination(s: NodeSettings, where: string, explicitFormat: boolean): void {
  if (explicitFormat && s.format === "matmulnbits") checkMatMulNBits(s, where);
  if (s.method === "log" || s.method === "kmeans") return checkCodebook(s, where);
  if (s.method === "static" && s.granularity === "block") {
    throw new RangeError(
      `Cannot use recipe: ${where}: static quantization supports tensor or channel granularity, not block`,
    );
  }
  if (s.method !== "dynamic") return;
  if (s.bits !== 8) {
    throw new RangeError(
      `Cannot use recipe: ${where}: dynamic quantization needs 8 bits, got ${s.bits}`,
    );
  }
  if (s.granularity === "block") {
    throw new RangeError(
      `Cannot use recipe: ${where}: dynamic quantization supports tensor or channel granularity, not block`,
    );
  }
  if (!s.symmetric && s.granularity !== "tensor") {
    throw new RangeError(
      `Cannot use recipe: ${where}: dynamic quantization with asymmetric weights needs tensor ` +
        "granularity (integer kernels take one weight zero point)",
    );
  }
}

/** `log` and `kmeans`: their own bit ranges, per tensor or per channel, no range method. */
function checkCodebook(s: NodeSettings, where: string): void {
  const [lo, what] = s.method === "log" ? [3, "log"] : [2, "k-means"];
  if (!(s.bits >= lo && s.bits <= 8)) {
    throw new RangeError(
      `Cannot use recipe: ${where}: ${what} quantization needs ${lo}..8 bits, got ${s.bits}`,
    );
  }
  if (s.granularity === "block") {
    throw new RangeError(
      `Cannot use recipe: ${where}: ${what} quantization supports tensor or channel granularity, not block`,
    );
  }
  if (s.method === "log" && !(s.signed && s.symmetric)) {
    throw new RangeError(
      `Cannot use recipe: ${where}: log quantization is signed and symmetric (a sign bit and ` +
        "magnitudes), so signed and symmetric cannot be false",
    );
  }
  if (s.range.method !== "minmax") {
    throw new RangeError(
      `Cannot use recipe: ${where}: ${what} quantization sets its own levels, so range ` +
        `'${s.range.method}' does not apply (leave range out or use 'minmax')`,
    );
  }
}

/** A layer that asks for MatMulNBits must resolve to settings that have that form. */
function checkMatMulNBits(s: NodeSettings, where: string): void {
  if (s.method !== "linear" || s.granularity !== "block") {
    throw new RangeError(
      `Cannot use recipe: ${where}: format 'matmulnbits' needs method 'linear' with block ` +
        `granularity, got method '${s.method}' with ${s.granularity} granularity`,
    );
  }
  if (![2, 4, 8].includes(s.bits)) {
    throw new RangeError(
      `Cannot use recipe: ${where}: format 'matmulnbits' needs 2, 4 or 8 bits, got ${s.bits}`,
    );
  }
  const b = s.blockSize;
  if (!(b >= 16 && (b & (b - 1)) === 0)) {
    throw new RangeError(
      `Cannot use recipe: ${where}: format 'matmulnbits' needs a power-of-two blockSize >= 16, ` +
        `got ${b}`,
    );
  }
}

function checkSettings(o: Record<string, unknown>, where: string): QuantizeSettings {
  const out: Record<string, unknown> = {};
  if (o.method !== undefined) {
    if (!["linear", "dynamic", "static", "log", "kmeans"].includes(o.method as string)) {
      throw new RangeError(
        `Cannot use recipe: ${where}.method must be 'linear', 'dynamic', 'static', 'log' or ` +
          `'kmeans', got ${show(o.method)}`,
      );
    }
    out.method = o.method;
  }
  if (o.bits !== undefined) {
    const b = o.bits;
    if (typeof b !== "number") {
      throw new TypeError(`Cannot use recipe: ${where}.bits must be a number`);
    }
    if (!(Number.isInteger(b) && ((b >= 2 && b <= 8) || b === 16))) {
      throw new RangeError(
        `Cannot use recipe: ${where}.bits must be an integer 2..8 or 16, got ${b}`,
      );
    }
    out.bits = b;
  }
  for (const key of ["signed", "symmetric"]) {
    if (o[key] === undefined) continue;
    if (typeof o[key] !== "boolean") {
      throw new TypeError(`Cannot use recipe: ${where}.${key} must be a boolean`);
    }
    out[key] = o[key];
  }
  if (o.granularity !== undefined) {
    if (!["tensor", "channel", "block"].includes(o.granularity as string)) {
      throw new RangeError(
        `Cannot use recipe: ${where}.granularity must be 'tensor', 'channel' or 'block', got ${
          show(o.granularity)
        }`,
      );
    }
    out.granularity = o.granularity;
  }
  if (o.blockSize !== undefined) {
    const b = o.blockSize;
    if (typeof b !== "number") {
      throw new TypeError(`Cannot use recipe: ${where}.blockSize must be a number`);
    }
    if (!(Number.isInteger(b) && b >= 2)) {
      throw new RangeError(
        `Cannot use recipe: ${where}.blockSize must be an integer >= 2, got ${b}`,
      );
    }
    out.blockSize = b;
  }
  if (o.range !== undefined) out.range = checkRange(o.range, `${where}.range`);
  if (o.format !== undefined) {
    if (o.format !== "matmulnbits" && o.format !== "dequantizelinear") {
      throw new RangeError(
        `Cannot use recipe: ${where}.format must be 'matmulnbits' or 'dequantizelinear', got ${
          show(o.format)
        }`,
      );
    }
    out.format = o.format;
  }
  return Object.freeze(out) as QuantizeSettings;
}

function checkRange(value: unknown, where: string): RangeMethod {
  const r = object(value, where);
  const keys = typeof r.method === "string" ? RANGE_KEYS[r.method] : undefined;
  if (keys === undefined || !Object.hasOwn(RANGE_KEYS, r.method as string)) {
    throw new RangeError(
      `Cannot use recipe: ${where}.method must be 'minmax', 'percentile', 'mse' or 'std', got ${
        show(r.method)
      }`,
    );
  }
  known(r, keys, where);
  const num = (key: string, ok: (v: number) => boolean, what: string): void => {
    const v = r[key];
    if (v === undefined) return;
    if (typeof v !== "number") {
      throw new TypeError(`Cannot use recipe: ${where}.${key} must be a number`);
    }
    if (!ok(v)) {
      throw new RangeError(`Cannot use recipe: ${where}.${key} must be ${what}, got ${v}`);
    }
  };
  num("percentile", (v) => v >= 50 && v <= 100, "in 50..100");
  num("steps", (v) => Number.isInteger(v) && v >= 1 && v <= 1000, "an integer 1..1000");
  num("minRatio", (v) => v > 0 && v <= 1, "in (0, 1]");
  num("k", (v) => v > 0 && Number.isFinite(v), "positive");
  return Object.freeze({ ...r }) as unknown as RangeMethod;
}

function checkCalibration(value: unknown, where: string): CalibrationRecipe {
  const c = object(value, where);
  known(c, ["method", "percentile", "bins", "samples", "activations"], where);
  if (!["minmax", "percentile", "entropy", "mse"].includes(c.method as string)) {
    throw new RangeError(
      `Cannot use recipe: ${where}.method must be 'minmax', 'percentile', 'entropy' or 'mse', got ${
        show(c.method)
      }`,
    );
  }
  if (c.percentile !== undefined && c.method !== "percentile") {
    throw new TypeError(`Cannot use recipe: ${where}.percentile needs method 'percentile'`);
  }
  const num = (key: string, ok: (v: number) => boolean, what: string): void => {
    const v = c[key];
    if (v === undefined) return;
    if (typeof v !== "number") {
      throw new TypeError(`Cannot use recipe: ${where}.${key} must be a number`);
    }
    if (!ok(v)) {
      throw new RangeError(`Cannot use recipe: ${where}.${key} must be ${what}, got ${v}`);
    }
  };
  num("percentile", (v) => v >= 50 && v <= 100, "in 50..100");
  num("bins", (v) => Number.isInteger(v) && v >= 128 && v <= 65536, "an integer 128..65536");
  num("samples", (v) => Number.isInteger(v) && v >= 1, "a positive integer");
  if (c.activations !== undefined && c.activations !== "uint8" && c.activations !== "int8") {
    throw new RangeError(
      `Cannot use recipe: ${where}.activations must be 'uint8' or 'int8', got ${
        show(c.activations)
      }`,
    );
  }
  return Object.freeze({ ...c }) as unknown as CalibrationRecipe;
}

function object(value: unknown, where: string): Record<string, unknown> {
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw new TypeError(`Cannot use recipe: ${where} must be an object, got ${show(value)}`);
  }
  return value as Record<string, unknown>;
}

function known(o: Record<string, unknown>, keys: readonly string[], where: string): void {
  for (const key of Object.keys(o)) {
    if (!keys.includes(key)) {
      throw new TypeError(`Cannot use recipe: ${where} has unknown field '${key}'`);
    }
  }
}

function show(value: unknown): string {
  return value === undefined ? "nothing" : JSON.stringify(value) ?? String(value);
}
