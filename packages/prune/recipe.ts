/**
 * The pruning recipe: plain data (JSON-friendly), validated with clear errors.
 * @module
 */
import type { NodeMatch } from "@modelpress/quantize";

export type { NodeMatch };

/**
 * `magnitude`: remove the smallest |w| (per layer, or over all layers with `global`);
 * `random`: remove seeded random weights — a baseline to compare other methods with, never a
 * method to ship; `nm`: N:M semi-structured sparsity along the input dimension (`pattern`);
 * `wanda`: remove the smallest |w_ij| * ||x_j||_2 per output row (activation norms from
 * calibration data); `neuron` and `channel`: structured pruning of output units and Conv filters.
 */
export type PruneMethod = "magnitude" | "random" | "nm" | "wanda" | "neuron" | "channel";

/** The N:M patterns: n weights kept in every m consecutive inputs. */
export type NmPattern = "2:4" | "4:8";

/** How structured pruning ranks units. */
export type Importance = "l1" | "l2" | "random" | "activation";

/**
 * How pruned weights are stored: `auto` encodes a tensor sparsely when that is smaller,
 * `sparse` encodes every pruned tensor sparsely, `dense` leaves plain initializers (needed when
 * the model is quantized afterwards; then call `sparsifyStorage` on the quantized model).
 */
export type StorageMode = "auto" | "dense" | "sparse";

/** Per-layer limits on the fraction removed, for the layers that `match` selects. */
export interface SparsityBounds {
  /** Which layers (every given field must match); omitted: every layer. */
  readonly match?: NodeMatch;
  /** The least fraction removed, in [0, 1). Default 0. */
  readonly min?: number;
  /** The most fraction removed, in [0, 1]. Default 1. */
  readonly max?: number;
}

/** How activations are gathered for `wanda` and `activation` importance. */
export interface PruneCalibration {
  /** Samples run, spread over the dataset. Default 256. */
  readonly samples?: number;
  /** Samples per run. Default 64. */
  readonly batchSize?: number;
}

/** Recovery without training after `neuron` and `channel` pruning (needs calibration data). */
export interface PruneRecovery {
  /** Re-estimate BatchNormalization statistics. */
  readonly batchNorm?: boolean;
  /** Correct the biases of layers that lost inputs by the removed inputs' means. */
  readonly biasCorrection?: boolean;
}

/** Iterative pruning: the sparsity rises linearly over `steps` steps to the target. */
export interface PruneSchedule {
  /** The number of steps, an integer 1..100. */
  readonly steps: number;
}

/** A pruning recipe. */
export interface PruneRecipe {
  /** The method. */
  readonly method: PruneMethod;
  /**
   * The fraction of weights (or units) REMOVED, in [0, 1). Default 0.5; for `nm` it is implied
   * by the pattern ((m - n) / m) and may be given only with that value.
   */
  readonly sparsity?: number;
  /** One threshold over every prunable layer (magnitude, random). Default false: per layer. */
  readonly global?: boolean;
  /** For `nm`: the pattern. Default `2:4`. */
  readonly pattern?: NmPattern;
  /** For `neuron` and `channel`: how units are ranked. Default `l2`. */
  readonly importance?: Importance;
  /** Only layers matching one of these are pruned. Default: every prunable layer. */
  readonly include?: readonly NodeMatch[];
  /** Layers matching one of these are not pruned. */
  readonly exclude?: readonly NodeMatch[];
  /** Per-layer sparsity bounds; where several match a layer, the later ones win per field. */
  readonly bounds?: readonly SparsityBounds[];
  /** Seed of `random` and random importance. Default 0. */
  readonly seed?: number;
  /** How pruned weights are stored. Default `auto`. */
  readonly storage?: StorageMode;
  /** Calibration settings (for `wanda` and `activation` importance). */
  readonly calibration?: PruneCalibration;
  /** For `neuron` and `channel`: recovery after pruning. Default none. */
  readonly recovery?: PruneRecovery;
  /** Iterative pruning. Default: one step. */
  readonly schedule?: PruneSchedule;
}

const METHODS: readonly PruneMethod[] = ["magnitude", "random", "nm", "wanda", "neuron", "channel"];
const PATTERNS: readonly NmPattern[] = ["2:4", "4:8"];
const IMPORTANCES: readonly Importance[] = ["l1", "l2", "random", "activation"];
const STORAGES: readonly StorageMode[] = ["auto", "dense", "sparse"];
const KEYS = [
  "method",
  "sparsity",
  "global",
  "pattern",
  "importance",
  "include",
  "exclude",
  "bounds",
  "seed",
  "storage",
  "calibration",
  "schedule",
  "recovery",
];

