/**
 * Test helpers of the prune service: a stand-in pruner the tests drive step by step, and
 * multipart forms.
 * @module
 */
import {
  controlledRunner,
  type NamedRunner,
  namedRunner,
  recipeForm,
  type RecipeFormParts,
} from "../../test/support/service_checks.ts";
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

/** A stand-in pruner whose runs the test releases one by one (pass `prune`). */
export type ControlledPruner = NamedRunner<"prune", PruneRecipe, PruneBytesOptions, PrunedModel>;

/**
 * Makes a pruner that reports progress (`prune`, 40 of 100) and then waits until released or
 * aborted; aborted, it rejects with the signal's reason (see `controlledRunner`).
 *
 * @returns The pruner and its controls.
 */
export function controlledPruner(): ControlledPruner {
  return namedRunner(
    "prune",
    controlledRunner<PruneRecipe, PruneBytesOptions, PrunedModel>(fakeResult, {
      phase: "prune",
      done: 40,
      total: 100,
      samplesPerSecond: 80,
    }),
  );
}

/** Parts of {@linkcode pruningForm}. */
export type PruningFormParts = RecipeFormParts;

/**
 * Builds the multipart form of POST /v1/prunings (see `recipeForm`).
 *
 * @param parts What to put in it.
 * @returns The form.
 */
export const pruningForm: (parts: PruningFormParts) => FormData = recipeForm;

export { fakeLoadDataset } from "../../test/support/fake_load_dataset.ts";
export { pollUntil } from "../../test/support/poll_until.ts";
