/**
 * Test helpers of the prune service: a stand-in pruner the tests drive step by step, and
 * multipart forms.
 * @module
 */
import { fileField, jobGate, jsonField, multipartForm } from "../../packages/http/_testing.ts";
import type { PruneRecipe, PruneReport } from "@modelpress/prune";
import type { PruneBytesOptions, PrunedModel } from "./prune_bytes.ts";

/** The MNIST MLP fixture's path. */
export const MLP_PATH: string = new URL("../../test/fixtures/mnist_mlp.onnx", import.meta.url)
  .pathname;

/**
 * A stand-in result: the model's first half, and a report-shaped value with one pruned layer
 * (or, with `pruned: false`, one skipped layer and one node not considered).
 */
export function fakeResult(
  model: Uint8Array,
  recipe: PruneRecipe,
  pruned = true,
): PrunedModel {
  const out = model.slice(0, Math.ceil(model.length / 2));
  const layer = {
    node: "fc1",
    opType: "Gemm",
    tensor: "fc1.weight",
    shape: [256, 784],
    params: 200704,
    paramsAfter: 200704,
    zerosBefore: 0,
    zerosAfter: pruned ? 100352 : 0,
    sparsity: pruned ? 0.5 : 0,
    status: pruned ? "pruned" : "skipped",
    ...(pruned ? {} : { reason: "its input length 784 is not a multiple of 3" }),
  };
  return {
    model: out,
    report: {
      schema: "modelpress.prune/1",
      recipe,
      backend: "js",
      layers: [layer],
      skipped: pruned
        ? []
        : [{ node: "conv", opType: "Conv", tensor: "", reason: "its weight is not a constant" }],
      totals: {
        params: { before: 235146, after: 235146 },
        nonzero: { before: 235146, after: 134794 },
        bytes: { before: model.length, after: out.length },
      },
      storage: [],
      steps: [{ step: 1, sparsity: 0.5, zeros: 100352 }],
      timeMs: 0,
    } as PruneReport,
  };
}

/** A stand-in pruner whose runs the test releases one by one. */
export interface ControlledPruner {
  /** Pass as `prune`. */
  readonly prune: (
    model: Uint8Array,
    recipe: PruneRecipe,
    options: PruneBytesOptions,
  ) => Promise<PrunedModel>;
  /** Recipes and options of every call so far. */
  readonly calls: { recipe: PruneRecipe; options: PruneBytesOptions }[];
  /** Resolves when a call has started (and reported its first progress). */
  started(): Promise<void>;
  /** Lets every running call finish. */
  release(): void;
}

/**
 * Makes a pruner that reports progress (`prune`, 40 of 100) and then waits until released or
 * aborted; aborted, it rejects with the signal's reason.
 *
 * @returns The pruner and its controls.
 */
export function controlledPruner(): ControlledPruner {
  const calls: ControlledPruner["calls"] = [];
  const gate = jobGate();
  return {
    calls,
    prune: async (model, recipe, options) => {
      calls.push({ recipe, options });
      options.onProgress?.({ phase: "prune", done: 40, total: 100, samplesPerSecond: 80 });
      await gate.hold(options.signal);
      return fakeResult(model, recipe);
    },
    started: gate.started,
    release: gate.release,
  };
}

/** Parts of {@linkcode pruningForm}. */
export interface PruningFormParts {
  /** The model's bytes. */
  readonly model?: Uint8Array;
  /** The recipe (stringified unless already a string). */
  readonly recipe?: unknown;
  /** A built-in dataset name, or the bytes of a file. */
  readonly calibration?: string | Uint8Array;
}

/**
 * Builds the multipart form of POST /v1/prunings.
 *
 * @param parts What to put in it.
 * @returns The form.
 */
export function pruningForm(parts: PruningFormParts): FormData {
  return multipartForm({
    model: fileField(parts.model, "mlp.onnx"),
    recipe: jsonField(parts.recipe),
    calibration: typeof parts.calibration === "string"
      ? parts.calibration
      : fileField(parts.calibration, "data.npz"),
  });
}

export { fakeLoadDataset } from "../../test/support/fake_load_dataset.ts";
export { pollUntil } from "../../test/support/poll_until.ts";