/** The default fraction removed. */
export const DEFAULT_SPARSITY = 0.5;

/**
 * The fraction removed that an N:M pattern implies: (m - n) / m.
 *
 * @param pattern The pattern.
 * @returns n, m and the fraction removed.
 * @example
 * ```ts
 * import { nmPattern } from "@modelpress/prune";
 * nmPattern("2:4"); // { n: 2, m: 4, sparsity: 0.5 }
 * ```
 */
export function nmPattern(pattern: NmPattern): { n: number; m: number; sparsity: number } {
  const [n, m] = pattern.split(":").map(Number) as [number, number];
  return { n, m, sparsity: (m - n) / m };
}

/**
 * Checks a recipe (for example parsed from JSON) and returns a deeply frozen copy with the
 * sparsity filled in.
 *
 * @param recipe The candidate.
 * @returns The recipe.
 * @throws {TypeError} When a field has the wrong type or is unknown.
 * @throws {RangeError} When a value is out of range or a combination is not supported.
 * @throws {SyntaxError} When a match pattern is not a regular expression.
 * @example
 * ```ts
 * import { validatePruneRecipe } from "@modelpress/prune";
 * const recipe = validatePruneRecipe(JSON.parse('{"method":"magnitude","sparsity":0.5}'));
 * validatePruneRecipe({ method: "magnitude", sparsity: 1.2 }); // throws RangeError
 * ```
 */
export function validatePruneRecipe(recipe: unknown): PruneRecipe {
  const r = object(recipe, "recipe");
  for (const key of Object.keys(r)) {
    if (!KEYS.includes(key)) fail(TypeError, `unknown field '${key}'`);
  }
  if (r.method === undefined) fail(TypeError, "method is required");
  const method = oneOf(r.method, METHODS, "method");
  const out: Record<string, unknown> = { method };
  if (r.global !== undefined) out.global = bool(r.global, "global");
  if (r.pattern !== undefined) out.pattern = oneOf(r.pattern, PATTERNS, "pattern");
  if (r.importance !== undefined) out.importance = oneOf(r.importance, IMPORTANCES, "importance");
  if (r.storage !== undefined) out.storage = oneOf(r.storage, STORAGES, "storage");
  if (r.seed !== undefined) {
    if (!Number.isSafeInteger(r.seed)) fail(TypeError, `seed must be an integer, got ${r.seed}`);
    out.seed = r.seed;
  }
  if (r.sparsity !== undefined) {
    if (typeof r.sparsity !== "number") fail(TypeError, "sparsity must be a number");
    const k = r.sparsity as number;
    if (!(k >= 0 && k < 1)) fail(RangeError, `sparsity must be in [0, 1), got ${k}`);
  }
  if (method === "nm") {
    const implied = nmPattern((out.pattern as NmPattern | undefined) ?? "2:4").sparsity;
    if (r.sparsity !== undefined && r.sparsity !== implied) {
      fail(
        RangeError,
        `method 'nm' with pattern ${
          out.pattern ?? "2:4"
        } removes ${implied}, got sparsity ${r.sparsity}`,
      );
    }
    out.pattern = out.pattern ?? "2:4";
    out.sparsity = implied;
  } else {
    if (r.pattern !== undefined) fail(RangeError, `pattern is only used by method 'nm'`);
    out.sparsity = r.sparsity ?? DEFAULT_SPARSITY;
  }
  if (out.global === true && !(method === "magnitude" || method === "random")) {
    fail(RangeError, `global is only supported by methods 'magnitude' and 'random'`);
  }
  if (r.importance !== undefined && method !== "neuron" && method !== "channel") {
    fail(RangeError, `importance is only used by methods 'neuron' and 'channel'`);
  }
  for (const key of ["include", "exclude"] as const) {
    if (r[key] === undefined) continue;
    if (!Array.isArray(r[key])) fail(TypeError, `${key} must be an array`);
    out[key] = Object.freeze((r[key] as unknown[]).map((m, i) => match(m, `${key}[${i}]`)));
  }
  if (r.bounds !== undefined) {
    if (!Array.isArray(r.bounds)) fail(TypeError, "bounds must be an array");
    out.bounds = Object.freeze((r.bounds as unknown[]).map((b, i) => bounds(b, `bounds[${i}]`)));
  }
  if (r.calibration !== undefined) {
    const c = object(r.calibration, "calibration");
    const cal: Record<string, number> = {};
    for (const key of Object.keys(c)) {
      if (key !== "samples" && key !== "batchSize") {
        fail(TypeError, `unknown field 'calibration.${key}'`);
      }
      const v = c[key];
      if (!(Number.isSafeInteger(v) && (v as number) >= 1)) {
        fail(RangeError, `calibration.${key} must be a positive integer, got ${v}`);
      }
      cal[key] = v as number;
    }
    out.calibration = Object.freeze(cal);
  }
  if (r.recovery !== undefined) {
    if (method !== "neuron" && method !== "channel") {
      fail(RangeError, "recovery is only used by methods 'neuron' and 'channel'");
    }
    const c = object(r.recovery, "recovery");
    const rec: Record<string, boolean> = {};
    for (const key of Object.keys(c)) {
      if (key !== "batchNorm" && key !== "biasCorrection") {
        fail(TypeError, `unknown field 'recovery.${key}'`);
      }
      rec[key] = bool(c[key], `recovery.${key}`);
    }
    out.recovery = Object.freeze(rec);
  }
  if (r.schedule !== undefined) {
    const s = object(r.schedule, "schedule");
    for (const key of Object.keys(s)) {
      if (key !== "steps") fail(TypeError, `unknown field 'schedule.${key}'`);
    }
    if (
      !(Number.isSafeInteger(s.steps) && (s.steps as number) >= 1 && (s.steps as number) <= 100)
    ) {
      fail(RangeError, `schedule.steps must be an integer 1..100, got ${s.steps}`);
    }
    if (method === "nm" && s.steps !== 1) {
      fail(RangeError, "method 'nm' has a fixed pattern and takes no schedule");
    }
    out.schedule = Object.freeze({ steps: s.steps as number });
  }
  return Object.freeze(out) as unknown as PruneRecipe;
}

