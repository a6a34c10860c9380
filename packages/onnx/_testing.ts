/**
 * Test helpers for this folder: running models in onnxruntime-web (WASM, one thread).
 * @module
 */
import * as ort from "onnxruntime-web";

ort.env.wasm.numThreads = 1;
// A URL with a trailing slash: ORT appends file names to it (import.meta.resolve drops the slash).
ort.env.wasm.wasmPaths = new URL("../../node_modules/onnxruntime-web/dist/", import.meta.url).href;

/** Runs model bytes once in onnxruntime-web and returns each output's data. */
export async function runModel(
  bytes: Uint8Array,
  feeds: Record<string, ort.Tensor>,
  options: ort.InferenceSession.SessionOptions = {},
): Promise<Record<string, ort.Tensor["data"]>> {
  const session = await ort.InferenceSession.create(bytes, options);
  try {
    const results = await session.run(feeds);
    const out: Record<string, ort.Tensor["data"]> = {};
    for (const [name, tensor] of Object.entries(results)) out[name] = tensor.data;
    return out;
  } finally {
    await session.release();
  }
}

/** Makes a float32 input tensor. */
export function float32Input(data: readonly number[], dims: readonly number[]): ort.Tensor {
  return new ort.Tensor("float32", Float32Array.from(data), dims);
}

/** Makes an input tensor of any type ORT knows. */
export function input(
  type: ort.Tensor.Type,
  data: ort.Tensor.DataType,
  dims: readonly number[],
): ort.Tensor {
  return new ort.Tensor(type, data, dims);
}
