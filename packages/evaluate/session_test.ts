import assert from "node:assert/strict";
import { create } from "@bufbuild/protobuf";
import * as ort from "onnxruntime-web";
import {
  attrInt,
  decodeModel,
  encodeModel,
  makeGraph,
  makeModel,
  makeNode,
  makeTensor,
  makeValueInfo,
  StringStringEntryProtoSchema,
  type TensorProto,
  TensorProto_DataLocation,
  TensorProto_DataType,
} from "@modelpress/onnx";
import { createSession, runSession, Tensor } from "./session.ts";

/** y = x @ w^T + b (Gemm) and z = Relu(y), for x of shape [N, 3]. */
function tinyModel(): Uint8Array {
  const { FLOAT } = TensorProto_DataType;
  const graph = makeGraph("tiny", {
    nodes: [
      makeNode("Gemm", {
        inputs: ["x", "w", "b"],
        outputs: ["y"],
        attributes: { transB: attrInt(1) },
      }),
      makeNode("Relu", { inputs: ["y"], outputs: ["z"] }),
    ],
    initializers: [
      makeTensor("w", new Float32Array([1, 2, 3, -1, 0, 0.5]), { dims: [2, 3] }),
      makeTensor("b", new Float32Array([0.25, -4]), { dims: [2] }),
    ],
    inputs: [makeValueInfo("x", FLOAT, { shape: ["N", 3] })],
    outputs: [
      makeValueInfo("y", FLOAT, { shape: ["N", 2] }),
      makeValueInfo("z", FLOAT, { shape: ["N", 2] }),
    ],
  });
  return encodeModel(makeModel(graph, { opsetImports: [{ version: 13 }], irVersion: 8 }));
}

function input(values: readonly number[]): Tensor {
  return new Tensor("float32", new Float32Array(values), [values.length / 3, 3]);
}

Deno.test("createSession() runs a tiny model built with @modelpress/onnx", async () => {
  const session = await createSession(tinyModel());
  try {
    assert.deepEqual(session.inputNames, ["x"]);
    assert.deepEqual(session.outputNames, ["y", "z"]);
    const { y, z } = await runSession(session, { x: input([1, 1, 1, 2, -1, 4]) });
    assert.deepEqual(y?.dims, [2, 2]);
    // Row 1: [1+2+3+0.25, -1+0+0.5-4]; row 2: [2-2+12+0.25, -2+0+2-4].
    assert.deepEqual(Array.from(y?.data as Float32Array), [6.25, -4.5, 12.25, -4]);
    assert.deepEqual(Array.from(z?.data as Float32Array), [6.25, 0, 12.25, 0]);
  } finally {
    await session.release();
  }
});

Deno.test("createSession() loads the runtime's .mjs and .wasm from node_modules as file URLs", async () => {
  const session = await createSession(tinyModel());
  await session.release();
  const paths = ort.env.wasm.wasmPaths;
  assert.ok(paths !== undefined && typeof paths === "object");
  const expected: Record<string, string> = {
    mjs: "ort-wasm-simd-threaded.mjs",
    wasm: "ort-wasm-simd-threaded.wasm",
  };
  for (const [key, file] of Object.entries(expected)) {
    const url: URL = new URL(String((paths as Record<string, unknown>)[key]));
    assert.equal(url.protocol, "file:");
    assert.ok(url.pathname.includes("/node_modules/"), url.href);
    assert.ok(url.pathname.endsWith(`/onnxruntime-web/dist/${file}`), url.href);
    assert.ok((await Deno.stat(url)).isFile, url.href);
  }
  assert.equal(ort.env.wasm.numThreads, 1);
  assert.equal(ort.env.wasm.proxy, false);
});

Deno.test("createSession() loads external data files handed to it by location", async () => {
  // tinyModel() with initializer w moved to the file 'w.bin' (6 floats, 24 bytes).
  const model = decodeModel(tinyModel());
  const w = model.graph?.initializer.find((t) => t.name === "w") as TensorProto;
  const data = w.rawData.slice();
  assert.equal(data.length, 24);
  w.rawData = new Uint8Array(0);
  w.dataLocation = TensorProto_DataLocation.EXTERNAL;
  w.externalData = [
    create(StringStringEntryProtoSchema, { key: "location", value: "w.bin" }),
    create(StringStringEntryProtoSchema, { key: "length", value: "24" }),
  ];
  const bytes = encodeModel(model);
  await assert.rejects(createSession(bytes), /^Error: Cannot create session: /);
  const session = await createSession(bytes, { externalData: [{ path: "w.bin", data }] });
  try {
    const { y } = await runSession(session, { x: input([1, 1, 1, 2, -1, 4]) });
    assert.deepEqual(Array.from(y?.data as Float32Array), [6.25, -4.5, 12.25, -4]);
  } finally {
    await session.release();
  }
});

Deno.test("createSession() rejects a thread count that is not a positive integer", async () => {
  for (const threads of [0, -1, 1.5, Number.NaN]) {
    await assert.rejects(createSession(tinyModel(), { threads }), RangeError);
  }
  await assert.rejects(createSession(tinyModel(), { executionProviders: [] }), RangeError);
});

