/**
 * The silero VAD models that `@ricky0123/vad-web` ships in node_modules (real models, no network
 * needed), and inputs for them.
 * @module
 */
import { fileURLToPath } from "node:url";
import { decodeModel, type ModelProto } from "@modelpress/onnx";
import { Tensor, type TensorMap } from "@modelpress/evaluate";
import { mulberry32 } from "./prng.ts";

/** The versions of the silero VAD model in `@ricky0123/vad-web`. */
export const SILERO_VERSIONS = ["legacy", "v5", "v6"] as const;

/**
 * A silero VAD version: `legacy` (pytorch export: 69 main-graph initializers, recurrent state in
 * inputs `h` and `c`), `v5` and `v6` (every weight a Constant inside If subgraphs, one `state`).
 */
export type SileroVersion = typeof SILERO_VERSIONS[number];

/** Samples in one chunk of audio fed to a silero model at 16 kHz. */
const CHUNK = 512;

/** Options of {@link sileroFeeds}. */
export interface SileroFeedsOptions {
  /** Which chunk of the audio to feed (default 0): chunk n follows chunk n - 1. */
  readonly chunk?: number;
}

/**
 * The path of a silero model file.
 *
 * @param version The version.
 * @returns The file path.
 * @example
 * ```ts
 * import { sileroPath } from "./silero.ts";
 * const bytes = await Deno.readFile(sileroPath("v5"));
 * ```
 */
export function sileroPath(version: SileroVersion): string {
  return fileURLToPath(
    new URL(
      `../../node_modules/@ricky0123/vad-web/dist/silero_vad_${version}.onnx`,
      import.meta.url,
    ),
  );
}

/**
 * Reads and decodes a silero model (a fresh copy each call).
 *
 * @param version The version.
 * @returns The model.
 * @example
 * ```ts
 * import { readSilero } from "./silero.ts";
 * const model = await readSilero("legacy");
 * ```
 */
export async function readSilero(version: SileroVersion): Promise<ModelProto> {
  return decodeModel(await Deno.readFile(sileroPath(version)));
}

/**
 * One chunk of deterministic audio: a 440 Hz tone, continuous from chunk to chunk, plus seeded
 * noise, so that the model sees neither silence nor a pure tone.
 *
 * @param chunk The chunk's index.
 * @returns {@link CHUNK} samples.
 */
function audio(chunk: number): Float32Array {
  const noise = mulberry32(0x5eed + chunk);
  return Float32Array.from({ length: CHUNK }, (_, i) => {
    const t = (chunk * CHUNK + i) / 16000;
    return 0.3 * Math.sin(2 * Math.PI * 440 * t) + 0.05 * (noise() - 0.5);
  });
}

/**
 * Inputs for a silero model: a chunk of 512 samples of deterministic audio (a 440 Hz tone plus
 * seeded noise) at 16 kHz, and a zero recurrent state.
 *
 * @param version The version (it decides the state's inputs).
 * @param options Which chunk.
 * @returns The feeds.
 * @example
 * ```ts
 * import { sileroFeeds } from "./silero.ts";
 * const feeds = sileroFeeds("legacy");
 * ```
 */
export function sileroFeeds(version: SileroVersion, options: SileroFeedsOptions = {}): TensorMap {
  const input = new Tensor("float32", audio(options.chunk ?? 0), [1, CHUNK]);
  const sr = new Tensor("int64", BigInt64Array.of(16000n), []);
  if (version === "legacy") {
    const zeros = (): Tensor => new Tensor("float32", new Float32Array(2 * 64), [2, 1, 64]);
    return { input, sr, h: zeros(), c: zeros() };
  }
  return { input, sr, state: new Tensor("float32", new Float32Array(2 * 128), [2, 1, 128]) };
}
