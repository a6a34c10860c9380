/**
 * Runs a model once through `@modelpress/evaluate`'s onnxruntime-web sessions, for tests that
 * must show a built, edited or written model still loads and computes the same results.
 * @module
 */
import { encodeModel, type ModelProto } from "@modelpress/onnx";
import {
  createSession,
  type CreateSessionOptions,
  runSession,
  Tensor,
  type TensorMap,
} from "@modelpress/evaluate";
import { seededFloats } from "./prng.ts";

/** One output of {@link runModel}: plain data, so that `assert.deepEqual` compares all of it. */
export interface ModelOutput {
  /** The element type, such as `float32`. */
  readonly type: Tensor["type"];
  /** The dims. */
  readonly dims: readonly number[];
  /** The elements. */
  readonly data: Tensor["data"];
}

/** The outputs of {@link runModel} by name. */
export type ModelOutputs = Record<string, ModelOutput>;

/**
 * Runs a model once on the given inputs and returns every output.
 *
 * @param model The model, or its serialized bytes.
 * @param feeds One tensor per model input, by name.
 * @param options Session options, such as external data files.
 * @returns Every output of the model by name.
 * @example
 * ```ts
 * import { float32Input, runModel } from "./run_model.ts";
 * const bytes = await Deno.readFile("test/fixtures/mnist_mlp.onnx");
 * const { logits } = await runModel(bytes, { input: float32Input(new Array(784).fill(0), [1, 784]) });
 * ```
 */
export async function runModel(
  model: ModelProto | Uint8Array,
  feeds: TensorMap,
  options: CreateSessionOptions = {},
): Promise<ModelOutputs> {
  const bytes = model instanceof Uint8Array ? model : encodeModel(model);
  const session = await createSession(bytes, options);
  try {
    const outputs: ModelOutputs = {};
    for (const [name, { type, dims, data }] of Object.entries(await runSession(session, feeds))) {
      outputs[name] = { type, dims, data };
    }
    return outputs;
  } finally {
    await session.release();
  }
}

/**
 * A float32 input tensor.
 *
 * @param data The elements.
 * @param dims The dims.
 * @returns The tensor.
 * @example
 * ```ts
 * import { float32Input } from "./run_model.ts";
 * const x = float32Input([1, 2, 3, 4], [2, 2]);
 * ```
 */
export function float32Input(data: ArrayLike<number>, dims: readonly number[]): Tensor {
  return new Tensor("float32", Float32Array.from(data), dims);
}

/**
 * A float32 input tensor of seeded values in [-1, 1).
 *
 * @param dims The dims.
 * @param seed The seed.
 * @returns The tensor.
 * @example
 * ```ts
 * import { randomInput } from "./run_model.ts";
 * const x = randomInput([1, 3, 8, 8], 1);
 * ```
 */
export function randomInput(dims: readonly number[], seed: number): Tensor {
  return new Tensor("float32", seededFloats(dims.reduce((a, b) => a * b, 1), seed), dims);
}
