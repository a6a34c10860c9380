/**
 * Test helpers for the graph-editing modules of this folder: running models in onnxruntime-web
 * (WASM, one thread), the silero VAD models shipped in node_modules, and seeded random data.
 * @module
 */
import * as ort from "onnxruntime-web";
import type { ModelProto } from "./_gen/onnx_pb.ts";
import { decodeModel, encodeModel } from "./codec.ts";

ort.env.wasm.numThreads = 1;
// A URL with a trailing slash: ORT appends file names to it.
ort.env.wasm.wasmPaths = new URL("../../node_modules/onnxruntime-web/dist/", import.meta.url).href;

export { ort };

/** Output data by name. */
export type Outputs = Record<string, ort.Tensor["data"]>;

/** Runs a model once in onnxruntime-web and returns each output's data and dims. */
export async function runOrt(
  model: ModelProto | Uint8Array,
  feeds: Record<string, ort.Tensor>,
): Promise<{ data: Outputs; dims: Record<string, readonly number[]> }> {
  const bytes = model instanceof Uint8Array ? model : encodeModel(model);
  const session = await ort.InferenceSession.create(bytes);
  try {
    const results = await session.run(feeds);
    const data: Outputs = {};
    const dims: Record<string, readonly number[]> = {};
    for (const [name, tensor] of Object.entries(results)) {
      data[name] = tensor.data;
      dims[name] = tensor.dims;
    }
    return { data, dims };
  } finally {
    await session.release();
  }
}

/** The silero VAD model files shipped by @ricky0123/vad-web. */
export type SileroVersion = "legacy" | "v5" | "v6";

/** Reads and decodes a silero VAD model (a fresh copy each call). */
export async function readSilero(version: SileroVersion): Promise<ModelProto> {
  const url = new URL(
    `../../node_modules/@ricky0123/vad-web/dist/silero_vad_${version}.onnx`,
    import.meta.url,
  );
  return decodeModel(await Deno.readFile(url));
}

/** Inputs for a silero model: 512 samples of seeded noise, zero state, 16 kHz. */
export function sileroFeeds(version: SileroVersion): Record<string, ort.Tensor> {
  const input = new ort.Tensor("float32", seededFloats(512, 7, 0.1), [1, 512]);
  const sr = new ort.Tensor("int64", new BigInt64Array([16000n]), []);
  if (version === "legacy") {
    return {
      input,
      sr,
      h: new ort.Tensor("float32", new Float32Array(128), [2, 1, 64]),
      c: new ort.Tensor("float32", new Float32Array(128), [2, 1, 64]),
    };
  }
  return { input, sr, state: new ort.Tensor("float32", new Float32Array(256), [2, 1, 128]) };
}

/** Deterministic pseudo-random floats in [-scale, scale). */
export function seededFloats(count: number, seed: number, scale = 1): Float32Array {
  let s = seed >>> 0;
  const out = new Float32Array(count);
  for (let i = 0; i < count; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    out[i] = ((s / 4294967296) * 2 - 1) * scale;
  }
  return out;
}

/** A float32 ORT tensor of seeded random values. */
export function randomInput(dims: readonly number[], seed: number): ort.Tensor {
  const count = dims.reduce((a, b) => a * b, 1);
  return new ort.Tensor("float32", seededFloats(count, seed), dims);
}
