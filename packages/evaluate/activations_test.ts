import assert from "node:assert/strict";
import {
  attrInt,
  encodeModel,
  makeGraph,
  makeModel,
  makeNode,
  makeTensor,
  makeValueInfo,
  type ModelProto,
  TensorProto_DataType as T,
} from "@modelpress/onnx";
import type { Dataset } from "./dataset.ts";
import { DatasetFeedError } from "./dataset_feeds.ts";
import { createSession, runSession, Tensor } from "./session.ts";
import {
  type ActivationBatch,
  ExposeTensorError,
  exposeTensors,
  streamActivations,
} from "./activations.ts";

/**
 * x [n, 2] -> Mul by 3 -> m -> Relu -> r -> Add 1 -> y (the output); and Cast(r) -> ri (int32),
 * a dead end that is no output.
 */
function model(extra: ReturnType<typeof makeNode>[] = []): ModelProto {
  const graph = makeGraph("g", {
    nodes: [
      makeNode("Mul", { inputs: ["x", "three"], outputs: ["m"], name: "mul" }),
      makeNode("Relu", { inputs: ["m"], outputs: ["r"], name: "relu" }),
      makeNode("Add", { inputs: ["r", "one"], outputs: ["y"], name: "add" }),
      makeNode("Cast", {
        inputs: ["r"],
        outputs: ["ri"],
        name: "cast",
        attributes: { to: attrInt(T.INT32) },
      }),
      ...extra,
    ],
    inputs: [makeValueInfo("x", T.FLOAT, { shape: ["n", 2] })],
    outputs: [makeValueInfo("y", T.FLOAT, { shape: ["n", 2] })],
    initializers: [
      makeTensor("three", new Float32Array([3]), { dims: [] }),
      makeTensor("one", new Float32Array([1]), { dims: [] }),
    ],
  });
  return makeModel(graph, { opsetImports: [{ domain: "", version: 13 }] });
}

/** Sample i is [i - 4, (i - 4) / 2]: distinct per sample, negative for the first ones. */
function dataset(count: number): Dataset {
  const data = new Float32Array(count * 2);
  for (let i = 0; i < count; i++) {
    data[2 * i] = i - 4;
    data[2 * i + 1] = (i - 4) / 2;
  }
  return { name: "ramp", count, inputs: { x: { dtype: "float32", shape: [count, 2], data } } };
}

Deno.test("exposeTensors() adds inner tensors as typed outputs of a copy that runs", async () => {
  const original = model();
  const before = encodeModel(original);
  const exposed = exposeTensors(original, ["r", "x", "y", "ri", "r"]);
  assert.deepEqual(encodeModel(original), before, "the model is not changed");
  const outputs = exposed.graph!.output;
  assert.deepEqual(outputs.map((o) => o.name), ["y", "r", "ri"]);
  const elemType = (i: number): unknown =>
    outputs[i]!.type?.value.case === "tensorType" ? outputs[i]!.type.value.value.elemType : 0;
  assert.equal(elemType(1), T.FLOAT);
  assert.equal(elemType(2), T.INT32, "typed by inference, not assumed float");
  const session = await createSession(encodeModel(exposed));
  try {
    const x = new Tensor("float32", new Float32Array([-1, 2, 0.5, -3]), [2, 2]);
    const out = await runSession(session, { x }, { outputs: ["r", "ri"] });
    assert.deepEqual([...out.r!.data as Float32Array], [0, 6, 1.5, 0]);
    assert.deepEqual([...out.ri!.data as Int32Array], [0, 6, 1, 0]);
  } finally {
    await session.release();
  }
});

Deno.test("exposeTensors() refuses unknown tensors, non-float ones with floatOnly, no graph", () => {
  assert.throws(
    () => exposeTensors(model(), ["m", "nope"]),
    (e: unknown) =>
      e instanceof ExposeTensorError && e instanceof TypeError && e.tensor === "nope" &&
      e.reason === "no node of the main graph makes it" &&
      e.message === "Cannot expose tensor 'nope': no node of the main graph makes it",
  );
  assert.throws(
    () => exposeTensors(model(), ["three"]),
    /Cannot expose tensor 'three': no node of the main graph makes it/,
  );
  assert.throws(
    () => exposeTensors(model(), ["m", "ri"], { floatOnly: true }),
    (e: unknown) =>
      e instanceof ExposeTensorError && e.tensor === "ri" && e.reason === "it is not float",
  );
  assert.equal(exposeTensors(model(), ["x", "m"], { floatOnly: true }).graph?.output.length, 2);
  const ids = makeModel(
    makeGraph("g", { inputs: [makeValueInfo("ids", T.INT64, { shape: [1] })] }),
  );
  assert.equal(exposeTensors(ids, ["ids"]).graph?.output.length, 0);
  assert.throws(
    () => exposeTensors(ids, ["ids"], { floatOnly: true }),
    (e: unknown) => e instanceof ExposeTensorError && e.reason === "it is not float",
  );
  const { graph: _, ...noGraph } = model();
  assert.throws(
    () => exposeTensors(noGraph as ModelProto, ["x"]),
    /Cannot expose tensors: the model has no graph/,
  );
});

