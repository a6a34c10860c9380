import assert from "node:assert/strict";
import { makeGraph, makeValueInfo, TensorProto_DataType } from "@modelpress/onnx";
import { loadDataset } from "./dataset.ts";
import { DatasetFeedError, datasetFeeds, planDatasetFeeds } from "./dataset_feeds.ts";

Deno.test("datasetFeeds() gathers any samples, scaled, in the model's sample shape", async () => {
  const dataset = {
    ...await loadDataset({ x: [[1, 2, 3, 4], [5, 6, 7, 8], [9, 10, 11, 12]] }),
    preprocess: { multiply: 0.5, offset: 1 },
  };
  const plans = planDatasetFeeds(dataset, [{ name: "in", type: "float32", shape: ["n", 2, 2] }]);
  assert.deepEqual(plans[0]?.sampleShape, [2, 2]);
  const feeds = datasetFeeds(dataset, plans, [2, 0, 2]);
  assert.deepEqual(feeds.in?.dims, [3, 2, 2]);
  assert.deepEqual([...feeds.in!.data as Float32Array], [
    5.5,
    6,
    6.5,
    7,
    1.5,
    2,
    2.5,
    3,
    5.5,
    6,
    6.5,
    7,
  ]);
  assert.throws(() => datasetFeeds(dataset, plans, [3]), RangeError);
});

Deno.test("datasetFeeds() converts to float16, int32 and int64 inputs of a graph", async () => {
  const T = TensorProto_DataType;
  const dataset = await loadDataset({
    a: { dtype: "float32", shape: [2, 2], data: [1, 2, 3, 4] },
    b: { dtype: "int32", shape: [2, 1], data: [7, 8] },
    c: { dtype: "float32", shape: [2, 1], data: [9, 10] },
  });
  const graph = makeGraph("g", {
    inputs: [
      makeValueInfo("a", T.FLOAT16, { shape: ["n", 2] }),
      makeValueInfo("b", T.INT32, { shape: ["n", 1] }),
      makeValueInfo("c", T.INT64, { shape: ["n", 1] }),
    ],
  });
  const feeds = datasetFeeds(dataset, planDatasetFeeds(dataset, graph), [1]);
  assert.equal(feeds.a?.type, "float16");
  assert.deepEqual([...feeds.b!.data as Int32Array], [8]);
  assert.deepEqual([...feeds.c!.data as BigInt64Array], [10n]);
});

Deno.test("planDatasetFeeds() names what does not fit", async () => {
  const dataset = await loadDataset({ x: [[1, 2, 3]], z: [[1]] });
  assert.throws(
    () => planDatasetFeeds(dataset, [{ name: "x", type: "float32", shape: [1, 4] }]),
    (e: unknown) =>
      e instanceof DatasetFeedError && e instanceof TypeError &&
      /input 'x' takes samples of \[4\] \(4 values\), dataset array 'x' has samples of \[3\]/
        .test(e.message),
  );
  assert.throws(
    () => planDatasetFeeds(dataset, [{ name: "x", type: "float32", shape: null }]),
    /dataset arrays 'z' match no model input/,
  );
  assert.throws(
    () => planDatasetFeeds(dataset, [{ name: "x", type: "string", shape: null }]),
    /element type string/,
  );
});