Deno.test("createSession() refuses a thread count other than the one the runtime started with", async () => {
  const session = await createSession(tinyModel(), { threads: 1 });
  await session.release();
  await assert.rejects(createSession(tinyModel(), { threads: 2 }), {
    name: "Error",
    message: /^Cannot create session with 2 threads: onnxruntime-web already runs with 1/,
  });
});

Deno.test("createSession() reports bytes that are not a model with the runtime's reason", async () => {
  await assert.rejects(createSession(new Uint8Array([1, 2, 3, 4])), (e: unknown) => {
    assert.ok(e instanceof Error);
    assert.match(e.message, /^Cannot create session: .*protobuf parsing failed/);
    assert.ok(e.cause instanceof Error);
    return true;
  });
});

Deno.test("createSession() reports an execution provider that onnxruntime-web lacks", async () => {
  await assert.rejects(
    createSession(tinyModel(), { executionProviders: ["cuda"] }),
    /^Error: Cannot create session: .*cuda/,
  );
});

const gpuAdapter = "gpu" in navigator ? await navigator.gpu.requestAdapter() : null;

Deno.test({
  name: "createSession() runs the MNIST MLP on the webgpu execution provider like on wasm",
  // Deno's software adapter (llvmpipe) proves correctness here; it is never used for timing.
  ignore: gpuAdapter === null,
  fn: async () => {
    const bytes = await Deno.readFile(
      new URL("../../test/fixtures/mnist_mlp.onnx", import.meta.url),
    );
    const x = new Tensor(
      "float32",
      Float32Array.from({ length: 4 * 784 }, (_, i) => (i % 97) / 97),
      [4, 784],
    );
    const cpu = await createSession(bytes);
    const gpu = await createSession(bytes, { executionProviders: ["webgpu"] });
    try {
      const a = (await runSession(cpu, { input: x })).logits!.data as Float32Array;
      const b = (await runSession(gpu, { input: x })).logits!.data as Float32Array;
      assert.equal(b.length, 40);
      for (let i = 0; i < a.length; i++) {
        assert.ok(Math.abs(a[i]! - b[i]!) <= 1e-3 * Math.max(1, Math.abs(a[i]!)), `logit ${i}`);
      }
    } finally {
      await cpu.release();
      await gpu.release();
    }
  },
});

Deno.test("runSession() computes only the outputs asked for", async () => {
  const session = await createSession(tinyModel());
  try {
    const outputs = await runSession(session, { x: input([1, 1, 1]) }, { outputs: ["z"] });
    assert.deepEqual(Object.keys(outputs), ["z"]);
    assert.deepEqual(Array.from(outputs.z?.data as Float32Array), [6.25, 0]);
  } finally {
    await session.release();
  }
});

Deno.test("runSession() names missing, unknown and misshapen inputs", async () => {
  const session = await createSession(tinyModel());
  try {
    await assert.rejects(runSession(session, {}), {
      name: "TypeError",
      message: "Cannot run session: input 'x' is missing (model inputs: x)",
    });
    await assert.rejects(runSession(session, { x: input([1, 1, 1]), extra: input([1, 1, 1]) }), {
      name: "TypeError",
      message: "Cannot run session: 'extra' is not an input of the model (model inputs: x)",
    });
    await assert.rejects(runSession(session, { x: input([1, 1, 1]) }, { outputs: ["nope"] }), {
      name: "TypeError",
      message: "Cannot run session: 'nope' is not an output of the model (model outputs: y, z)",
    });
    const wrongShape = new Tensor("float32", new Float32Array(4), [1, 4]);
    await assert.rejects(runSession(session, { x: wrongShape }), {
      name: "Error",
      message: /^Cannot run session: .*invalid dimensions/i,
    });
  } finally {
    await session.release();
  }
});

Deno.test("createSession() starts the runtime on 2 WebAssembly threads in a fresh process", async () => {
  // The thread count is fixed once per process, so this runs in a child Deno.
  const root = new URL("../../", import.meta.url);
  const code = `
    import { createSession, runSession, Tensor } from ${
    JSON.stringify(import.meta.resolve("./session.ts"))
  };
    import * as ort from "onnxruntime-web";
    const bytes = Uint8Array.from(${JSON.stringify(Array.from(tinyModel()))});
    // Two sessions at once while the runtime starts: both must come up.
    const [session, other] = await Promise.all([
      createSession(bytes, { threads: 2 }),
      createSession(bytes, { threads: 2 }),
    ]);
    const x = new Tensor("float32", new Float32Array([1, 1, 1]), [1, 3]);
    const { z } = await runSession(session, { x });
    await other.release();
    await session.release();
    console.log(JSON.stringify({ threads: ort.env.wasm.numThreads, z: Array.from(z.data) }));
  `;
  const { code: status, stdout, stderr } = await new Deno.Command(Deno.execPath(), {
    args: ["eval", "--ext=ts", code],
    cwd: root,
    stdout: "piped",
    stderr: "piped",
  }).output();
  const err = new TextDecoder().decode(stderr);
  assert.equal(status, 0, err);
  assert.deepEqual(JSON.parse(new TextDecoder().decode(stdout)), { threads: 2, z: [6.25, 0] });
});
