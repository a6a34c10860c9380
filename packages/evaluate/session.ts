/**
 * onnxruntime-web inference sessions that work under Deno without a network.
 *
 * Deno loads the Node.js build of onnxruntime-web (`dist/ort.node.min.mjs`): it registers the
 * `wasm` (alias `cpu`) execution provider only, treats Deno as Node.js (files are read with
 * `node:fs`, WebAssembly threads are `node:worker_threads` workers) and needs no proxy worker.
 * This module points `env.wasm.wasmPaths` at the `.mjs`/`.wasm` pair in the local node_modules
 * (file URLs), turns the proxy off and fixes the thread count, all before the runtime starts.
 * @module
 */
import * as ort from "onnxruntime-web";

/** A loaded model, ready to run (an onnxruntime-web `InferenceSession`). */
export type Session = ort.InferenceSession;

/** Named input or output tensors of a {@link Session}. */
export type TensorMap = Record<string, ort.Tensor>;

/**
 * The onnxruntime-web tensor class; tensors fed to {@link runSession} must be made with it.
 *
 * @example
 * ```ts
 * import { Tensor } from "@modelpress/evaluate";
 * const x = new Tensor("float32", new Float32Array(784), [1, 784]);
 * ```
 */
export const Tensor: typeof ort.Tensor = ort.Tensor;
/** An onnxruntime-web tensor (instance type of {@link Tensor}). */
export type Tensor = ort.Tensor;

/** Options of {@link createSession}. */
export interface CreateSessionOptions {
  /**
   * WebAssembly threads of onnxruntime-web (default 1). The runtime starts once per process with
   * the thread count of the first session; a later session asking for another count is refused.
   * One thread keeps results bitwise reproducible; more threads work in Deno (worker_threads).
   */
  readonly threads?: number;
  /**
   * Execution providers in order of preference (default `["wasm"]`): `wasm` (alias `cpu`), or
   * `webgpu`, which loads onnxruntime-web's WebGPU build on first use and needs `navigator.gpu`
   * (a real GPU for speed; Deno's software adapter works but only proves correctness).
   */
  readonly executionProviders?: readonly string[];
  /**
   * Files holding the model's external tensor data (default none), by the `location` the model
   * names them with; a model with external data cannot load without them.
   */
  readonly externalData?: readonly ExternalDataFile[];
}

/** An external data file of a model, handed to {@link createSession} by its location. */
export interface ExternalDataFile {
  /** The location as written in the model's external-data entries, such as `model.onnx.data`. */
  readonly path: string;
  /** The file's bytes. */
  readonly data: Uint8Array;
}

/** Options of {@link runSession}. */
export interface RunSessionOptions {
  /** Names of the outputs to compute (default: every output of the model). */
  readonly outputs?: readonly string[];
}

const DEFAULT_THREADS = 1;
const DEFAULT_EXECUTION_PROVIDERS: readonly string[] = Object.freeze(["wasm"]);

/** Thread count that the runtime was configured with; undefined until the first session. */
let runtimeThreads: number | undefined;

type OrtModule = typeof ort;

/**
 * onnxruntime-web's WebGPU build (its "jsep" WebAssembly), loaded on first use: the default
 * build that Deno resolves has no WebGPU execution provider. It is a separate module instance
 * with its own Tensor class, so {@linkcode runSession} rewraps feeds for its sessions.
 */
let webgpuRuntime: Promise<OrtModule> | undefined;

/** Which runtime module made each session (only WebGPU sessions are recorded). */
const sessionRuntimes = new WeakMap<Session, OrtModule>();

function loadWebgpuRuntime(threads: number): Promise<OrtModule> {
  webgpuRuntime ??= import("onnxruntime-web/webgpu").then((mod) => {
    const m = mod as unknown as OrtModule;
    // A folder prefix: given explicit file URLs, this build fails to start its WebGPU backend
    // ("webgpuInit is not a function"); given the folder, it picks its own jsep files.
    m.env.wasm.wasmPaths =
      new URL(".", resolveRuntimeFile("ort-wasm-simd-threaded.jsep.wasm")).href;
    m.env.wasm.numThreads = threads;
    m.env.wasm.proxy = false;
    return m;
  });
  return webgpuRuntime;
}

/**
 * Resolves a file of the onnxruntime-web package to a `file:` URL in the local node_modules.
 *
 * @param file A path exported by the package, such as `ort-wasm-simd-threaded.wasm`.
 * @returns The file's URL.
 */
function resolveRuntimeFile(file: string): URL {
  const url = new URL(import.meta.resolve(`onnxruntime-web/${file}`));
  if (url.protocol !== "file:") {
    throw new Error(
      `Cannot locate onnxruntime-web's ${file}: it resolved to ${url.href}, not to a file; ` +
        `set "nodeModulesDir" in deno.json and run \`deno install\``,
    );
  }
  return url;
}

/**
 * Configures onnxruntime-web's process-wide WebAssembly settings once.
 *
 * @param threads The thread count asked for.
 */
