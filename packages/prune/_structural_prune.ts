/**
 * What neuron and channel pruning share: scoring units, choosing what to remove under a
 * per-group or global budget, removing it through the dependency graph, and recovery.
 * @module
 */
import { type ModelProto, type NodeProto, tensorData } from "@modelpress/onnx";
import { createKernels, type Kernels } from "@modelpress/kernels";
import { buildDependencyGraph, type DependencyGraph, type SourceOp } from "./dependency_graph.ts";
import { applyBiasCorrection, type BiasDelta, biasDelta, reestimateBatchNorm } from "./recovery.ts";
import {
  type CollectedMoments,
  collectMoments,
  DEFAULT_BATCH_SIZE,
  DEFAULT_MAX_SAMPLES,
  type MomentRequest,
} from "./_structural_stats.ts";
import type {
  BatchNormRecovery,
  BiasCorrection,
  ChannelGroup,
  ImportanceStatistics,
  PrunedLayer,
  StructuredImportance,
  StructuredPruneOptions,
  StructuredPruneResult,
} from "./structured_types.ts";

const IMPORTANCES: readonly StructuredImportance[] = ["l1", "l2", "random", "activation"];

/** What a structured pruning method prunes. */
export interface StructuredMethod {
  /** The method's name in messages ("neuron", "channel"). */
  readonly name: string;
  /** The source operators whose groups it prunes. */
  readonly ops: readonly SourceOp[];
}

interface Candidate {
  readonly group: number;
  /** Aggregated, normalised score per group-local unit. */
  readonly scores: Float64Array;
  /** Group-local units in graph order of their first member (for deterministic ties). */
  readonly units: number;
}

/**
 * Prunes the groups whose sources are all of `method.ops` (see `pruneNeurons`).
 *
 * @param model The model (not changed).
 * @param options The options.
 * @param method Which groups.
 * @returns The result.
 */
export async function runStructuredPruning(
  model: ModelProto,
  options: StructuredPruneOptions,
  method: StructuredMethod,
): Promise<StructuredPruneResult> {
  const o = validate(options);
  const { signal, onProgress } = options;
  signal?.throwIfAborted();
  const graph = buildDependencyGraph(model);
  const include = (options.include ?? []).map((p) => new RegExp(p));
  const exclude = (options.exclude ?? []).map((p) => new RegExp(p));
  const reasons = new Map<number, string>();
  const candidates: number[] = [];
  for (const g of graph.groups) {
    if (!g.prunable) continue;
    const bad = g.sources.find((s) => !method.ops.includes(s.op));
    if (bad !== undefined) {
      reasons.set(g.id, `${method.name} pruning does not prune ${bad.op} layers`);
    } else if (
      include.length > 0 && g.sources.some((s) => !include.some((r) => r.test(s.name)))
    ) {
      reasons.set(g.id, "not included");
    } else if (g.sources.some((s) => exclude.some((r) => r.test(s.name)))) {
      reasons.set(g.id, "excluded");
    } else candidates.push(g.id);
  }
  const calibration = options.calibration;
  const needsData = o.importance === "activation" || o.batchNorm || o.biasCorrection;
  if (needsData && calibration === undefined) {
    throw new TypeError(
      `Cannot prune model: ${
        o.importance === "activation" ? "activation importance" : "recovery"
      } needs calibration data`,
    );
  }
  // One pass over the original model: activations for importance, consumer inputs for bias
  // correction.
  let original: CollectedMoments | undefined;
  const requests: MomentRequest[] = [];
  if (o.importance === "activation") {
    for (const id of candidates) {
      for (const s of graph.groups[id]!.sources) {
        requests.push({ tensor: s.activation, axis: s.activationAxis });
      }
    }
  }
  if (o.biasCorrection) {
    for (const c of graph.consumers) requests.push({ tensor: c.input, axis: c.inputAxis });
  }
  if (requests.length > 0 && calibration !== undefined && candidates.length > 0) {
    original = await collectMoments(model, calibration, requests, {
      maxSamples: o.maxSamples,
      batchSize: o.batchSize,
      signal,
      onProgress: (done, total) => onProgress?.({ phase: "importance", done, total }),
    });
  }
  const kernels = candidates.length > 0 && (o.importance === "l1" || o.importance === "l2")
    ? options.kernels ?? await createKernels()
    : undefined;
  const raw = new Map<NodeProto, Float32Array>();
  for (const id of candidates) {
    for (const [i, s] of graph.groups[id]!.sources.entries()) {
      raw.set(s.node, await importance(s, i, o, kernels, original));
    }
  }
  const cands: Candidate[] = candidates.map((id) => {
    const group = graph.groups[id]!;
    const scores = new Float64Array(group.units);
    for (const s of group.sources) {
      const values = raw.get(s.node)!;
      let mean = 0;
      for (const v of values) mean += v;
      mean /= values.length;
      const norm = mean > 0 ? mean : 1;
      for (let u = 0; u < s.units; u++) {
        const local = s.groupUnits[u]!;
        scores[local] = scores[local]! + values[u]! / norm;
      }
    }
    return { group: id, scores, units: group.units };
  });
  onProgress?.({ phase: "prune", done: 0, total: cands.length });
  const removed = o.global ? chooseGlobal(cands, o) : choosePerGroup(cands, o);
  const applied = graph.apply(removed);
  onProgress?.({ phase: "prune", done: cands.length, total: cands.length });
  let pruned = applied.model;
  let biasReport: BiasCorrection[] = [];
  let bnReport: readonly BatchNormRecovery[] = [];
  let samples = 0;
  if (o.biasCorrection && original !== undefined) {
    biasReport = correctBiases(graph, removed, applied.removedInputs, original, pruned);
    samples = original.samples;
  }
  if (o.batchNorm && calibration !== undefined) {
    signal?.throwIfAborted();
    const r = await reestimateBatchNorm(pruned, calibration, {
      maxSamples: o.maxSamples,
      batchSize: o.batchSize,
      ...(signal === undefined ? {} : { signal }),
      onProgress: (done, total) => onProgress?.({ phase: "recovery", done, total }),
    });
    pruned = r.model;
    bnReport = r.batchNorm;
    samples = r.samples;
  }
  const layers: PrunedLayer[] = [];
  for (const s of graph.sources) {
    const values = raw.get(s.node);
    if (values === undefined) continue;
    const gone = new Set(removed.get(s.group) ?? []);
    const list: number[] = [];
    for (let u = 0; u < s.units; u++) if (gone.has(s.groupUnits[u]!)) list.push(u);
    layers.push({
      node: s.name,
      op: s.op,
      group: s.group,
      unitsBefore: s.units,
      unitsAfter: s.units - list.length,
      removed: list,
      importance: stats(values),
    });
  }
  const groups: ChannelGroup[] = graph.groups.map((g) => {
    const reason = g.reason ?? reasons.get(g.id);
    return {
      id: g.id,
      sources: g.sources.map((s) => s.name),
      members: g.members,
      units: g.units,
      removed: removed.get(g.id)?.length ?? 0,
      prunable: g.prunable,
      ...(reason === undefined ? {} : { reason }),
    };
  });
  return {
    model: pruned,
    layers,
    groups,
    recovery: { samples, batchNorm: bnReport, biasCorrection: biasReport },
    unsupported: graph.unsupported,
  };
}

