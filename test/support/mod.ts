/**
 * Test support shared by the packages, scripts and services of this repository: temporary
 * folders, seeded random data, the silero VAD models and running models in onnxruntime-web
 * through `@modelpress/evaluate`. Helpers that one package alone uses live in that package's
 * `_testing.ts`.
 *
 * Tests import the one file they need by relative path (`../../test/support/temp_dir.ts`), so
 * that a test of the supervisor does not load onnxruntime-web; this module gathers them all.
 *
 * @example
 * ```ts
 * import { readSilero, runModel, sileroFeeds } from "./mod.ts";
 * const outputs = await runModel(await readSilero("v5"), sileroFeeds("v5"));
 * ```
 * @module
 */
export * from "./fake_load_dataset.ts";
export * from "./free_port.ts";
export * from "./is_alive.ts";
export * from "./job_client.ts";
export * from "./poll_until.ts";
export * from "./prng.ts";
export * from "./run_model.ts";
export * from "./serve.ts";
export * from "./silero.ts";
export * from "./temp_dir.ts";
export * from "./service_checks.ts";