function configureRuntime(threads: number): void {
  if (runtimeThreads !== undefined) {
    if (threads !== runtimeThreads) {
      throw new Error(
        `Cannot create session with ${threads} threads: onnxruntime-web already runs with ` +
          `${runtimeThreads} in this process`,
      );
    }
    return;
  }
  ort.env.wasm.wasmPaths = {
    mjs: resolveRuntimeFile("ort-wasm-simd-threaded.mjs"),
    wasm: resolveRuntimeFile("ort-wasm-simd-threaded.wasm"),
  };
  ort.env.wasm.numThreads = threads;
  ort.env.wasm.proxy = false;
  runtimeThreads = threads;
}

/**
 * Creates an onnxruntime-web session for a serialized ONNX model, loading the runtime's
 * WebAssembly from the local node_modules (no network).
 *
 * @param modelBytes The serialized model (an `.onnx` file's bytes); it is copied.
 * @param options Threads, execution providers and external data files.
 * @returns The session; call `release()` on it when done.
 * @throws {RangeError} When `threads` is not a positive integer.
 * @throws {Error} When the runtime already runs with another thread count, or cannot load the
 * model (the runtime's error is the `cause`).
 * @example
 * ```ts
 * import { createSession, runSession, Tensor } from "@modelpress/evaluate";
 * const session = await createSession(await Deno.readFile("test/fixtures/mnist_mlp.onnx"));
 * const { logits } = await runSession(session, {
 *   input: new Tensor("float32", new Float32Array(784), [1, 784]),
 * });
 * await session.release();
 * ```
 */
export async function createSession(
  modelBytes: Uint8Array,
  options: CreateSessionOptions = {},
): Promise<Session> {
  const threads = options.threads ?? DEFAULT_THREADS;
  if (!Number.isInteger(threads) || threads < 1) {
    throw new RangeError(
      `Cannot create session: threads must be a positive integer, got ${threads}`,
    );
  }
  const executionProviders = [...(options.executionProviders ?? DEFAULT_EXECUTION_PROVIDERS)];
  if (executionProviders.length === 0) {
    throw new RangeError("Cannot create session: executionProviders is empty");
  }
  const { externalData } = options;
  configureRuntime(threads);
  const webgpu = executionProviders.includes("webgpu");
  if (webgpu && !("gpu" in navigator)) {
    throw new Error("Cannot create session: the webgpu execution provider needs navigator.gpu");
  }
  try {
    const runtime = webgpu ? await loadWebgpuRuntime(threads) : ort;
    const session = await runtime.InferenceSession.create(
      modelBytes,
      externalData ? { executionProviders, externalData } : { executionProviders },
    );
    if (runtime !== ort) sessionRuntimes.set(session, runtime);
    return session;
  } catch (e) {
    const reason = e instanceof Error ? e.message : String(e);
    throw new Error(`Cannot create session: ${reason}`, { cause: e });
  }
}

/**
 * Runs a session on named inputs after checking that the names match the model's inputs.
 *
 * @param session A session from {@link createSession}.
 * @param feeds One tensor per model input, by input name.
 * @param options Which outputs to compute.
 * @returns The outputs by name.
 * @throws {TypeError} When an input is missing, a feed or output name is unknown.
 * @throws {Error} When the runtime fails (wrong shape or type; the runtime's error is the
 * `cause`).
 * @example
 * ```ts
 * import { createSession, runSession, Tensor } from "@modelpress/evaluate";
 * const session = await createSession(await Deno.readFile("test/fixtures/mnist_cnn.onnx"));
 * const outputs = await runSession(session, {
 *   input: new Tensor("float32", new Float32Array(784), [1, 1, 28, 28]),
 * });
 * console.log(outputs.logits?.dims); // [1, 10]
 * await session.release();
 * ```
 */
export async function runSession(
  session: Session,
  feeds: TensorMap,
  options: RunSessionOptions = {},
): Promise<TensorMap> {
  const inputs = session.inputNames;
  for (const name of inputs) {
    if (!Object.hasOwn(feeds, name)) {
      throw new TypeError(
        `Cannot run session: input '${name}' is missing (model inputs: ${inputs.join(", ")})`,
      );
    }
  }
  for (const name of Object.keys(feeds)) {
    if (!inputs.includes(name)) {
      throw new TypeError(
        `Cannot run session: '${name}' is not an input of the model (model inputs: ${
          inputs.join(", ")
        })`,
      );
    }
  }
  const outputs = options.outputs ?? session.outputNames;
  for (const name of outputs) {
    if (!session.outputNames.includes(name)) {
      throw new TypeError(
        `Cannot run session: '${name}' is not an output of the model (model outputs: ${
          session.outputNames.join(", ")
        })`,
      );
    }
  }
  const runtime = sessionRuntimes.get(session);
  if (runtime !== undefined) {
    // The WebGPU build checks feeds against its own Tensor class.
    const own: Record<string, ort.Tensor> = {};
    for (const [name, t] of Object.entries(feeds)) {
      own[name] = t instanceof runtime.Tensor
        ? t
        : new runtime.Tensor(t.type, t.data as Float32Array, t.dims);
    }
    feeds = own;
  }
  try {
    return { ...(await session.run(feeds, [...outputs])) };
  } catch (e) {
    const reason = e instanceof Error ? e.message : String(e);
    throw new Error(`Cannot run session: ${reason}`, { cause: e });
  }
}