type ErrorClass = TypeErrorConstructor | RangeErrorConstructor | SyntaxErrorConstructor;

function fail(kind: ErrorClass, message: string): never {
  throw new kind(`Invalid prune recipe: ${message}`);
}

function object(value: unknown, where: string): Record<string, unknown> {
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    fail(TypeError, `${where} must be an object`);
  }
  return value as Record<string, unknown>;
}

function bool(value: unknown, where: string): boolean {
  if (typeof value !== "boolean") fail(TypeError, `${where} must be a boolean`);
  return value as boolean;
}

function oneOf<T extends string>(value: unknown, allowed: readonly T[], where: string): T {
  if (typeof value !== "string" || !allowed.includes(value as T)) {
    fail(
      typeof value === "string" ? RangeError : TypeError,
      `${where} must be one of ${allowed.join(", ")}, got ${JSON.stringify(value)}`,
    );
  }
  return value as T;
}

function match(value: unknown, where: string): NodeMatch {
  const m = object(value, where);
  const out: Record<string, string> = {};
  for (const key of Object.keys(m)) {
    if (key !== "name" && key !== "pattern" && key !== "opType") {
      fail(TypeError, `unknown field '${where}.${key}'`);
    }
    if (typeof m[key] !== "string") fail(TypeError, `${where}.${key} must be a string`);
    out[key] = m[key] as string;
  }
  if (Object.keys(out).length === 0) fail(TypeError, `${where} needs name, pattern or opType`);
  if (out.pattern !== undefined) {
    try {
      new RegExp(out.pattern);
    } catch (e) {
      fail(
        SyntaxError,
        `${where}.pattern is not a regular expression: ${(e as Error).message}`,
      );
    }
  }
  return Object.freeze(out);
}

function bounds(value: unknown, where: string): SparsityBounds {
  const b = object(value, where);
  const out: Record<string, unknown> = {};
  for (const key of Object.keys(b)) {
    if (key !== "match" && key !== "min" && key !== "max") {
      fail(TypeError, `unknown field '${where}.${key}'`);
    }
  }
  if (b.match !== undefined) out.match = match(b.match, `${where}.match`);
  for (const key of ["min", "max"] as const) {
    if (b[key] === undefined) continue;
    const v = b[key];
    if (typeof v !== "number") fail(TypeError, `${where}.${key} must be a number`);
    const ok = key === "min" ? v >= 0 && v < 1 : v >= 0 && v <= 1;
    if (!ok) {
      fail(
        RangeError,
        `${where}.${key} must be in ${key === "min" ? "[0, 1)" : "[0, 1]"}, got ${v}`,
      );
    }
    out[key] = v;
  }
  if (out.min !== undefined && out.max !== undefined && (out.min as number) > (out.max as number)) {
    fail(RangeError, `${where}.min ${out.min} is above max ${out.max}`);
  }
  return Object.freeze(out) as SparsityBounds;
}
