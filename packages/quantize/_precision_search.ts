/**
 * The choice of one option per layer (a multiple-choice knapsack) under an additive model: the
 * size is the float size plus each layer's measured change, and the output damage is the sum of
 * each layer's damage measured alone (noise power relative to the signal for SQNR, `1 - cosine`,
 * disagreement). Small problems are solved exactly by enumeration, large ones greedily.
 * @module
 */
import type { OutputFidelity } from "./_output_fidelity.ts";

/** Fidelity metrics that a floor can be set on. */
export type FidelityMetric = "sqnr" | "cosine" | "agreement";

/** One option of one layer, measured with only that layer quantized. */
export interface SearchOption {
  /** Bytes the whole model changes by (negative: smaller). */
  readonly delta: number;
  /** The output fidelity. */
  readonly fidelity: OutputFidelity;
}

/** What to meet. */
export type SearchGoal =
  | { readonly bytes: number }
  | { readonly metric: FidelityMetric; readonly min: number };

/** Enumerate every combination up to this many; search greedily above. */
const EXACT_LIMIT = 200_000;
/** Relative difference in noise power below which two assignments are equally good. */
const NOISE_TIE = 1e-3;

/**
 * The additive damage of one option for a metric: the relative noise power `10^(-SQNR/10)` for
 * `sqnr`, `1 - cosine`, `1 - agreement`.
 */
export function damage(f: OutputFidelity, metric: FidelityMetric): number {
  if (metric === "sqnr") return f.sqnrDb === Infinity ? 0 : Math.pow(10, -f.sqnrDb / 10);
  return Math.max(0, 1 - (metric === "cosine" ? f.cosine : f.agreement));
}

/**
 * The fidelity predicted for options chosen together: their damages add up.
 *
 * @param chosen The options.
 * @returns The predicted fidelity.
 */
export function predictFidelity(chosen: readonly SearchOption[]): OutputFidelity {
  let noise = 0, cos = 0, dis = 0;
  for (const o of chosen) {
    noise += damage(o.fidelity, "sqnr");
    cos += damage(o.fidelity, "cosine");
    dis += damage(o.fidelity, "agreement");
  }
  return {
    sqnrDb: noise === 0 ? Infinity : -10 * Math.log10(noise),
    cosine: Math.max(-1, 1 - cos),
    agreement: Math.max(0, 1 - dis),
  };
}

/**
 * Chooses one option per layer: for a byte goal, the least predicted noise power that fits; for
 * a fidelity goal, the fewest bytes whose predicted metric reaches the floor (ties: less noise).
 *
 * @param layers Each layer's options (at least one each).
 * @param floatBytes The model's size before quantization.
 * @param goal The goal.
 * @returns The chosen option index per layer, or undefined when no choice meets the goal.
 */
export function searchAssignment(
  layers: readonly (readonly SearchOption[])[],
  floatBytes: number,
  goal: SearchGoal,
): number[] | undefined {
  let combos = 1;
  for (const l of layers) combos *= l.length;
  return combos <= EXACT_LIMIT
    ? exactSearch(layers, floatBytes, goal)
    : greedySearch(layers, floatBytes, goal);
}

function meets(goal: SearchGoal, bytes: number, chosen: readonly SearchOption[]): boolean {
  if ("bytes" in goal) return bytes <= goal.bytes;
  const f = predictFidelity(chosen);
  const value = goal.metric === "sqnr"
    ? f.sqnrDb
    : goal.metric === "cosine"
    ? f.cosine
    : f.agreement;
  return value >= goal.min;
}

function exactSearch(
  layers: readonly (readonly SearchOption[])[],
  floatBytes: number,
  goal: SearchGoal,
): number[] | undefined {
  const pick = layers.map(() => 0);
  let best: { pick: number[]; bytes: number; noise: number } | undefined;
  for (;;) {
    const chosen = pick.map((k, i) => layers[i]![k]!);
    const bytes = floatBytes + chosen.reduce((s, o) => s + o.delta, 0);
    if (meets(goal, bytes, chosen)) {
      const noise = chosen.reduce((s, o) => s + damage(o.fidelity, "sqnr"), 0);
      // Noise within NOISE_TIE of the best counts as equal: a byte is worth more than a
      // difference in the rounding of two measurements.
      const better = best === undefined ||
        ("bytes" in goal
          ? noise < best.noise * (1 - NOISE_TIE) ||
            (noise <= best.noise * (1 + NOISE_TIE) && bytes < best.bytes)
          : bytes < best.bytes || (bytes === best.bytes && noise < best.noise));
      if (better) best = { pick: [...pick], bytes, noise };
    }
    let i = 0;
    while (i < pick.length && ++pick[i]! === layers[i]!.length) pick[i++] = 0;
    if (i === pick.length) break;
  }
  return best?.pick;
}

/**
 * From the least damage per layer, moves layers to cheaper options by the smallest damage added
 * per byte saved: until the size fits (then spends what is left on the best upgrades), or while
 * the fidelity floor still holds.
 */
function greedySearch(
  layers: readonly (readonly SearchOption[])[],
  floatBytes: number,
  goal: SearchGoal,
): number[] | undefined {
  const metric: FidelityMetric = "bytes" in goal ? "sqnr" : goal.metric;
  const d = (o: SearchOption): number => damage(o.fidelity, metric);
  const pick = layers.map((options) => {
    let k = 0;
    for (let j = 1; j < options.length; j++) {
      const a = options[j]!, b = options[k]!;
      if (d(a) < d(b) || (d(a) === d(b) && a.delta < b.delta)) k = j;
    }
    return k;
  });
  const chosen = (): SearchOption[] => pick.map((k, i) => layers[i]![k]!);
  const size = (): number => floatBytes + chosen().reduce((s, o) => s + o.delta, 0);
  const cheaper = (ok: (i: number, j: number) => boolean): [number, number] | undefined => {
    let best: [number, number] | undefined;
    let bestRatio = Infinity;
    for (const [i, options] of layers.entries()) {
      const now = options[pick[i]!]!;
      for (const [j, o] of options.entries()) {
        const saved = now.delta - o.delta;
        if (saved <= 0 || !ok(i, j)) continue;
        const ratio = (d(o) - d(now)) / saved;
        if (ratio < bestRatio) [best, bestRatio] = [[i, j], ratio];
      }
    }
    return best;
  };
  if ("bytes" in goal) {
    while (size() > goal.bytes) {
      const move = cheaper(() => true);
      if (move === undefined) return undefined;
      pick[move[0]] = move[1];
    }
    for (;;) {
      let best: [number, number] | undefined;
      let gain = 0;
      const bytes = size();
      for (const [i, options] of layers.entries()) {
        const now = options[pick[i]!]!;
        for (const [j, o] of options.entries()) {
          if (bytes - now.delta + o.delta > goal.bytes) continue;
          if (d(now) - d(o) > gain) [best, gain] = [[i, j], d(now) - d(o)];
        }
      }
      if (best === undefined) return pick;
      pick[best[0]] = best[1];
    }
  }
  if (!meets(goal, size(), chosen())) return undefined;
  for (;;) {
    const move = cheaper((i, j) => {
      const trial = chosen();
      trial[i] = layers[i]![j]!;
      return meets(goal, 0, trial);
    });
    if (move === undefined) return pick;
    pick[move[0]] = move[1];
  }
}
