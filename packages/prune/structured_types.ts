/**
 * The public types of structured pruning: {@linkcode StructuredPruneOptions} in, and
 * {@linkcode StructuredPruneResult} out, shared by neuron pruning (`pruneNeurons`) and channel
 * pruning (`pruneChannels`).
 *
 * @example
 * ```ts
 * import type { StructuredPruneOptions } from "./structured_types.ts";
 * const options: StructuredPruneOptions = { sparsity: 0.5, importance: "l2", minKeep: 4 };
 * ```
 * @module
 */
import type { ModelProto } from "@modelpress/onnx";
import type { Dataset } from "@modelpress/evaluate";
import type { Kernels } from "@modelpress/kernels";

/**
 * How the importance of a unit (an output neuron of a Gemm/MatMul, a filter of a Conv) is
 * scored: `l1`/`l2` norm of its weights (row of the weight matrix, or the whole filter), `random`
 * (seeded; a baseline only), or `activation`: the mean |activation| of the unit over
 * calibration data (after the element-wise ops that follow the layer, e.g. BatchNormalization
 * and Relu).
 */
export type StructuredImportance = "l1" | "l2" | "random" | "activation";

/** Recovery without training, applied after the structural edit (see `recovery.ts`). */
export interface StructuredRecoveryOptions {
  /**
   * Re-estimate the running mean and variance of every BatchNormalization from the calibration
   * data, on the pruned model (default false).
   */
  readonly batchNorm?: boolean;
  /**
   * Bias correction: for every consumer `y = W x + b` that lost inputs, add
   * `W[:, removed] * E[x_removed]` to `b`, the means measured on the original model (default
   * false).
   */
  readonly biasCorrection?: boolean;
}

/** A phase of structured pruning, for progress. */
export type StructuredPrunePhase = "importance" | "prune" | "recovery";

/** Progress of structured pruning. */
export interface StructuredPruneProgress {
  /** The running phase. */
  readonly phase: StructuredPrunePhase;
  /** Steps done in this phase (samples for calibration passes, else groups). */
  readonly done: number;
  /** Steps in this phase. */
  readonly total: number;
}

/** Options of `pruneNeurons` and `pruneChannels`. */
export interface StructuredPruneOptions {
  /**
   * The fraction of units REMOVED, in [0, 1): per group (layer) exactly `round(k * units)`, or
   * over all candidate groups together when `global` is set; never more than leaves `minKeep`.
   */
  readonly sparsity: number;
  /** How units are scored (default `"l1"`). */
  readonly importance?: StructuredImportance;
  /**
   * One budget over all candidate groups instead of one per group (default false). Importances
   * are divided by their layer's mean first, so that layers of different scale compare.
   */
  readonly global?: boolean;
  /**
   * Regular expressions (sources, as in quantization recipes' `pattern`) on node names: only
   * layers whose name matches one are pruned (default: all). A coupled group is pruned only when
   * every one of its source layers is included and none excluded.
   */
  readonly include?: readonly string[];
  /** Regular expressions on node names of layers never pruned (default none). */
  readonly exclude?: readonly string[];
  /** Units every group keeps at least (default 1). */
  readonly minKeep?: number;
  /** Seed of the `random` importance (default 0). */
  readonly seed?: number;
  /** Calibration data, needed by the `activation` importance and by recovery. */
  readonly calibration?: Dataset;
  /** Calibration samples used, spread evenly over the dataset (default 512). */
  readonly maxSamples?: number;
  /** Calibration samples per onnxruntime-web run (default 64). */
  readonly batchSize?: number;
  /** Recovery without training (default none). */
  readonly recovery?: StructuredRecoveryOptions;
  /** The kernels that compute norms (default: `createKernels()`). */
  readonly kernels?: Kernels;
  /** Cancels between steps. */
  readonly signal?: AbortSignal;
  /** Receives progress; an exception it throws aborts pruning. */
  readonly onProgress?: (progress: StructuredPruneProgress) => void;
}

/** Minimum, mean and maximum of a layer's unit importances (raw, before normalisation). */
export interface ImportanceStatistics {
  /** The smallest importance. */
  readonly min: number;
  /** The mean importance. */
  readonly mean: number;
  /** The largest importance. */
  readonly max: number;
}