interface Validated {
  readonly sparsity: number;
  readonly importance: StructuredImportance;
  readonly global: boolean;
  readonly minKeep: number;
  readonly seed: number;
  readonly maxSamples: number;
  readonly batchSize: number;
  readonly batchNorm: boolean;
  readonly biasCorrection: boolean;
}

function validate(options: StructuredPruneOptions): Validated {
  const { sparsity } = options;
  if (typeof sparsity !== "number" || !(sparsity >= 0 && sparsity < 1)) {
    throw new RangeError(`Cannot prune model: sparsity must be in [0, 1), got ${sparsity}`);
  }
  const importance = options.importance ?? "l1";
  if (!IMPORTANCES.includes(importance)) {
    throw new TypeError(
      `Cannot prune model: importance must be one of ${IMPORTANCES.join(", ")}, got ${
        JSON.stringify(importance)
      }`,
    );
  }
  const minKeep = options.minKeep ?? 1;
  if (!Number.isInteger(minKeep) || minKeep < 1) {
    throw new RangeError(`Cannot prune model: minKeep must be a positive integer, got ${minKeep}`);
  }
  for (const p of [...(options.include ?? []), ...(options.exclude ?? [])]) {
    try {
      new RegExp(p);
    } catch (e) {
      throw new SyntaxError(
        `Cannot prune model: pattern ${JSON.stringify(p)} is not a regular expression`,
        {
          cause: e,
        },
      );
    }
  }
  const maxSamples = options.maxSamples ?? DEFAULT_MAX_SAMPLES;
  if (!Number.isInteger(maxSamples) || maxSamples < 1) {
    throw new RangeError(
      `Cannot prune model: maxSamples must be a positive integer, got ${maxSamples}`,
    );
  }
  const batchSize = options.batchSize ?? DEFAULT_BATCH_SIZE;
  if (!Number.isInteger(batchSize) || batchSize < 1) {
    throw new RangeError(
      `Cannot prune model: batchSize must be a positive integer, got ${batchSize}`,
    );
  }
  return {
    sparsity,
    importance,
    global: options.global ?? false,
    minKeep,
    seed: options.seed ?? 0,
    maxSamples,
    batchSize,
    batchNorm: options.recovery?.batchNorm ?? false,
    biasCorrection: options.recovery?.biasCorrection ?? false,
  };
}

