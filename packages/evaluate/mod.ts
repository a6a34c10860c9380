/**
 * `@modelpress/evaluate`: datasets, sessions and metrics.
 *
 * @example
 * ```ts
 * import { createSession, loadMnist, runSession, Tensor } from "@modelpress/evaluate";
 * const test = await loadMnist({ split: "test" });
 * const session = await createSession(await Deno.readFile("test/fixtures/mnist_mlp.onnx"));
 * const { logits } = await runSession(session, {
 *   input: new Tensor("float32", test.images, [test.count, 784]),
 * });
 * await session.release();
 * ```
 * @module
 */
export * from "./mnist.ts";
export * from "./session.ts";
