import assert from "node:assert/strict";
import { loadDataset } from "./dataset.ts";
import { littleEndianBytes, npyBytes, zipBytes } from "./_testing.ts";

function npz(): Uint8Array {
  const f4 = (shape: string, values: number[]): Uint8Array =>
    npyBytes(
      `{'descr': '<f4', 'fortran_order': False, 'shape': ${shape}, }`,
      littleEndianBytes(new Float32Array(values)),
    );
  return zipBytes([
    { name: "x.npy", data: f4("(2, 2)", [1, 2, 3, 4]) },
    { name: "mask.npy", data: f4("(2,)", [1, 0]) },
    {
      name: "y.npy",
      data: npyBytes(
        "{'descr': '<i8', 'fortran_order': False, 'shape': (2,), }",
        littleEndianBytes(new BigInt64Array([1n, 0n])),
      ),
    },
  ]);
}

Deno.test("loadDataset() loads the built-in mnist test split by default, train on request", async () => {
  const test = await loadDataset("mnist");
  assert.equal(test.name, "mnist");
  assert.equal(test.count, 2000);
  assert.deepEqual(Object.keys(test.inputs), ["images"]);
  assert.deepEqual(test.inputs.images?.shape, [2000, 784]);
  assert.deepEqual(test.labels?.shape, [2000]);
  assert.equal((await loadDataset("mnist", { split: "train" })).count, 8000);
});

Deno.test("loadDataset() sniffs NPZ bytes, takes y as labels and the rest as inputs", async () => {
  const ds = await loadDataset(npz());
  assert.equal(ds.name, "npz");
  assert.equal(ds.count, 2);
  assert.deepEqual(Object.keys(ds.inputs), ["x", "mask"]);
  assert.equal(ds.labels?.dtype, "int64");
});

Deno.test("loadDataset() maps arrays to model inputs by name, and labels by option", async () => {
  const ds = await loadDataset(npz(), { inputs: { input: "x" }, labels: "y", name: "upload.npz" });
  assert.equal(ds.name, "upload.npz");
  assert.deepEqual(Object.keys(ds.inputs), ["input"]);
  assert.deepEqual(Array.from(ds.inputs.input?.data as Float32Array), [1, 2, 3, 4]);
  const none = await loadDataset(npz(), { inputs: ["x", "y"], labels: false });
  assert.deepEqual(Object.keys(none.inputs), ["x", "y"]);
  assert.equal(none.labels, undefined);
});

Deno.test("loadDataset() reads NPY bytes as the single input x without labels", async () => {
  const bytes = npyBytes(
    "{'descr': '<u1', 'fortran_order': False, 'shape': (3, 1), }",
    new Uint8Array([1, 2, 3]),
  );
  const ds = await loadDataset(bytes);
  assert.deepEqual(Object.keys(ds.inputs), ["x"]);
  assert.equal(ds.count, 3);
  assert.equal(ds.labels, undefined);
});

Deno.test("loadDataset() reads JSON datasets, nested and explicit, as bytes or values", async () => {
  const json = {
    x: [[0, 1], [1, 0], [0.5, 0.5]],
    ids: { dtype: "int64", shape: [3, 1], data: [7, 8, 9] },
    labels: [1, 0, 1],
  } as const;
  for (const source of [json, new TextEncoder().encode(JSON.stringify(json))]) {
    const ds = await loadDataset(source);
    assert.equal(ds.count, 3);
    assert.equal(ds.inputs.x?.dtype, "float32");
    assert.deepEqual(ds.inputs.x?.shape, [3, 2]);
    assert.equal(ds.inputs.ids?.dtype, "int64");
    assert.deepEqual(Array.from(ds.inputs.ids?.data as BigInt64Array), [7n, 8n, 9n]);
    assert.equal(ds.labels?.dtype, "int32");
  }
});

Deno.test("loadDataset() records frozen preprocessing", async () => {
  const ds = await loadDataset("mnist", {
    preprocess: { multiply: 2, offset: -1, sampleShape: [1, 28, 28] },
  });
  assert.deepEqual(ds.preprocess, { multiply: 2, offset: -1, sampleShape: [1, 28, 28] });
  assert.ok(Object.isFrozen(ds.preprocess));
});

Deno.test("loadDataset() names what is wrong with bad input", async () => {
  const cases: [() => Promise<unknown>, ErrorConstructor | TypeErrorConstructor, RegExp][] = [
    [() => loadDataset("cifar" as "mnist"), TypeError, /"cifar" is not a built-in dataset/],
    [() => loadDataset(new TextEncoder().encode("hello")), SyntaxError, /neither NPZ/],
    [() => loadDataset(new TextEncoder().encode("{oops")), SyntaxError, /not valid JSON/],
    [
      () => loadDataset(npz(), { labels: "z" }),
      TypeError,
      /label array 'z' is not in the dataset \(arrays: x, mask, y\)/,
    ],
    [() => loadDataset(npz(), { inputs: { input: "q" } }), TypeError, /input array 'q'/],
    [() => loadDataset({ x: [[1, 2], [3]] }), RangeError, /'x' is not rectangular/],
    [
      () => loadDataset({ x: [[1, 2]], labels: [1, 0] }),
      RangeError,
      /'labels' has shape \[2\], its first dim should be the sample count 1/,
    ],
    [() => loadDataset({ x: ["a"] }), TypeError, /value 0 of JSON array 'x' is "a"/],
    [
      () => loadDataset({ x: { shape: [2], data: [1] } }),
      RangeError,
      /has 1 values, shape \[2\] needs 2/,
    ],
    [
      () => loadDataset({ x: { dtype: "complex64", shape: [1], data: [1] } } as never),
      TypeError,
      /unknown dtype/,
    ],
    [() => loadDataset({ labels: [1] }), TypeError, /no input arrays/],
    [
      () => loadDataset("mnist", { preprocess: { multiply: NaN } }),
      RangeError,
      /preprocess.multiply/,
    ],
    [
      () => loadDataset("mnist", { preprocess: { sampleShape: [0] } }),
      RangeError,
      /preprocess.sampleShape/,
    ],
  ];
  for (const [run, Class, pattern] of cases) {
    await assert.rejects(run(), (e: unknown) => {
      assert.ok(e instanceof Class, `${e} should be a ${Class.name}`);
      assert.match((e as Error).message, /^Cannot load dataset: /);
      assert.match((e as Error).message, pattern);
      return true;
    });
  }
});
