/**
 * Runs models in onnxruntime-web (WASM, one thread) for tests that must prove a written model
 * still loads and computes the same results, external data included.
 * @module
 */
import * as ort from "onnxruntime-web";

ort.env.wasm.numThreads = 1;
// A URL with a trailing slash: ORT appends file names to it.
ort.env.wasm.wasmPaths = new URL("../../../node_modules/onnxruntime-web/dist/", import.meta.url)
  .href;

/** An external data file handed to onnxruntime-web: the location as written in the model. */
export interface ExternalFile {
  readonly path: string;
  readonly data: Uint8Array;
}

/**
 * Runs model bytes once and returns every output's elements as plain numbers.
 *
 * @param bytes The model.
 * @param feeds Inputs by name.
 * @param externalData External data files the model refers to.
 * @returns Output elements by name.
 */
export async function runModel(
  bytes: Uint8Array,
  feeds: Record<string, ort.Tensor>,
  externalData: readonly ExternalFile[] = [],
): Promise<Record<string, number[]>> {
  const session = await ort.InferenceSession.create(
    bytes,
    externalData.length > 0 ? { externalData: [...externalData] } : {},
  );
  try {
    const results = await session.run(feeds);
    const out: Record<string, number[]> = {};
    for (const [name, tensor] of Object.entries(results)) {
      out[name] = Array.from(tensor.data as ArrayLike<number>, Number);
    }
    return out;
  } finally {
    await session.release();
  }
}

/**
 * Inputs for the silero VAD models: 512 samples of a sine, 16 kHz, zero state.
 *
 * @param version `legacy` (h, c) or `v5` (state).
 * @returns The feeds.
 */
export function sileroFeeds(version: "legacy" | "v5"): Record<string, ort.Tensor> {
  const input = new ort.Tensor(
    "float32",
    Float32Array.from({ length: 512 }, (_, i) => Math.sin(i / 7)),
    [1, 512],
  );
  const sr = new ort.Tensor("int64", BigInt64Array.from([16000n]), []);
  if (version === "v5") {
    return { input, sr, state: new ort.Tensor("float32", new Float32Array(256), [2, 1, 128]) };
  }
  const zeros = (): ort.Tensor => new ort.Tensor("float32", new Float32Array(128), [2, 1, 64]);
  return { input, sr, h: zeros(), c: zeros() };
}

/**
 * Input for {@linkcode runnableModel}: x = 1, 2, ..., 256.
 *
 * @returns The feeds.
 */
export function runnableFeeds(): Record<string, ort.Tensor> {
  return {
    x: new ort.Tensor("float32", Float32Array.from({ length: 256 }, (_, i) => i + 1), [256]),
  };
}
