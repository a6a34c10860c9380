/**
 * Test helpers of the quantize service: a stand-in quantizer the tests drive step by step, a
 * stand-in dataset loader, and multipart forms.
 * @module
 */
import { fileField, jobGate, jsonField, multipartForm } from "../../packages/http/_testing.ts";
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

/** A stand-in quantizer whose runs the test releases one by one. */
export interface ControlledQuantizer {
  /** Pass as `quantize`. */
  readonly quantize: (
    model: Uint8Array,
    recipe: QuantizeRecipe,
    options: QuantizeBytesOptions,
  ) => Promise<QuantizedModel>;
  /** Recipes and options of every call so far. */
  readonly calls: { recipe: QuantizeRecipe; options: QuantizeBytesOptions }[];
  /** Resolves when a call has started (and reported its first progress). */
  started(): Promise<void>;
  /** Lets every running call finish. */
  release(): void;
}

/**
 * Makes a quantizer that reports progress (`quantize`, 3 of 12 tensors) and then waits until
 * released or aborted; aborted, it rejects with the signal's reason.
 *
 * @returns The quantizer and its controls.
 */
export function controlledQuantizer(): ControlledQuantizer {
  const calls: ControlledQuantizer["calls"] = [];
  const gate = jobGate();
  return {
    calls,
    quantize: async (model, recipe, options) => {
      calls.push({ recipe, options });
      options.onProgress?.({ phase: "quantize", done: 3, total: 12, samplesPerSecond: 60 });
      await gate.hold(options.signal);
      return fakeResult(model, recipe);
    },
    started: gate.started,
    release: gate.release,
  };
}

/** Parts of {@linkcode quantizationForm}. */
export interface QuantizationFormParts {
  /** The model's bytes. */
  readonly model?: Uint8Array;
  /** The recipe (stringified unless already a string). */
  readonly recipe?: unknown;
  /** A built-in dataset name, or the bytes of a file. */
  readonly calibration?: string | Uint8Array;
}

/**
 * Builds the multipart form of POST /v1/quantizations.
 *
 * @param parts What to put in it.
 * @returns The form.
 */
export function quantizationForm(parts: QuantizationFormParts): FormData {
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
