/**
 * One quantization from bytes to bytes: what a worker of the quantize service runs.
 * @module
 */
import type { Dataset } from "@modelpress/evaluate";
import type { ProgressUpdate } from "@modelpress/http";
import { decodeModel, encodeModel } from "@modelpress/onnx";
import { type QuantizationReport, quantizeModel, type QuantizeRecipe } from "@modelpress/quantize";

/** Options of {@linkcode quantizeBytes}. */
export interface QuantizeBytesOptions {
  /** `static`: the data to calibrate on. */
  readonly dataset?: Dataset;
  /** Cancels the calibration between batches (a worker is cancelled by terminating it). */
  readonly signal?: AbortSignal;
  /** Progress: phase `calibration` in samples, then `quantize` in tensors or nodes. */
  readonly onProgress?: (update: ProgressUpdate) => void;
}

/** A quantized model and its report. */
export interface QuantizedModel {
  /** The serialized quantized model. */
  readonly model: Uint8Array;
  /** What was done. */
  readonly report: QuantizationReport;
}

/**
 * Decodes a model, quantizes it with `quantizeModel` of `@modelpress/quantize`, and encodes it.
 *
 * @param model The serialized ONNX model.
 * @param recipe The recipe (validated again by `quantizeModel`).
 * @param options Calibration data, signal, progress.
 * @returns The quantized model's bytes and the report.
 * @throws {OnnxParseError} When the bytes are not an ONNX model.
 * @example
 * ```ts
 * import { quantizeBytes } from "./quantize_bytes.ts";
 * const bytes = await Deno.readFile("test/fixtures/mnist_mlp.onnx");
 * const { model, report } = await quantizeBytes(bytes, { method: "dynamic" });
 * console.log(model.length, report.size.ratio);
 * ```
 */
export async function quantizeBytes(
  model: Uint8Array,
  recipe: QuantizeRecipe,
  options: QuantizeBytesOptions = {},
): Promise<QuantizedModel> {
  const { onProgress } = options;
  const phases = new Map<string, number>();
  const report = (phase: string, done: number, total: number): void => {
    if (onProgress === undefined) return;
    const now = performance.now();
    const start = phases.get(phase) ?? now;
    phases.set(phase, start);
    const seconds = (now - start) / 1000;
    onProgress({ phase, done, total, samplesPerSecond: seconds > 0 ? done / seconds : 0 });
  };
  const proto = decodeModel(model);
  const { report: result } = await quantizeModel(proto, recipe, {
    ...(options.dataset && { dataset: options.dataset }),
    ...(options.signal && { signal: options.signal }),
    onProgress: (done, total) => report("quantize", done, total),
    onCalibrationProgress: ({ done, total }) => report("calibration", done, total),
  });
  return { model: encodeModel(proto), report: result };
}