Deno.test("streamActivations() spreads samples evenly, in batches, with each tensor's values", async () => {
  const data = { ...dataset(10), preprocess: { multiply: 2, offset: 0 } };
  const batches: ActivationBatch[] = [];
  const starts: number[] = [];
  const result = await streamActivations(model(), data, {
    tensors: ["x", "r", "ri", "x"],
    samples: 4,
    batchSize: 3,
    onStart: (total) => starts.push(total),
    onBatch: (batch) => {
      batches.push(batch);
    },
  });
  assert.deepEqual(result, { samples: 4, batches: 2 });
  assert.deepEqual(starts, [4]);
  assert.deepEqual(batches.map((b) => b.sampleIndices), [[0, 2, 5], [7]]);
  assert.deepEqual(batches.map((b) => [b.start, b.done, b.total]), [[0, 3, 4], [3, 4, 4]]);
  const picked = [0, 2, 5, 7];
  const xs = picked.flatMap((i) => [2 * (i - 4), i - 4]);
  const rs = xs.map((v) => Math.max(0, 3 * v));
  const values = (name: string): number[] =>
    batches.flatMap((b) => [...b.tensors[name]!.data as Float32Array]);
  assert.deepEqual(Object.keys(batches[0]!.tensors).sort(), ["r", "ri", "x"]);
  assert.deepEqual(values("x"), xs, "graph inputs are the preprocessed feeds");
  assert.deepEqual(values("r"), rs);
  assert.deepEqual(values("ri"), rs);
  assert.equal(batches[0]!.tensors.ri!.type, "int32");
  assert.deepEqual(batches[1]!.tensors.r!.dims, [1, 2]);
});

Deno.test("streamActivations() runs all samples by default and loads no model for inputs only", async () => {
  // An op no runtime knows: creating a session would fail, so none may be made.
  const broken = model([makeNode("NoSuchOp", { inputs: ["y"], outputs: ["z"], name: "bad" })]);
  const seen: number[][] = [];
  const result = await streamActivations(broken, dataset(5), {
    tensors: ["x"],
    batchSize: 2,
    onBatch: ({ sampleIndices }) => {
      seen.push([...sampleIndices]);
    },
  });
  assert.deepEqual(result, { samples: 5, batches: 3 });
  assert.deepEqual(seen, [[0, 1], [2, 3], [4]]);
  await assert.rejects(
    streamActivations(broken, dataset(5), { tensors: ["r"], onBatch: () => {} }),
    /Cannot create session/,
  );
});

Deno.test("streamActivations() cancels between batches, stops on a callback error, checks options", async () => {
  const controller = new AbortController();
  const done: number[] = [];
  await assert.rejects(
    streamActivations(model(), dataset(10), {
      tensors: ["r"],
      batchSize: 2,
      signal: controller.signal,
      onBatch: async (batch) => {
        await Promise.resolve();
        done.push(batch.done);
        if (batch.done === 4) controller.abort();
      },
    }),
    (e: Error) => e.name === "AbortError",
  );
  assert.deepEqual(done, [2, 4]);
  let calls = 0;
  await assert.rejects(
    streamActivations(model(), dataset(10), {
      tensors: ["r"],
      batchSize: 2,
      onBatch: () => {
        calls++;
        throw new Error("full");
      },
    }),
    /full/,
  );
  assert.equal(calls, 1);
  await assert.rejects(
    streamActivations(model(), dataset(10), { tensors: ["r"], batchSize: 0, onBatch: () => {} }),
    /Cannot stream activations: batchSize must be a positive integer, got 0/,
  );
  await assert.rejects(
    streamActivations(model(), dataset(10), { tensors: ["r"], samples: 1.5, onBatch: () => {} }),
    RangeError,
  );
  await assert.rejects(
    streamActivations(model(), dataset(10), { tensors: ["nope"], onBatch: () => {} }),
    ExposeTensorError,
  );
  const wide: Dataset = {
    name: "wide",
    count: 2,
    inputs: { x: { dtype: "float32", shape: [2, 3], data: new Float32Array(6) } },
  };
  await assert.rejects(
    streamActivations(model(), wide, { tensors: ["r"], onBatch: () => {} }),
    DatasetFeedError,
  );
});