/** One pruned (or candidate) layer: a node whose output units were scored. */
export interface PrunedLayer {
  /** The node's name. */
  readonly node: string;
  /** Its operator (`Gemm`, `MatMul`, `Conv`). */
  readonly op: string;
  /** The id of its coupled group (see {@linkcode ChannelGroup}). */
  readonly group: number;
  /** Output units before pruning. */
  readonly unitsBefore: number;
  /** Output units after pruning. */
  readonly unitsAfter: number;
  /** Indices (in the original layer) of the removed units, ascending. */
  readonly removed: readonly number[];
  /** Statistics of the importance of its units. */
  readonly importance: ImportanceStatistics;
}

/** How a node takes part in a coupled group. */
export type GroupRole =
  /** Produces the units (its weight loses output rows/filters and bias entries). */
  | "source"
  /** Reads the units and loses the matching inputs (next Gemm/MatMul rows, Conv input channels). */
  | "consumer"
  /** Passes the units through, sliced per channel (BatchNormalization, depthwise Conv, Add bias). */
  | "follower"
  /** Couples channels of several tensors (Add, Sum, Mul, Concat...). */
  | "coupling";

/** A node in a coupled group. */
export interface GroupMember {
  /** The node's name (its first output when unnamed). */
  readonly node: string;
  /** Its operator. */
  readonly op: string;
  /** How it takes part. */
  readonly role: GroupRole;
}

/**
 * A set of source layers whose output units are coupled (removed together): through
 * Add/Sum/Mul (residual paths) the units at the same position in every input are one unit; a
 * Concat maps units at channel offsets without coupling its inputs with each other.
 */
export interface ChannelGroup {
  /** The group's id (its position in {@linkcode StructuredPruneResult.groups}). */
  readonly id: number;
  /** The source layers' node names, in graph order. */
  readonly sources: readonly string[];
  /** Every node touched by removing units of this group. */
  readonly members: readonly GroupMember[];
  /** Coupled units in the group (each may span several source layers). */
  readonly units: number;
  /** Coupled units removed. */
  readonly removed: number;
  /** Whether the group may be pruned. */
  readonly prunable: boolean;
  /** Why not, when it is not prunable (or not a candidate of this pruning method). */
  readonly reason?: string;
}

/** A node that structured pruning cannot see through, and why. */
export interface UnsupportedNode {
  /** The node's name (its first output when unnamed). */
  readonly node: string;
  /** Its operator. */
  readonly op: string;
  /** Why (e.g. "grouped Conv (group 2 of 8 channels)", "channel mapping unclear"). */
  readonly reason: string;
}

/** What BatchNorm re-estimation did to one BatchNormalization. */
export interface BatchNormRecovery {
  /** The node. */
  readonly node: string;
  /** Its channels. */
  readonly channels: number;
  /** Mean over channels of |new running mean - old|. */
  readonly meanShift: number;
  /** Mean over channels of new running variance / old. */
  readonly varianceRatio: number;
}

/** What bias correction did to one consumer. */
export interface BiasCorrection {
  /** The consumer node. */
  readonly node: string;
  /** Its operator. */
  readonly op: string;
  /** Inputs (positions along its input's channel/feature axis) that were removed. */
  readonly removedInputs: number;
  /** Largest |correction| added to a bias entry. */
  readonly maxCorrection: number;
  /** Whether a bias was created (the node had none). */
  readonly addedBias: boolean;
}

/** What recovery did. */
export interface RecoveryReport {
  /** Calibration samples used (0 without recovery). */
  readonly samples: number;
  /** Per re-estimated BatchNormalization. */
  readonly batchNorm: readonly BatchNormRecovery[];
  /** Per bias-corrected consumer. */
  readonly biasCorrection: readonly BiasCorrection[];
}

/** The outcome of `pruneNeurons` / `pruneChannels`. */
export interface StructuredPruneResult {
  /** The pruned model (a copy; the input model is not changed). */
  readonly model: ModelProto;
  /** Every candidate layer, in graph order. */
  readonly layers: readonly PrunedLayer[];
  /** Every coupled group found, candidates or not. */
  readonly groups: readonly ChannelGroup[];
  /** What recovery did. */
  readonly recovery: RecoveryReport;
  /** Nodes the dependency analysis could not see through, one entry per node and reason. */
  readonly unsupported: readonly UnsupportedNode[];
}