async function importance(
  source: DependencyGraph["sources"][number],
  position: number,
  o: Validated,
  kernels: Kernels | undefined,
  moments: CollectedMoments | undefined,
): Promise<Float32Array> {
  const dims = source.weight.dims.map(Number);
  switch (o.importance) {
    case "l1":
    case "l2": {
      const w = tensorData(source.weight) as Float32Array;
      const rows = dims[0]!;
      const cols = w.length / rows;
      return await kernels!.norm(w, {
        ord: o.importance === "l1" ? 1 : 2,
        shape: [rows, cols],
        axis: source.weightAxis,
        name: source.name,
      });
    }
    case "random": {
      const rand = mulberry32(
        (o.seed * 0x9e3779b1 + position * 7919 + source.group * 104729) >>> 0,
      );
      return Float32Array.from({ length: source.units }, () => rand());
    }
    case "activation": {
      const m = moments!.moments.get(source.activation)!;
      if (m.meanAbs.length !== source.units) {
        throw new TypeError(
          `Cannot prune node '${source.name}': ${m.meanAbs.length} activations measured for ${source.units} units`,
        );
      }
      return Float32Array.from(m.meanAbs);
    }
  }
}

/** Sorted by score, then group, then unit: deterministic ties. */
function order(cands: readonly Candidate[]): { c: number; u: number; s: number }[] {
  const all: { c: number; u: number; s: number }[] = [];
  for (const [c, cand] of cands.entries()) {
    for (let u = 0; u < cand.units; u++) all.push({ c, u, s: cand.scores[u]! });
  }
  return all.sort((a, b) => a.s - b.s || a.c - b.c || a.u - b.u);
}

function choosePerGroup(cands: readonly Candidate[], o: Validated): Map<number, number[]> {
  const out = new Map<number, number[]>();
  for (const [c, cand] of cands.entries()) {
    const budget = Math.min(
      Math.round(o.sparsity * cand.units),
      Math.max(0, cand.units - o.minKeep),
    );
    const list = order([cand]).slice(0, budget).map((x) => x.u).sort((a, b) => a - b);
    out.set(cands[c]!.group, list);
  }
  return out;
}

function chooseGlobal(cands: readonly Candidate[], o: Validated): Map<number, number[]> {
  const total = cands.reduce((n, c) => n + c.units, 0);
  const budget = Math.round(o.sparsity * total);
  const lists = cands.map(() => [] as number[]);
  let taken = 0;
  for (const { c, u } of order(cands)) {
    if (taken >= budget) break;
    if (cands[c]!.units - lists[c]!.length <= o.minKeep) continue;
    lists[c]!.push(u);
    taken++;
  }
  return new Map(cands.map((c, i) => [c.group, lists[i]!.sort((a, b) => a - b)]));
}

function correctBiases(
  graph: DependencyGraph,
  removed: ReadonlyMap<number, readonly number[]>,
  removedInputs: ReadonlyMap<NodeProto, readonly number[]>,
  original: CollectedMoments,
  pruned: ModelProto,
): BiasCorrection[] {
  const position = new Map(graph.model.graph!.node.map((n, i) => [n, i]));
  const deltas = new Map<NodeProto, BiasDelta>();
  for (const c of graph.consumers) {
    const prunedNode = pruned.graph!.node[position.get(c.node)!]!;
    const gone = removedInputs.get(prunedNode);
    if (gone === undefined) continue;
    const mean = original.moments.get(c.input)!.mean;
    const full = biasDelta(c, new Map(gone.map((j) => [j, mean[j]!])));
    // The consumer may itself have lost output units.
    const lostOutputs = new Set(graph.removedPositions(c.node.output[0] ?? "", removed));
    const delta = full.filter((_, i) => !lostOutputs.has(i));
    deltas.set(prunedNode, { delta, removedInputs: gone.length });
  }
  return applyBiasCorrection(pruned, deltas);
}

function stats(values: Float32Array): ImportanceStatistics {
  let min = Infinity;
  let max = -Infinity;
  let sum = 0;
  for (const v of values) {
    if (v < min) min = v;
    if (v > max) max = v;
    sum += v;
  }
  return { min, mean: values.length === 0 ? 0 : sum / values.length, max };
}

function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
