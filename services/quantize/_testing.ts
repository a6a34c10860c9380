/**
 * Test helpers of the quantize service: a stand-in quantizer the tests drive step by step, a
 * stand-in dataset loader, and multipart forms.
 * @module
 */
import {
  controlledRunner,
  type NamedRunner,
  namedRunner,
  recipeForm,
  type RecipeFormParts,
} from "../../test/support/service_checks.ts";
import type { QuantizationReport, QuantizeRecipe } from "@modelpress/quantize";
import type { QuantizeBytesOptions, QuantizedModel } from "./quantize_bytes.ts";

/** The MNIST MLP fixture's path. */
export const MLP_PATH: string = new URL("../../test/fixtures/mnist_mlp.onnx", import.meta.url)
  .pathname;

/** A stand-in result: the model's first quarter, and a report-shaped value. */
export function fakeResult(model: Uint8Array, recipe: QuantizeRecipe): QuantizedModel {
  const out = model.slice(0, Math.ceil(model.length / 4));
  return {
    model: out,
    report: {
      recipe,
      backend: "js",
      opset: { from: 13, to: 13 },
      tensors: [],
      nodes: [],
      size: { before: model.length, after: out.length, ratio: out.length / model.length },
      timeMs: { total: 0, numeric: 0 },
    } as QuantizationReport,
  };
}

/** A stand-in quantizer whose runs the test releases one by one (pass `quantize`). */
export type ControlledQuantizer = NamedRunner<
  "quantize",
  QuantizeRecipe,
  QuantizeBytesOptions,
  QuantizedModel
>;

/**
 * Makes a quantizer that reports progress (`quantize`, 3 of 12 tensors) and then waits until released or
 * aborted; aborted, it rejects with the signal's reason (see `controlledRunner`).
 *
 * @returns The quantizer and its controls.
 */
export function controlledQuantizer(): ControlledQuantizer {
  return namedRunner(
    "quantize",
    controlledRunner<QuantizeRecipe, QuantizeBytesOptions, QuantizedModel>(fakeResult, {
      phase: "quantize",
      done: 3,
      total: 12,
      samplesPerSecond: 60,
    }),
  );
}

/** Parts of {@linkcode quantizationForm}. */
export type QuantizationFormParts = RecipeFormParts;

/**
 * Builds the multipart form of POST /v1/quantizations (see `recipeForm`).
 *
 * @param parts What to put in it.
 * @returns The form.
 */
export const quantizationForm: (parts: QuantizationFormParts) => FormData = recipeForm;

export { fakeLoadDataset } from "../../test/support/fake_load_dataset.ts";
export { pollUntil } from "../../test/support/poll_until.ts";
